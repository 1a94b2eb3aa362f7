//! The stable codes an apply reports: why it skipped a version ([`SkipReason`]) and why it
//! could not run at all ([`ApplyErrorKind`]). Each is one table below: a variant, its code and
//! its meaning, written once.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ErrorKind;

/// Writes a vocabulary from its table: the enum, `ALL` (in the table's order), `as_str`,
/// `from_code`, `description` (the variant's doc comment), `Display` and serde as the code.
/// Values are ordered by their code, so that maps keyed by them list as maps keyed by the
/// strings did.
macro_rules! codes {
    (
        $(#[$enum_meta:meta])*
        pub enum $name:ident ($expecting:literal) {
            $( $(#[doc = $doc:literal])+ $variant:ident => $code:expr; )+
        }
    ) => {
        $(#[$enum_meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[doc = $doc])+ $variant, )+
        }

        impl $name {
            /// Every value, in the order of the table.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code, as journals and `--json` output carry it.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The value whose code is `code`, if there is one.
            pub fn from_code(code: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|value| value.as_str() == code)
            }

            /// One sentence saying when it is given (its doc comment).
            pub fn description(self) -> &'static str {
                match self { $($name::$variant => concat!($($doc),+).trim_ascii(),)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                $name::from_code(&code).ok_or_else(|| {
                    serde::de::Error::custom(format_args!(
                        concat!("unknown ", $expecting, " `{}`"),
                        code
                    ))
                })
            }
        }
    };
}

/// For the other vocabularies of the crate written the same way (`outcome::NotDoneReason`).
pub(crate) use codes;

codes! {
    /// Why an apply did not delete a planned version: it changed since the plan, or deleting it
    /// now could break what uses it. A rerun of the same plan looks at it again.
    pub enum SkipReason ("skip reason") {
        /// It is no longer listed, and this journal never sent its DELETE: someone else deleted
        /// it after the plan was made. Not counted, journaled or restored as this run's.
        GoneBeforeApply => "gone-before-apply";
        /// It is no longer listed: what journals of format 1 wrote for `gone-before-apply`
        /// (read back from them, never written now).
        Gone => "gone";
        /// Its tags are not the ones it had when planned (a tag was added, moved or removed).
        TagsChanged => "tags-changed";
        /// It was updated since the plan (its name or update time differs).
        Changed => "changed";
        /// A planned parent of it (an index that lists it, a version it refers to) was not
        /// deleted, so it is still in use.
        ParentNotDeleted => "parent-not-deleted";
        /// A version pushed since the plan lists it, directly or through nested indexes; the
        /// detail names that version.
        NowInUse => "now-in-use";
        /// A version pushed since the plan could not be read or listed, so nothing more of the
        /// package is deleted; the detail says why.
        GraphUnreadable => "graph-unreadable";
        /// The package itself is gone (GitHub answered `404` when it was listed again).
        PackageGone => "package-gone";
        /// The package could not be listed again to check it, so nothing of it is deleted.
        ListingFailed => "listing-failed";
        /// Its DELETE was not sent: GitHub had refused the package's earlier deletes for want of
        /// permission, so the apply stopped sending them; the detail says what is missing. A
        /// rerun tries it again.
        NotAttempted => "not-attempted";
    }
}

codes! {
    /// The stable kind of an [`ApplyError`](super::ApplyError), for programs.
    pub enum ApplyErrorKind ("apply error kind") {
        /// The plan is over its deletion budget.
        OverBudget => "over-budget";
        /// The plan is for another host than the client's.
        WrongHost => "wrong-host";
        /// The plan names a package type GitHub does not know (the library's own kind).
        InvalidInput => ErrorKind::InvalidInput.as_str();
        /// The token's classic scopes do not cover deleting; nothing was sent (the library's
        /// own kind).
        MissingScopes => ErrorKind::MissingScopes.as_str();
        /// A plan of container images was applied without a registry to re-check it with.
        RegistryNeeded => "registry-needed";
        /// The journal cannot be read or written.
        Journal => "journal";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_reasons_are_unique_and_round_trip_through_json() {
        let mut seen = std::collections::BTreeSet::new();
        for &reason in SkipReason::ALL {
            assert!(seen.insert(reason.as_str()), "duplicate {reason}");
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{reason}\""));
            assert_eq!(serde_json::from_str::<SkipReason>(&json).unwrap(), reason);
            assert!(!reason.description().is_empty());
        }
        let error = serde_json::from_str::<SkipReason>("\"bored\"").unwrap_err();
        assert!(error.to_string().contains("unknown skip reason `bored`"));
    }

    #[test]
    fn apply_error_kinds_are_unique_and_invalid_input_is_the_librarys() {
        let mut seen = std::collections::BTreeSet::new();
        for &kind in ApplyErrorKind::ALL {
            assert!(seen.insert(kind.as_str()), "duplicate {kind}");
            assert_eq!(ApplyErrorKind::from_code(kind.as_str()), Some(kind));
        }
        assert_eq!(ApplyErrorKind::InvalidInput.as_str(), "invalid-input");
        assert_eq!(ApplyErrorKind::MissingScopes.as_str(), "missing-scopes");
    }

    #[test]
    fn values_are_ordered_by_code_as_maps_of_strings_were() {
        let mut reasons = SkipReason::ALL.to_vec();
        reasons.sort();
        let codes: Vec<&str> = reasons.iter().map(|r| r.as_str()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        assert_eq!(codes, sorted);
    }
}
