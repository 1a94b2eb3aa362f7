//! A retention policy: named rules for one owner, each selecting packages and versions and
//! saying keep or delete. Keep wins over delete; protections and the image graph apply to all.
//!
//! ```
//! use ghpkg_retention::{Policy, RuleAction};
//!
//! let policy: Policy = serde_json::from_str(r#"{
//!     "rules": [
//!         {"name": "old pull-request images", "action": "delete", "type": "container",
//!          "include_tags": ["pr-*"], "older_than": "7d"},
//!         {"name": "releases", "action": "keep", "type": "container", "include_tags": ["v*"]}
//!     ]
//! }"#).unwrap();
//! policy.validate()?;
//! assert_eq!(policy.rules[1].action, RuleAction::Keep);
//! # Ok::<(), ghpkg_retention::PolicyError>(())
//! ```

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::age::Age;
use crate::pattern::TagPattern;
use crate::rules::{OrderBy, Rules, RulesError, TagSelection};

/// GitHub's package types, as a policy rule's `type` names them. (The library's
/// `PackageType::KNOWN` is generated from GitHub's spec; a test keeps the two equal.)
pub const PACKAGE_TYPES: &[&str] = &["npm", "maven", "rubygems", "docker", "nuget", "container"];

/// The most rules a policy may have: each rule decides every version of the packages it
/// selects, so planning costs grow with their number.
pub const MAX_RULES: usize = 256;

/// Rules for the packages of one owner.
///
/// Each rule selects packages (`type`, `packages`, `exclude_packages`) and, in them, versions
/// (the same selection as [`Rules`]), and keeps or deletes what it selects. A version is
/// deleted when a delete rule deletes it and no keep rule keeps it: **keep always wins**.
/// `protected_tags` and `protected_versions` apply to every rule, and the image graph to all of
/// it (a kept image keeps its children and signatures).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Never delete a version with a tag that matches one of these, whatever a rule says.
    /// Default: `["latest"]`.
    pub protected_tags: Vec<TagPattern>,
    /// Never delete these versions, whatever a rule says: decimal version ids, or version names
    /// (digests `sha256:<64 hex>` for images, version strings for other package types).
    pub protected_versions: Vec<String>,
    /// Refuse the plan when it deletes more versions than this in all.
    pub max_deletions: Option<usize>,
    /// Refuse the plan when it deletes more than this percentage of a package's versions.
    pub max_percent: Option<f64>,
    /// The rules, in the order their names are reported when several decide alike.
    pub rules: Vec<PolicyRule>,
}

impl Default for Policy {
    fn default() -> Policy {
        let defaults = Rules::default();
        Policy {
            protected_tags: defaults.protected_tags,
            protected_versions: Vec::new(),
            max_deletions: None,
            max_percent: None,
            rules: Vec::new(),
        }
    }
}

/// What a rule does with the versions it selects.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RuleAction {
    /// Keep them, whatever a delete rule says.
    Keep,
    /// Delete them, unless a keep rule, a protection or the image graph keeps them.
    Delete,
}

impl RuleAction {
    /// `"keep"` or `"delete"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RuleAction::Keep => "keep",
            RuleAction::Delete => "delete",
        }
    }
}

