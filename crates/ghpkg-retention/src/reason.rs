//! The one table of decisions and reason codes.

use std::fmt;

use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{InstanceType, Metadata, Schema, SchemaObject};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What the plan does with a version.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The version stays.
    Keep,
    /// The version is deleted when the plan is applied.
    Delete,
}

impl Decision {
    /// `"keep"` or `"delete"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Decision::Keep => "keep",
            Decision::Delete => "delete",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Writes the enum, its `ALL` list, `as_str`, `decision` and `description` from one table, so a
/// code, its decision and its meaning are written exactly once.
macro_rules! reason_codes {
    (
        $(#[$enum_meta:meta])*
        pub enum ReasonCode {
            $( $(#[doc = $doc:literal])+ $variant:ident => $code:literal, $decision:ident; )+
        }
    ) => {
        $(#[$enum_meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum ReasonCode {
            $( $(#[doc = $doc])+ $variant, )+
        }

        impl ReasonCode {
            /// Every code, keep codes first, in the order of the table.
            pub const ALL: &'static [ReasonCode] = &[$(ReasonCode::$variant),+];

            /// The stable code, e.g. `"keep:newest-n"`; this is what the plan's JSON contains.
            pub const fn as_str(self) -> &'static str {
                match self { $(ReasonCode::$variant => $code,)+ }
            }

            /// Whether the code keeps or deletes (the part before the colon).
            pub const fn decision(self) -> Decision {
                match self { $(ReasonCode::$variant => Decision::$decision,)+ }
            }

            /// One sentence saying when the code is given (its doc comment).
            pub const fn description(self) -> &'static str {
                match self { $(ReasonCode::$variant => concat!($($doc),+).trim_ascii(),)+ }
            }
        }
    };
}

reason_codes! {
    /// Why a version is kept or deleted: a stable code, serialized as its string.
    ///
    /// | code | meaning |
    /// |---|---|
    /// | `keep:protected-version` | Its id or digest is listed in `protected_versions`. |
    /// | `keep:protected-tag` | One of its tags matches `protected_tags`. |
    /// | `keep:kept-by-rule` | A keep rule of the policy selects it; keep wins over delete. |
    /// | `keep:not-selected` | The rules do not select it: wrong tag state, no tag matches `include_tags`, no `version_match` matches its name, its name is not a version where a version rule needs one, or only orphans are selected. |
    /// | `keep:excluded-tag` | One of its tags matches `exclude_tags`. |
    /// | `keep:excluded-version` | Its name matches `exclude_versions`. |
    /// | `keep:partial-tag-match` | Some of its tags are selected and some are not; a version is deleted only when all its tags are. |
    /// | `keep:newest-n` | It is one of the `keep_newest` newest selected versions. |
    /// | `keep:newest-per-major` | It is one of the `keep_per_major` greatest selected versions of its major version. |
    /// | `keep:newest-per-minor` | It is one of the `keep_per_minor` greatest selected versions of its minor version. |
    /// | `keep:too-new` | It is selected but not older than `older_than`. |
    /// | `keep:child-of-kept` | A kept index lists it. |
    /// | `keep:referrer-of-kept` | It refers to a kept version (signature, attestation, SBOM, referrer). |
    /// | `keep:github-refuses-last-tagged` | Deleting it would leave the container package without a tagged version, which GitHub refuses. |
    /// | `keep:github-refuses-last-version` | Deleting it would leave the package without a version, which GitHub refuses. |
    /// | `keep:unreadable-graph` | The rules would delete it, but the package's image graph cannot be trusted (a manifest that could not be read or was not read, a kept index's entry the registry does not have, or a cycle), so nothing in the package is deleted. |
    /// | `keep:incomplete-listing` | The rules would delete it, but the package's versions changed while they were listed, so the listing may have missed some and nothing in the package is deleted. |
    /// | `keep:graph-not-read` | The rules would delete it, but it is a container package whose manifests were not read, so nothing in it is deleted. |
    /// | `delete:older-than` | It is selected, beyond `keep_newest`, and older than `older_than`. |
    /// | `delete:beyond-newest-n` | It is selected and not one of the `keep_newest` newest, nor of the `keep_per_major` or `keep_per_minor` greatest of its line (no age rule). |
    /// | `delete:tag-match` | It is tagged and every tag is selected (no keep or age rule). |
    /// | `delete:untagged` | It is untagged and untagged versions are selected (no keep or age rule). |
    /// | `delete:orphan` | It is an orphan and `orphans` is on. |
    /// | `delete:child-of-deleted` | Every index that lists it is deleted. |
    /// | `delete:referrer-of-deleted` | Every version it refers to is deleted. |
    pub enum ReasonCode {
        /// Its id or digest is listed in `protected_versions`.
        ProtectedVersion => "keep:protected-version", Keep;
        /// One of its tags matches `protected_tags`.
        ProtectedTag => "keep:protected-tag", Keep;
        /// A keep rule of the policy selects it; keep wins over delete.
        KeptByRule => "keep:kept-by-rule", Keep;
        /// The rules do not select it: wrong tag state, no tag matches `include_tags`, no
        /// `version_match` matches its name, its name is not a version where a version rule
        /// needs one, or only orphans are selected.
        NotSelected => "keep:not-selected", Keep;
        /// One of its tags matches `exclude_tags`.
        ExcludedTag => "keep:excluded-tag", Keep;
        /// Its name matches `exclude_versions`.
        ExcludedVersion => "keep:excluded-version", Keep;
        /// Some of its tags are selected and some are not; a version is deleted only when all its
        /// tags are.
        PartialTagMatch => "keep:partial-tag-match", Keep;
        /// It is one of the `keep_newest` newest selected versions.
        NewestN => "keep:newest-n", Keep;
        /// It is one of the `keep_per_major` greatest selected versions of its major version.
        NewestPerMajor => "keep:newest-per-major", Keep;
        /// It is one of the `keep_per_minor` greatest selected versions of its minor version.
        NewestPerMinor => "keep:newest-per-minor", Keep;
        /// It is selected but not older than `older_than`.
        TooNew => "keep:too-new", Keep;
        /// A kept index lists it.
        ChildOfKept => "keep:child-of-kept", Keep;
        /// It refers to a kept version (signature, attestation, SBOM, referrer).
        ReferrerOfKept => "keep:referrer-of-kept", Keep;
        /// Deleting it would leave the container package without a tagged version, which GitHub
        /// refuses.
        GithubRefusesLastTagged => "keep:github-refuses-last-tagged", Keep;
        /// Deleting it would leave the package without a version, which GitHub refuses.
        GithubRefusesLastVersion => "keep:github-refuses-last-version", Keep;
        /// The rules would delete it, but the package's image graph cannot be trusted (a manifest
        /// that could not be read or was not read, a kept index's entry the registry does not
        /// have, or a cycle), so nothing in the package is deleted.
        UnreadableGraph => "keep:unreadable-graph", Keep;
        /// The rules would delete it, but the package's versions changed while they were listed,
        /// so the listing may have missed some and nothing in the package is deleted.
        IncompleteListing => "keep:incomplete-listing", Keep;
        /// The rules would delete it, but it is a container package whose manifests were not
        /// read, so nothing in it is deleted.
        GraphNotRead => "keep:graph-not-read", Keep;
        /// It is selected, beyond `keep_newest`, and older than `older_than`.
        OlderThan => "delete:older-than", Delete;
        /// It is selected and not one of the `keep_newest` newest, nor of the `keep_per_major`
        /// or `keep_per_minor` greatest of its line (no age rule).
        BeyondNewestN => "delete:beyond-newest-n", Delete;
        /// It is tagged and every tag is selected (no keep or age rule).
        TagMatch => "delete:tag-match", Delete;
        /// It is untagged and untagged versions are selected (no keep or age rule).
        Untagged => "delete:untagged", Delete;
        /// It is an orphan and `orphans` is on.
        Orphan => "delete:orphan", Delete;
        /// Every index that lists it is deleted.
        ChildOfDeleted => "delete:child-of-deleted", Delete;
        /// Every version it refers to is deleted.
        ReferrerOfDeleted => "delete:referrer-of-deleted", Delete;
    }
}

impl ReasonCode {
    /// The code whose string is `code`, if there is one.
    pub fn from_code(code: &str) -> Option<ReasonCode> {
        ReasonCode::ALL.iter().copied().find(|c| c.as_str() == code)
    }

    /// Whether the version follows its parents in the image graph rather than the rules.
    pub(crate) const fn follows_parents(self) -> bool {
        matches!(
            self,
            ReasonCode::ChildOfKept
                | ReasonCode::ReferrerOfKept
                | ReasonCode::ChildOfDeleted
                | ReasonCode::ReferrerOfDeleted
        )
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ReasonCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ReasonCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CodeVisitor;
        impl serde::de::Visitor<'_> for CodeVisitor {
            type Value = ReasonCode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a reason code such as `keep:newest-n`")
            }
            fn visit_str<E: serde::de::Error>(self, code: &str) -> Result<ReasonCode, E> {
                ReasonCode::from_code(code)
                    .ok_or_else(|| E::custom(format_args!("unknown reason code `{code}`")))
            }
        }
        deserializer.deserialize_str(CodeVisitor)
    }
}

impl JsonSchema for ReasonCode {
    fn schema_name() -> String {
        "ReasonCode".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let table: String = ReasonCode::ALL
            .iter()
            .map(|code| format!("\n- `{}`: {}", code.as_str(), code.description()))
            .collect();
        SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            enum_values: Some(ReasonCode::ALL.iter().map(|c| c.as_str().into()).collect()),
            metadata: Some(Box::new(Metadata {
                description: Some(format!(
                    "Why a version is kept or deleted; the part before the colon is the decision.{table}"
                )),
                ..Metadata::default()
            })),
            ..SchemaObject::default()
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_starts_with_its_decision() {
        for code in ReasonCode::ALL {
            let (prefix, rest) = code.as_str().split_once(':').expect("a colon");
            assert_eq!(prefix, code.decision().as_str(), "{code}");
            assert!(!rest.is_empty());
        }
    }

    #[test]
    fn codes_are_unique_and_round_trip_through_json() {
        let mut seen = std::collections::BTreeSet::new();
        for &code in ReasonCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ReasonCode>(&json).unwrap(), code);
            assert_eq!(ReasonCode::from_code(code.as_str()), Some(code));
        }
    }

    #[test]
    fn unknown_code_is_refused_by_name() {
        let error = serde_json::from_str::<ReasonCode>("\"keep:because\"").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("unknown reason code `keep:because`")
        );
    }

    #[test]
    fn the_doc_table_lists_every_code_with_its_description() {
        let source = include_str!("reason.rs");
        for code in ReasonCode::ALL {
            let row = format!("/// | `{}` | {} |", code.as_str(), code.description());
            assert!(source.contains(&row), "the table lacks the row {row}");
        }
    }
}
