//! The retention rules and their validation.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::age::Age;
use crate::facts::VersionFacts;
use crate::image::is_digest;
use crate::pattern::TagPattern;

/// Which versions to delete. See the crate documentation for the exact semantics.
///
/// `Rules::default()` deletes nothing and protects `latest`; [`Rules::validate`] refuses it
/// until a rule says which versions to delete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Keep this many of the newest selected versions, whatever their age.
    pub keep_newest: Option<usize>,
    /// What orders versions for `keep_newest` (a timestamp, or their names as versions) and
    /// which timestamp dates them for `older_than`.
    pub order_by: OrderBy,
    /// Delete selected versions only when they are older than this.
    pub older_than: Option<Age>,
    /// Select tagged versions whose every tag matches one of these.
    pub include_tags: Vec<TagPattern>,
    /// Never select a version with a tag that matches one of these.
    pub exclude_tags: Vec<TagPattern>,
    /// Tagged versions, untagged versions, or both. When not given: `tagged` if
    /// `include_tags` is given, `both` otherwise.
    pub tag_selection: Option<TagSelection>,
    /// Never delete a version with a tag that matches one of these. Default: `["latest"]`.
    pub protected_tags: Vec<TagPattern>,
    /// Never delete these versions: decimal version ids, or version names (digests
    /// `sha256:<64 hex>` for images, version strings for other package types).
    pub protected_versions: Vec<String>,
    /// Also delete orphans: untagged roots whose subject is not in the package.
    pub orphans: bool,
    /// Select only versions whose name matches one of these (globs, or `re:` regexes, matched
    /// against the whole name: the version string, or the digest of an image).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub version_match: Vec<TagPattern>,
    /// Never select a version whose name matches one of these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclude_versions: Vec<TagPattern>,
    /// Select only pre-releases, by the package type's own version rules (npm semver, Maven,
    /// NuGet, RubyGems; for images, their greatest semver tag). Names that are not versions
    /// are never selected.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub prerelease_only: bool,
    /// Keep the N greatest versions of each major version (by the package type's version
    /// order). Names that are not versions are never selected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_per_major: Option<usize>,
    /// Keep the N greatest versions of each minor version (`1.2.*`), as `keep_per_major`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_per_minor: Option<usize>,
    /// Refuse the plan when it deletes more versions than this in all.
    pub max_deletions: Option<usize>,
    /// Refuse the plan when it deletes more than this percentage of a package's versions.
    pub max_percent: Option<f64>,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            keep_newest: None,
            order_by: OrderBy::default(),
            older_than: None,
            include_tags: Vec::new(),
            exclude_tags: Vec::new(),
            tag_selection: None,
            protected_tags: vec![TagPattern::parse("latest").expect("`latest` is a valid glob")],
            protected_versions: Vec::new(),
            orphans: false,
            version_match: Vec::new(),
            exclude_versions: Vec::new(),
            prerelease_only: false,
            keep_per_major: None,
            keep_per_minor: None,
            max_deletions: None,
            max_percent: None,
        }
    }
}

/// The timestamp that orders and dates versions.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OrderBy {
    /// `created_at`.
    #[default]
    CreatedAt,
    /// `updated_at`.
    UpdatedAt,
    /// The version name in the ecosystem's ordering (an image's greatest version tag), greatest
    /// first; ties and ages by `created_at`. A name that is not a version is never ranked:
    /// `keep_newest` and `older_than` do not select it.
    Version,
}

impl OrderBy {
    /// The timestamp that dates versions, in words, as plans say it: `created` or `updated`.
    pub fn word(self) -> &'static str {
        match self {
            OrderBy::CreatedAt | OrderBy::Version => "created",
            OrderBy::UpdatedAt => "updated",
        }
    }

    /// Whether versions rank by their names as versions rather than by a timestamp.
    pub fn ranks_by_version(self) -> bool {
        self == OrderBy::Version
    }

    pub(crate) fn timestamp(self, version: &VersionFacts) -> chrono::DateTime<chrono::Utc> {
        match self {
            OrderBy::CreatedAt | OrderBy::Version => version.created_at,
            OrderBy::UpdatedAt => version.updated_at,
        }
    }
}

/// Which tag state the rules select. Cosign and referrer tags (`sha256-<hex>.sig`, ...) do not
/// make a version tagged.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum TagSelection {
    /// Only versions with at least one tag.
    Tagged,
    /// Only versions without tags.
    Untagged,
    /// Both.
    Both,
}