/// One named rule of a [`Policy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyRule {
    /// The rule's name: every decision it makes names it.
    pub name: String,
    /// Keep or delete what the rule selects.
    pub action: RuleAction,
    /// GitHub's package type: `container`, `docker`, `npm`, `maven`, `nuget` or `rubygems`.
    #[serde(rename = "type")]
    pub package_type: String,
    /// Select packages whose name matches one of these (globs, or `re:` regexes, matched
    /// against the whole name). Default: every package of the type.
    #[serde(default)]
    pub packages: Vec<TagPattern>,
    /// Never select packages whose name matches one of these.
    #[serde(default)]
    pub exclude_packages: Vec<TagPattern>,
    /// Tagged versions, untagged versions, or both. When not given: `tagged` if `include_tags`
    /// is given, `both` otherwise.
    #[serde(default)]
    pub tag_selection: Option<TagSelection>,
    /// Select tagged versions whose every tag matches one of these.
    #[serde(default)]
    pub include_tags: Vec<TagPattern>,
    /// Never select a version with a tag that matches one of these.
    #[serde(default)]
    pub exclude_tags: Vec<TagPattern>,
    /// A delete rule spares the N newest versions it selects; a keep rule keeps them.
    #[serde(default)]
    pub keep_newest: Option<usize>,
    /// Delete rules only: delete selected versions only when they are older than this.
    #[serde(default)]
    pub older_than: Option<Age>,
    /// Keep rules only: keep selected versions newer than this (with `keep_newest`, the
    /// versions either keeps).
    #[serde(default)]
    pub newer_than: Option<Age>,
    /// Which timestamp orders versions for `keep_newest` and dates them for the ages.
    #[serde(default)]
    pub order_by: OrderBy,
    /// Delete rules only: also delete orphans (untagged images whose subject is gone).
    #[serde(default)]
    pub orphans: bool,
    /// Select only versions whose name matches one of these (globs, or `re:` regexes).
    #[serde(default)]
    pub version_match: Vec<TagPattern>,
    /// Never select a version whose name matches one of these.
    #[serde(default)]
    pub exclude_versions: Vec<TagPattern>,
    /// Select only pre-releases, by the package type's version rules (for images, their
    /// greatest semver tag). Names that are not versions are never selected.
    #[serde(default)]
    pub prerelease_only: bool,
    /// A delete rule spares the N greatest versions of each major version; a keep rule keeps
    /// them. Names that are not versions are never selected.
    #[serde(default)]
    pub keep_per_major: Option<usize>,
    /// As `keep_per_major`, for each minor version (`1.2.*`).
    #[serde(default)]
    pub keep_per_minor: Option<usize>,
}

impl PolicyRule {
    /// A rule `name` that keeps or deletes (`action`) every version of every package of
    /// `package_type`, to narrow with its fields:
    ///
    /// ```
    /// use ghpkg_retention::{PolicyRule, RuleAction};
    /// let rule = PolicyRule {
    ///     keep_newest: Some(5),
    ///     ..PolicyRule::new("npm releases", RuleAction::Delete, "npm")
    /// };
    /// assert!(rule.selects_package("npm", "web"));
    /// ```
    pub fn new(
        name: impl Into<String>,
        action: RuleAction,
        package_type: impl Into<String>,
    ) -> Self {
        PolicyRule {
            name: name.into(),
            action,
            package_type: package_type.into(),
            packages: Vec::new(),
            exclude_packages: Vec::new(),
            tag_selection: None,
            include_tags: Vec::new(),
            exclude_tags: Vec::new(),
            keep_newest: None,
            older_than: None,
            newer_than: None,
            order_by: Default::default(),
            orphans: false,
            version_match: Vec::new(),
            exclude_versions: Vec::new(),
            prerelease_only: false,
            keep_per_major: None,
            keep_per_minor: None,
        }
    }

    /// Whether the rule selects the package `name` of type `package_type`.
    pub fn selects_package(&self, package_type: &str, name: &str) -> bool {
        self.package_type.eq_ignore_ascii_case(package_type)
            && (self.packages.is_empty() || self.packages.iter().any(|p| p.is_match(name)))
            && !self.exclude_packages.iter().any(|p| p.is_match(name))
    }

    /// The rule's version selection as [`Rules`], with the policy's protections. A keep rule's
    /// `newer_than` is carried as `older_than`: the engine keeps what is not older.
    pub(crate) fn rules(&self, policy: &Policy) -> Rules {
        Rules {
            keep_newest: self.keep_newest,
            order_by: self.order_by,
            older_than: self.older_than.clone().or_else(|| self.newer_than.clone()),
            include_tags: self.include_tags.clone(),
            exclude_tags: self.exclude_tags.clone(),
            tag_selection: self.tag_selection,
            protected_tags: policy.protected_tags.clone(),
            protected_versions: policy.protected_versions.clone(),
            orphans: self.orphans,
            version_match: self.version_match.clone(),
            exclude_versions: self.exclude_versions.clone(),
            prerelease_only: self.prerelease_only,
            keep_per_major: self.keep_per_major,
            keep_per_minor: self.keep_per_minor,
            max_deletions: None,
            max_percent: None,
        }
    }

    fn problem(&self) -> Option<RuleProblem> {
        if self.name.trim().is_empty() {
            return Some(RuleProblem::Unnamed);
        }
        if self.package_type.trim().is_empty() {
            return Some(RuleProblem::NoType);
        }
        if !PACKAGE_TYPES
            .iter()
            .any(|known| known.eq_ignore_ascii_case(&self.package_type))
        {
            return Some(RuleProblem::UnknownType {
                given: self.package_type.clone(),
            });
        }
        match self.action {
            RuleAction::Keep if self.older_than.is_some() => {
                return Some(RuleProblem::WrongAge {
                    key: "older_than",
                    action: RuleAction::Keep,
                    instead: "newer_than",
                });
            }
            RuleAction::Keep if self.orphans => return Some(RuleProblem::KeepOrphans),
            RuleAction::Delete if self.newer_than.is_some() => {
                return Some(RuleProblem::WrongAge {
                    key: "newer_than",
                    action: RuleAction::Delete,
                    instead: "older_than",
                });
            }
            _ => {}
        }
        for pattern in &self.packages {
            if self.exclude_packages.contains(pattern) {
                return Some(RuleProblem::PackageIncludedAndExcluded {
                    pattern: pattern.to_string(),
                });
            }
        }
        if self.action == RuleAction::Keep
            && [self.keep_newest, self.keep_per_major, self.keep_per_minor].contains(&Some(0))
        {
            return Some(RuleProblem::KeepsNothing);
        }
        let mut rules = self.rules(&Policy::default());
        let keeps_everything = self.packages.is_empty()
            && self.exclude_packages.is_empty()
            && matches!(rules.tag_selection, None | Some(TagSelection::Both))
            && Rules {
                tag_selection: None,
                orphans: false,
                ..rules.clone()
            } == Rules {
                protected_tags: rules.protected_tags.clone(),
                order_by: rules.order_by,
                ..Rules::default()
            };
        if self.action == RuleAction::Keep && keeps_everything {
            return Some(RuleProblem::KeepsEverything {
                package_type: self.package_type.clone(),
            });
        }
        if self.action == RuleAction::Keep {
            // A keep rule may select by tags alone: it keeps all it selects.
            rules.tag_selection = Some(rules.effective_tag_selection());
        }
        rules.validate().err().map(RuleProblem::Versions)
    }
}

impl Policy {
    /// The policy of one delete rule that says what `rules` say, for packages of
    /// `package_type`: the flags of `prune` are this policy.
    pub fn of_rules(rules: &Rules, package_type: &str) -> Policy {
        Policy {
            protected_tags: rules.protected_tags.clone(),
            protected_versions: rules.protected_versions.clone(),
            max_deletions: rules.max_deletions,
            max_percent: rules.max_percent,
            rules: vec![PolicyRule {
                tag_selection: rules.tag_selection,
                include_tags: rules.include_tags.clone(),
                exclude_tags: rules.exclude_tags.clone(),
                keep_newest: rules.keep_newest,
                older_than: rules.older_than.clone(),
                order_by: rules.order_by,
                orphans: rules.orphans,
                version_match: rules.version_match.clone(),
                exclude_versions: rules.exclude_versions.clone(),
                prerelease_only: rules.prerelease_only,
                keep_per_major: rules.keep_per_major,
                keep_per_minor: rules.keep_per_minor,
                ..PolicyRule::new("command line", RuleAction::Delete, package_type)
            }],
        }
    }

    /// The JSON Schema of a policy (committed as `crates/ghpkg-retention/policy.schema.json`),
    /// for editors: a TOML file that starts with `#:schema PATH` is checked as it is typed.
    pub fn json_schema() -> String {
        let schema = schemars::schema_for!(Policy);
        serde_json::to_string_pretty(&schema).expect("a schema always serializes")
    }

    /// The rules that apply everywhere: protections and budgets, and no selection.
    pub(crate) fn shared_rules(&self) -> Rules {
        Rules {
            protected_tags: self.protected_tags.clone(),
            protected_versions: self.protected_versions.clone(),
            max_deletions: self.max_deletions,
            max_percent: self.max_percent,
            ..Rules::default()
        }
    }