impl Rules {
    /// The tag selection that applies: the one given, else `tagged` when `include_tags` is
    /// given (so `include: pr-*` never deletes untagged versions), else `both`.
    pub fn effective_tag_selection(&self) -> TagSelection {
        self.tag_selection
            .unwrap_or(if self.include_tags.is_empty() {
                TagSelection::Both
            } else {
                TagSelection::Tagged
            })
    }

    /// Whether a rule other than `orphans` selects versions: without one, only orphans are
    /// deleted.
    pub(crate) fn selects_beyond_orphans(&self) -> bool {
        self.keep_newest.is_some()
            || self.older_than.is_some()
            || !self.include_tags.is_empty()
            || self.tag_selection.is_some()
            || !self.version_match.is_empty()
            || self.prerelease_only
            || self.keep_per_line()
    }

    /// Whether `keep_per_major` or `keep_per_minor` is given.
    pub(crate) fn keep_per_line(&self) -> bool {
        self.keep_per_major.is_some() || self.keep_per_minor.is_some()
    }

    /// Whether a rule needs the versions' names read as versions.
    pub(crate) fn reads_versions(&self) -> bool {
        self.prerelease_only || self.keep_per_line() || self.order_by.ranks_by_version()
    }

    /// Refuses rule sets that select nothing by design or contradict themselves.
    ///
    /// - At least one of `keep_newest`, `older_than`, `include_tags`, `tag_selection`,
    ///   `version_match`, `prerelease_only`, `keep_per_major`, `keep_per_minor` or `orphans`
    ///   must be given ("say which versions to delete"). `exclude_tags`, `exclude_versions`,
    ///   `protected_*` and budgets only narrow a selection.
    /// - The same pattern in `version_match` and `exclude_versions`.
    /// - `tag_selection: untagged` with `include_tags` or `exclude_tags` (those look at tags).
    /// - The same pattern in `include_tags` and in `exclude_tags` or `protected_tags`.
    /// - A `protected_versions` entry that is empty, `0`, padded with spaces, or a truncated
    ///   digest (`sha256:` without 64 hex digits).
    /// - A `max_percent` that is not a number in (0, 100].
    pub fn validate(&self) -> Result<(), RulesError> {
        if !self.selects_beyond_orphans() && !self.orphans {
            return Err(RulesError::NothingSelected);
        }
        if self.tag_selection == Some(TagSelection::Untagged) {
            if let Some(pattern) = self.include_tags.first() {
                return Err(RulesError::TagPatternsWithUntagged {
                    rule: "include_tags",
                    pattern: pattern.to_string(),
                });
            }
            if let Some(pattern) = self.exclude_tags.first() {
                return Err(RulesError::TagPatternsWithUntagged {
                    rule: "exclude_tags",
                    pattern: pattern.to_string(),
                });
            }
        }
        for pattern in &self.include_tags {
            if self.exclude_tags.contains(pattern) {
                return Err(RulesError::IncludedAndExcluded {
                    pattern: pattern.to_string(),
                });
            }
            if self.protected_tags.contains(pattern) {
                return Err(RulesError::IncludedAndProtected {
                    pattern: pattern.to_string(),
                });
            }
        }
        if let Some(pattern) = self
            .version_match
            .iter()
            .find(|pattern| self.exclude_versions.contains(pattern))
        {
            return Err(RulesError::VersionIncludedAndExcluded {
                pattern: pattern.to_string(),
            });
        }
        for value in &self.protected_versions {
            if let Some(problem) = protected_version_problem(value) {
                return Err(RulesError::BadProtectedVersion {
                    value: value.clone(),
                    problem,
                });
            }
        }
        if let Some(percent) = self.max_percent
            && !(percent > 0.0 && percent <= 100.0)
        {
            return Err(RulesError::BadMaxPercent { value: percent });
        }
        Ok(())
    }

    /// The `protected_versions` entry that protects `version`, if any.
    pub(crate) fn protecting_entry(&self, version: &VersionFacts) -> Option<&str> {
        self.protected_versions
            .iter()
            .find(|entry| protects(entry, version))
            .map(String::as_str)
    }
}

/// Whether a `protected_versions` entry names `version`: a decimal entry is an id, any other
/// entry is a name.
pub(crate) fn protects(entry: &str, version: &VersionFacts) -> bool {
    match entry.parse::<u64>() {
        Ok(id) if entry.bytes().all(|b| b.is_ascii_digit()) => id == version.id,
        _ => entry == version.name,
    }
}