    /// The package types the rules select, sorted, lowercase.
    pub fn package_types(&self) -> BTreeSet<String> {
        self.rules
            .iter()
            .map(|rule| rule.package_type.to_ascii_lowercase())
            .collect()
    }

    /// Refuses a policy that cannot be planned with: no rules, two rules of one name, and each
    /// rule's own problems (an age that does not fit its action, a package pattern both
    /// selected and excluded, and what [`Rules::validate`] refuses).
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.rules.is_empty() {
            return Err(PolicyError::NoRules);
        }
        if self.rules.len() > MAX_RULES {
            return Err(PolicyError::TooManyRules {
                count: self.rules.len(),
            });
        }
        let mut names = BTreeSet::new();
        for (index, rule) in self.rules.iter().enumerate() {
            if !names.insert(rule.name.as_str()) {
                return Err(PolicyError::DuplicateName {
                    name: rule.name.clone(),
                });
            }
            if let Some(problem) = rule.problem() {
                return Err(PolicyError::Rule {
                    index,
                    name: rule.name.clone(),
                    problem,
                });
            }
        }
        let mut shared = self.shared_rules();
        shared.orphans = true; // only the protections and budgets are checked here
        shared.validate().map_err(PolicyError::Shared)
    }
}

/// A policy that cannot be planned with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    /// The policy has no rules.
    #[error("the policy has no rules: add a [[rules]] table with a name, an action and a type")]
    NoRules,
    /// More rules than [`MAX_RULES`].
    #[error(
        "the policy has {count} rules, more than the {MAX_RULES} a policy may have: merge rules"
    )]
    TooManyRules {
        /// The rules given.
        count: usize,
    },
    /// Two rules share a name, so decisions could not say which one made them.
    #[error("two rules are named `{name}`: give each rule its own name")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// One rule cannot be planned with.
    #[error("rule `{name}`: {problem}")]
    Rule {
        /// Its place in `rules`, from 0.
        index: usize,
        /// Its name.
        name: String,
        /// What is wrong.
        problem: RuleProblem,
    },
    /// The protections or budgets at the top of the policy.
    #[error("{0}")]
    Shared(RulesError),
}

/// What is wrong with one rule of a policy.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleProblem {
    /// The name is empty.
    #[error("give the rule a name")]
    Unnamed,
    /// The package type is empty.
    #[error("give the rule a package type (`type = \"container\"`)")]
    NoType,
    /// A package type GitHub does not have.
    #[error("`{given}` is not a package type: give one of {}", PACKAGE_TYPES.join(", "))]
    UnknownType {
        /// The type given.
        given: String,
    },
    /// `older_than` on a keep rule, or `newer_than` on a delete rule.
    #[error("`{key}` does not fit a {} rule: use `{instead}`", action.as_str())]
    WrongAge {
        /// The key given.
        key: &'static str,
        /// The rule's action.
        action: RuleAction,
        /// The key that fits.
        instead: &'static str,
    },
    /// `orphans` on a keep rule.
    #[error("`orphans` deletes orphans, so it belongs to a delete rule")]
    KeepOrphans,
    /// `keep_newest`, `keep_per_major` or `keep_per_minor` of 0 on a keep rule.
    #[error("a keep rule that keeps 0 keeps nothing: drop the rule or keep at least one")]
    KeepsNothing,
    /// A keep rule that selects every version of every package of its type, so that no rule
    /// could delete one.
    #[error(
        "it keeps every version of every {package_type} package, so no rule can delete one: narrow it (packages, include_tags, version_match, keep_newest, …) or drop it"
    )]
    KeepsEverything {
        /// The rule's package type.
        package_type: String,
    },
    /// The same pattern in `packages` and `exclude_packages`.
    #[error(
        "package pattern `{pattern}` is in both packages and exclude_packages, so it selects nothing: keep it in one"
    )]
    PackageIncludedAndExcluded {
        /// The pattern.
        pattern: String,
    },
    /// The version selection cannot be planned with.
    #[error("{0}")]
    Versions(RulesError),
}

impl RuleProblem {
    /// The key of the rule the problem is about, when it is about one.
    pub fn key(&self) -> Option<&'static str> {
        match self {
            RuleProblem::Unnamed => Some("name"),
            RuleProblem::NoType | RuleProblem::UnknownType { .. } => Some("type"),
            RuleProblem::WrongAge { key, .. } => Some(key),
            RuleProblem::KeepOrphans => Some("orphans"),
            RuleProblem::KeepsEverything { .. } => None,
            RuleProblem::KeepsNothing => Some("keep_newest"),
            RuleProblem::PackageIncludedAndExcluded { .. } => Some("exclude_packages"),
            RuleProblem::Versions(error) => error.key(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, action: RuleAction) -> PolicyRule {
        PolicyRule {
            keep_newest: Some(1),
            ..PolicyRule::new(name, action, "container")
        }
    }

    #[test]
    fn a_policy_needs_rules_with_distinct_names() {
        assert_eq!(Policy::default().validate(), Err(PolicyError::NoRules));
        let twice = Policy {
            rules: vec![rule("a", RuleAction::Delete), rule("a", RuleAction::Keep)],
            ..Policy::default()
        };
        assert_eq!(
            twice.validate(),
            Err(PolicyError::DuplicateName { name: "a".into() })
        );
    }

    #[test]
    fn a_policy_has_at_most_max_rules() {
        let rules = (0..=MAX_RULES)
            .map(|n| rule(&n.to_string(), RuleAction::Delete))
            .collect();
        let policy = Policy {
            rules,
            ..Policy::default()
        };
        assert_eq!(
            policy.validate(),
            Err(PolicyError::TooManyRules {
                count: MAX_RULES + 1
            })
        );
    }

    #[test]
    fn ages_must_fit_the_action() {
        let mut keep = rule("k", RuleAction::Keep);
        keep.older_than = Some("7d".parse().unwrap());
        let policy = Policy {
            rules: vec![keep],
            ..Policy::default()
        };
        let error = policy.validate().unwrap_err();
        assert!(error.to_string().contains("use `newer_than`"), "{error}");
        let mut delete = rule("d", RuleAction::Delete);
        delete.newer_than = Some("7d".parse().unwrap());
        let policy = Policy {
            rules: vec![delete],
            ..Policy::default()
        };
        assert!(matches!(
            policy.validate(),
            Err(PolicyError::Rule {
                problem: RuleProblem::WrongAge {
                    key: "newer_than",
                    ..
                },
                ..
            })
        ));
    }

    #[test]
    fn a_keep_rule_may_select_by_tags_alone() {
        let mut keep = rule("releases", RuleAction::Keep);
        keep.keep_newest = None;
        keep.include_tags = vec!["v*".parse().unwrap()];
        let policy = Policy {
            rules: vec![keep],
            ..Policy::default()
        };
        assert_eq!(policy.validate(), Ok(()));
    }

    #[test]
    fn a_keep_rule_that_keeps_everything_is_refused() {
        let mut keep = rule("all", RuleAction::Keep);
        keep.keep_newest = None;
        let policy = Policy {
            rules: vec![rule("trim", RuleAction::Delete), keep.clone()],
            ..Policy::default()
        };
        let error = policy.validate().unwrap_err();
        assert!(
            error
                .to_string()
                .contains("keeps every version of every container package"),
            "{error}"
        );
        keep.packages = vec!["web/*".parse().unwrap()];
        let narrowed = Policy {
            rules: vec![keep],
            ..Policy::default()
        };
        assert_eq!(narrowed.validate(), Ok(()));
    }

    #[test]
    fn packages_are_selected_by_type_and_name() {
        let mut web = rule("web", RuleAction::Delete);
        web.packages = vec!["web/*".parse().unwrap()];
        web.exclude_packages = vec!["web/legacy".parse().unwrap()];
        assert!(web.selects_package("container", "web/app"));
        assert!(web.selects_package("CONTAINER", "web/app"));
        assert!(!web.selects_package("npm", "web/app"));
        assert!(!web.selects_package("container", "web/legacy"));
        assert!(!web.selects_package("container", "api"));
    }
}