fn protected_version_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        return Some("it is empty");
    }
    if value.trim() != value {
        return Some("it has spaces around it");
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return match value.parse::<u64>() {
            Ok(0) => Some("version ids are never 0"),
            Ok(_) => None,
            Err(_) => Some("it is too large to be a version id"),
        };
    }
    let looks_like_digest = value.starts_with("sha256:") || value.starts_with("sha512:");
    if looks_like_digest && !is_digest(value) {
        return Some("a digest needs all its lowercase hex digits (64 for sha256); copy it whole");
    }
    None
}

/// A rule set that cannot be planned with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RulesError {
    /// No rule says which versions to delete.
    #[error(
        "say which versions to delete: give keep_newest, older_than, include_tags, tag_selection, version_match, prerelease_only, keep_per_major, keep_per_minor or orphans"
    )]
    NothingSelected,
    /// The same pattern selects and excludes version names.
    #[error(
        "pattern `{pattern}` is in both version_match and exclude_versions, so it selects nothing: keep it in one"
    )]
    VersionIncludedAndExcluded {
        /// The pattern.
        pattern: String,
    },
    /// Tag patterns together with `tag_selection: untagged`, where they could never match.
    #[error(
        "{rule} pattern `{pattern}` looks at tags, but tag_selection is untagged: drop the pattern or select tagged versions"
    )]
    TagPatternsWithUntagged {
        /// `include_tags` or `exclude_tags`.
        rule: &'static str,
        /// The first such pattern.
        pattern: String,
    },
    /// The same pattern includes and excludes.
    #[error(
        "pattern `{pattern}` is in both include_tags and exclude_tags, so it selects nothing: keep it in one"
    )]
    IncludedAndExcluded {
        /// The pattern.
        pattern: String,
    },
    /// The same pattern includes and protects.
    #[error(
        "pattern `{pattern}` is in both include_tags and protected_tags, so it selects nothing: drop it from one (protected_tags defaults to `latest`)"
    )]
    IncludedAndProtected {
        /// The pattern.
        pattern: String,
    },
    /// A `protected_versions` entry that cannot protect what it seems to name.
    #[error(
        "protected version `{value}`: {problem}; give a version id (`12345`) or a whole digest (`sha256:<64 hex>`)"
    )]
    BadProtectedVersion {
        /// The entry.
        value: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// `max_percent` outside (0, 100].
    #[error("max_percent {value} is not a percentage above 0 and at most 100")]
    BadMaxPercent {
        /// The value given.
        value: f64,
    },
}

impl RulesError {
    /// The key the error is about, when it is about one.
    pub fn key(&self) -> Option<&'static str> {
        match self {
            RulesError::NothingSelected => None,
            RulesError::TagPatternsWithUntagged { rule, .. } => Some(rule),
            RulesError::IncludedAndExcluded { .. } => Some("exclude_tags"),
            RulesError::VersionIncludedAndExcluded { .. } => Some("exclude_versions"),
            RulesError::IncludedAndProtected { .. } => Some("include_tags"),
            RulesError::BadProtectedVersion { .. } => Some("protected_versions"),
            RulesError::BadMaxPercent { .. } => Some("max_percent"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> TagPattern {
        TagPattern::parse(text).unwrap()
    }

    fn with(change: impl FnOnce(&mut Rules)) -> Rules {
        let mut rules = Rules::default();
        change(&mut rules);
        rules
    }

    #[test]
    fn default_rules_protect_latest_and_select_nothing() {
        let rules = Rules::default();
        assert_eq!(rules.protected_tags, vec![pattern("latest")]);
        assert_eq!(rules.validate(), Err(RulesError::NothingSelected));
        assert!(
            RulesError::NothingSelected
                .to_string()
                .starts_with("say which versions to delete")
        );
    }

    #[test]
    fn any_one_selecting_rule_is_enough() {
        let selecting: [fn(&mut Rules); 5] = [
            |r| r.keep_newest = Some(3),
            |r| r.older_than = Some(Age::parse("30d").unwrap()),
            |r| r.include_tags = vec![TagPattern::parse("pr-*").unwrap()],
            |r| r.tag_selection = Some(TagSelection::Untagged),
            |r| r.orphans = true,
        ];
        for change in selecting {
            assert_eq!(with(change).validate(), Ok(()));
        }
        let narrowing_only = with(|r| r.exclude_tags = vec![pattern("v*")]);
        assert_eq!(narrowing_only.validate(), Err(RulesError::NothingSelected));
    }

    #[test]
    fn include_patterns_default_the_selection_to_tagged() {
        assert_eq!(
            Rules::default().effective_tag_selection(),
            TagSelection::Both
        );
        let include = with(|r| r.include_tags = vec![pattern("pr-*")]);
        assert_eq!(include.effective_tag_selection(), TagSelection::Tagged);
        let explicit = with(|r| {
            r.include_tags = vec![pattern("pr-*")];
            r.tag_selection = Some(TagSelection::Both);
        });
        assert_eq!(explicit.effective_tag_selection(), TagSelection::Both);
    }

    #[test]
    fn contradictions_are_refused() {
        let untagged_include = with(|r| {
            r.tag_selection = Some(TagSelection::Untagged);
            r.include_tags = vec![pattern("pr-*")];
        });
        assert!(matches!(
            untagged_include.validate(),
            Err(RulesError::TagPatternsWithUntagged {
                rule: "include_tags",
                ..
            })
        ));
        let untagged_exclude = with(|r| {
            r.tag_selection = Some(TagSelection::Untagged);
            r.exclude_tags = vec![pattern("v*")];
        });
        assert!(matches!(
            untagged_exclude.validate(),
            Err(RulesError::TagPatternsWithUntagged {
                rule: "exclude_tags",
                ..
            })
        ));
        let both = with(|r| {
            r.include_tags = vec![pattern("pr-*")];
            r.exclude_tags = vec![pattern("pr-*")];
        });
        assert_eq!(
            both.validate(),
            Err(RulesError::IncludedAndExcluded {
                pattern: "pr-*".into()
            })
        );
        let protected = with(|r| r.include_tags = vec![pattern("latest")]);
        assert_eq!(
            protected.validate(),
            Err(RulesError::IncludedAndProtected {
                pattern: "latest".into()
            })
        );
    }

    #[test]
    fn protected_versions_must_name_something_whole() {
        for bad in ["", "0", " 12", "sha256:abc", "99999999999999999999999"] {
            let rules = with(|r| {
                r.orphans = true;
                r.protected_versions = vec![bad.to_owned()];
            });
            assert!(
                matches!(
                    rules.validate(),
                    Err(RulesError::BadProtectedVersion { .. })
                ),
                "{bad:?}"
            );
        }
        let good = with(|r| {
            r.orphans = true;
            r.protected_versions = vec![
                "12".into(),
                format!("sha256:{}", "a".repeat(64)),
                "1.2.3".into(),
            ];
        });
        assert_eq!(good.validate(), Ok(()));
    }

    #[test]
    fn max_percent_must_be_a_percentage() {
        for bad in [0.0, -1.0, 100.5, f64::NAN, f64::INFINITY] {
            let rules = with(|r| {
                r.orphans = true;
                r.max_percent = Some(bad);
            });
            assert!(
                matches!(rules.validate(), Err(RulesError::BadMaxPercent { .. })),
                "{bad}"
            );
        }
        assert_eq!(
            with(|r| {
                r.orphans = true;
                r.max_percent = Some(100.0);
            })
            .validate(),
            Ok(())
        );
    }

    #[test]
    fn decimal_entries_are_ids_and_others_are_names() {
        let version = VersionFacts {
            id: 42,
            name: "1.0.0".into(),
            tags: vec![],
            created_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        };
        assert!(protects("42", &version));
        assert!(protects("1.0.0", &version));
        assert!(!protects("4", &version));
        assert!(!protects("+42", &version));
    }

    #[test]
    fn rules_round_trip_through_json_and_refuse_unknown_fields() {
        let rules = with(|r| {
            r.keep_newest = Some(2);
            r.older_than = Some(Age::parse("30d").unwrap());
            r.include_tags = vec![pattern("re:pr-\\d+")];
        });
        let json = serde_json::to_string(&rules).unwrap();
        assert_eq!(serde_json::from_str::<Rules>(&json).unwrap(), rules);
        let defaults: Rules = serde_json::from_str("{}").unwrap();
        assert_eq!(defaults, Rules::default());
        let typo = serde_json::from_str::<Rules>(r#"{"keep_newst": 3}"#).unwrap_err();
        assert!(typo.to_string().contains("keep_newst"), "{typo}");
    }
}
