//! The plan: every version's decision, the ordered deletions, the budget, and the hash that
//! proves the plan is the one that was reviewed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::decide::{Context, decide_package, may_delete};
use crate::facts::{PackageFacts, Target};
use crate::graph::ManifestStatus;
use crate::image::ReadStats;
use crate::policy::{Policy, PolicyError, PolicyRule, RuleAction};
use crate::reason::{Decision, ReasonCode};
use crate::rules::{Rules, RulesError, TagSelection, protects};

/// The `format` of every plan.
pub const PLAN_FORMAT: &str = "ghpkg-plan";
/// The plan format version this crate writes and reads.
pub const PLAN_VERSION: u32 = 2;
/// The most versions one plan may decide (planning refuses more, loading refuses more).
pub const MAX_DECISIONS: usize = 1_000_000;

/// A retention plan: made by [`plan`], printed by `ghpkg prune`, applied by `ghpkg apply`.
///
/// Serialized with [`Plan::to_json`]; loaded with [`Plan::from_json`], which refuses edited,
/// truncated or foreign plans. The JSON Schema is [`Plan::json_schema`] (committed as
/// `plan.schema.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Always `ghpkg-plan`.
    #[schemars(schema_with = "format_schema")]
    pub format: String,
    /// The format version, 1.
    #[schemars(schema_with = "version_schema")]
    pub version: u32,
    /// Hex SHA-256 of the plan's canonical form: its compact JSON without this field.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sha256: String,
    /// The `now` the plan was made with.
    pub created_at: DateTime<Utc>,
    /// What the plan was made from.
    pub inputs: PlanInputs,
    /// Every package, by name, with every version's decision.
    pub packages: Vec<PackagePlan>,
    /// Every version to delete, in the order to delete them.
    pub deletions: Vec<PlannedDeletion>,
    /// Counts by decision and reason.
    pub summary: Summary,
    /// Whether the plan is within its budgets; a refused plan must not be applied.
    pub budget: Budget,
    /// Manifest reads of all packages, as the caller reported them.
    pub reads: ReadStats,
    /// What the reader should know: rules that selected nothing, damaged graphs, budgets.
    pub notes: Vec<Note>,
}

fn format_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
    constant_schema(schemars::schema::InstanceType::String, PLAN_FORMAT.into())
}

fn version_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
    constant_schema(schemars::schema::InstanceType::Integer, PLAN_VERSION.into())
}

fn constant_schema(
    instance_type: schemars::schema::InstanceType,
    value: serde_json::Value,
) -> schemars::schema::Schema {
    schemars::schema::SchemaObject {
        instance_type: Some(instance_type.into()),
        const_value: Some(value),
        ..Default::default()
    }
    .into()
}

/// What a plan was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanInputs {
    /// Where the packages live.
    pub target: Target,
    /// The package names, sorted.
    pub packages: Vec<String>,
    /// The rules as given.
    pub rules: Rules,
    /// The tag selection that applied (see [`Rules::effective_tag_selection`]).
    pub tag_selection: TagSelection,
    /// The `older_than` cut-off: versions dated strictly before it are old enough.
    pub cutoff: Option<DateTime<Utc>>,
    /// The policy, when the plan was made from one; then `rules` holds only its protections
    /// and budgets, `tag_selection` is `both` and `cutoff` is absent (each rule has its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
}

/// The decisions of one package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackagePlan {
    /// The package name.
    pub name: String,
    /// Whether an image graph was given for the package.
    pub image_graph: bool,
    /// Why nothing in the package is deleted, when it failed closed (damaged or unread graph).
    pub fail_closed: Option<String>,
    /// Index entries that are not versions of the package and could not be followed (the
    /// index is already broken); a kept one makes the package delete nothing.
    pub missing_children: Vec<MissingChild>,
    /// Every version, newest first.
    pub decisions: Vec<VersionDecision>,
}

/// An index entry that is not a version of the package and could not be followed to the
/// versions it lists: the registry does not have it, or it could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MissingChild {
    /// The id of the version that lists it (directly, or through manifests that are not
    /// versions).
    pub parent: u64,
    /// The digest it lists.
    pub digest: String,
    /// Why it could not be followed.
    pub reason: String,
}

/// The decision about one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionDecision {
    /// GitHub's version id.
    pub id: u64,
    /// The digest or version string.
    // Shared with the plan's deletion of the version, not copied.
    pub name: Arc<str>,
    /// All its tags, cosign and referrer tags included.
    pub tags: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last updated.
    pub updated_at: DateTime<Utc>,
    /// Keep or delete.
    pub decision: Decision,
    /// Why, as a stable code.
    pub reason: ReasonCode,
    /// Why, for a human.
    // Shared by the versions decided alike: one allocation for 150,000 versions beyond
    // `keep_newest`, whose own facts are in the other fields.
    pub detail: Arc<str>,
    /// Its place in the image graph, when the package has one.
    // Boxed: a package without a graph pays a pointer per version, not the links.
    pub graph: Option<Box<GraphLinks>>,
    /// The policy rule that decided it, when a policy rule did (a plan of flags has none).
    // Shared by the versions the same rules decided: a pointer per version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Arc<DecidingRule>>,
}

/// The rules of a policy behind one decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecidingRule {
    /// The rule that decided.
    pub rule: String,
    /// The delete rule a keep rule won over, when one would have deleted the version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overruled: Option<String>,
}

/// A version's place in the image graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GraphLinks {
    /// Root, orphan, child or referrer.
    pub role: GraphRole,
    /// What is known about its manifest.
    pub manifest: ManifestStatus,
    /// Ids of the versions that list it or that it refers to.
    pub parents: Vec<u64>,
    /// Ids of the children and referrers whose decision follows from this one (kept with it,
    /// or deleted with it).
    pub carries: Vec<u64>,
}

/// Where a version sits in the image graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum GraphRole {
    /// Nothing in the package lists it or is referred to by it: the rules decide it.
    Root,
    /// An untagged root that refers to something absent from the package.
    Orphan,
    /// An index lists it: it follows its parents.
    Child,
    /// It refers to another version: it follows its parents.
    Referrer,
}

/// One version to delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlannedDeletion {
    /// The package name.
    // Shared by the package's deletions.
    pub package: Arc<str>,
    /// The version id.
    pub id: u64,
    /// The digest or version string, to check before deleting.
    // The decision's own, shared.
    pub name: Arc<str>,
}

/// Counts over the whole plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Packages planned.
    pub packages: usize,
    /// Versions decided.
    pub versions: usize,
    /// Versions kept.
    pub keep: usize,
    /// Versions deleted.
    pub delete: usize,
    /// Versions per reason code (codes with no version left out).
    pub by_reason: BTreeMap<ReasonCode, usize>,
}

/// The plan against its budgets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Whether the plan is over a budget and must not be applied.
    pub refused: bool,
    /// Deletions in all packages.
    pub deletions: usize,
    /// The `max_deletions` rule.
    pub max_deletions: Option<usize>,
    /// How many deletions over `max_deletions`, when over.
    pub over_by_count: Option<usize>,
    /// The `max_percent` rule.
    pub max_percent: Option<f64>,
    /// Each package's share of deleted versions.
    pub packages: Vec<PackageBudget>,
}

/// One package against `max_percent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageBudget {
    /// The package name.
    pub package: String,
    /// Its versions.
    pub versions: usize,
    /// Its deletions.
    pub deletions: usize,
    /// Deletions as a percentage of versions, to two decimals.
    pub percent: f64,
    /// Percentage points over `max_percent`, when over.
    pub over_by_percent: Option<f64>,
}

/// Something the reader of a plan should know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    /// The package it is about, if it is about one.
    pub package: Option<String>,
    /// What kind of note it is.
    pub kind: NoteKind,
    /// The note, for a human.
    pub message: String,
}

/// The kinds of notes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum NoteKind {
    /// A rule selected nothing: a pattern matched no tag, no version is old enough, ...
    SelectedNothing,
    /// A `protected_versions` entry names no version.
    ProtectedVersionUnmatched,
    /// The image graph is damaged, so nothing in the package is deleted.
    GraphDamaged,
    /// The package's versions changed while they were listed, so nothing in it is deleted.
    IncompleteListing,
    /// A container package's manifests were not read, so nothing in it is deleted.
    GraphNotRead,
    /// Indexes list entries that are not versions of the package and could not be followed.
    MissingChildren,
    /// A version is kept because GitHub would refuse to delete it.
    GithubRefusal,
    /// The plan is over a budget.
    OverBudget,
}

/// Why a plan could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// The rules are refused by [`Rules::validate`].
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// The policy is refused by [`Policy::validate`].
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A package that no rule of the policy selects.
    #[error(
        "no rule of the policy selects {package_type} package `{name}`: plan only the packages it selects"
    )]
    NotSelected {
        /// The package type.
        package_type: String,
        /// The package name.
        name: String,
    },
    /// Two packages with the same name.
    #[error("package `{name}` is given twice: give each package once")]
    DuplicatePackage {
        /// The package name.
        name: String,
    },
    /// A version with id 0, which GitHub never uses.
    #[error(
        "package `{package}` has a version with id 0: the facts are not from GitHub's API; list the versions again"
    )]
    ZeroVersionId {
        /// The package name.
        package: String,
    },
    /// Two versions with the same id.
    #[error("package `{package}` lists version {id} twice: list the versions again")]
    DuplicateVersionId {
        /// The package name.
        package: String,
        /// The id.
        id: u64,
    },
    /// Two versions with the same name (digest).
    #[error("package `{package}` has two versions named `{name}`: list the versions again")]
    DuplicateVersionName {
        /// The package name.
        package: String,
        /// The name.
        name: String,
    },
    /// More versions than one plan may hold.
    #[error(
        "{count} versions are more than one plan may hold ({limit}): plan fewer packages at a time"
    )]
    TooManyVersions {
        /// Versions given.
        count: usize,
        /// [`MAX_DECISIONS`].
        limit: usize,
    },
}

/// Decides every version of `packages` under `rules` at `now`, without I/O.
///
/// The rules are validated first; the facts must have unique package names, and per package
/// unique non-zero version ids and unique version names. See the crate documentation for the
/// semantics.
///
/// The facts move into the plan: a plan of 150,000 versions does not hold their names and
/// tags twice (pass a clone to keep them).
pub fn plan(
    target: &Target,
    packages: Vec<PackageFacts>,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<Plan, PlanError> {
    rules.validate()?;
    let context = Context::new(target, rules, now);
    let inputs = |packages| PlanInputs {
        target: target.clone(),
        packages,
        rules: rules.clone(),
        tag_selection: context.selection,
        cutoff: context.cutoff,
        policy: None,
    };
    plan_with(packages, rules, |_| vec![&context], inputs, now)
}

/// Plans `packages` of `target` under `policy` at `now`: each package under the rules of the
/// policy that select it, with one budget for all. Every package must be selected by a rule
/// (see [`PolicyRule::selects_package`](crate::PolicyRule::selects_package)); the rules of other
/// package types do not apply.
///
/// A policy of one delete rule plans what [`plan`] plans with the same rules: the flags of
/// `prune` are that policy ([`Policy::of_rules`]), apart from the rule's name on each decision.
pub fn plan_policy(
    target: &Target,
    packages: Vec<PackageFacts>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<Plan, PlanError> {
    policy.validate()?;
    let rules = rules_of_type(target, policy);
    let contexts: Vec<(&PolicyRule, Context<'_>)> = rules
        .iter()
        .map(|(rule, rules)| {
            let context = Context::of_rule(target, rules, now, &rule.name, rule.action);
            (*rule, context)
        })
        .collect();
    let selecting = |name: &str| -> Vec<&Context<'_>> {
        contexts
            .iter()
            .filter(|(rule, _)| rule.selects_package(&target.package_type, name))
            .map(|(_, context)| context)
            .collect()
    };
    if let Some(package) = packages.iter().find(|p| selecting(&p.name).is_empty()) {
        return Err(PlanError::NotSelected {
            package_type: target.package_type.clone(),
            name: package.name.clone(),
        });
    }
    let shared = policy.shared_rules();
    let inputs = |packages| PlanInputs {
        target: target.clone(),
        packages,
        rules: shared.clone(),
        tag_selection: TagSelection::Both,
        cutoff: None,
        policy: Some(policy.clone()),
    };
    plan_with(
        packages,
        &shared,
        |package| selecting(&package.name),
        inputs,
        now,
    )
}

/// Whether planning `package` under `policy` at `now` needs its image graph: as
/// [`needs_image_graph`], for the delete rules that select it (keep rules only keep).
pub fn policy_needs_image_graph(
    target: &Target,
    package: &PackageFacts,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<bool, PlanError> {
    policy.validate()?;
    if !target.is_container() {
        return Ok(false);
    }
    Ok(rules_of_type(target, policy).iter().any(|(rule, rules)| {
        rule.action == RuleAction::Delete
            && rule.selects_package(&target.package_type, &package.name)
            && may_delete(&Context::new(target, rules, now), package)
    }))
}

/// The rules of `policy` for `target`'s package type, with the [`Rules`] each stands for.
fn rules_of_type<'p>(target: &Target, policy: &'p Policy) -> Vec<(&'p PolicyRule, Rules)> {
    policy
        .rules
        .iter()
        .filter(|rule| rule.package_type.eq_ignore_ascii_case(&target.package_type))
        .map(|rule| (rule, rule.rules(policy)))
        .collect()
}

/// Plans `packages`, each under the rules `contexts_of` gives it, with the protections and
/// budgets of `rules`: the one planner behind [`plan`] and [`plan_policy`].
fn plan_with<'c>(
    packages: Vec<PackageFacts>,
    rules: &Rules,
    contexts_of: impl Fn(&PackageFacts) -> Vec<&'c Context<'c>>,
    inputs: impl FnOnce(Vec<String>) -> PlanInputs,
    now: DateTime<Utc>,
) -> Result<Plan, PlanError> {
    check_facts(&packages)?;
    let mut sorted = packages;
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let packages = &sorted;

    let mut notes = Vec::new();
    for entry in &rules.protected_versions {
        let names_a_version = packages
            .iter()
            .any(|p| p.versions.iter().any(|v| protects(entry, v)));
        if !names_a_version {
            notes.push(Note {
                package: None,
                kind: NoteKind::ProtectedVersionUnmatched,
                message: format!(
                    "protected_versions entry `{entry}` names no version of the planned packages"
                ),
            });
        }
    }
    let mut package_plans = Vec::new();
    let mut deletions = Vec::new();
    let mut reads = ReadStats::default();
    for package in sorted {
        if let Some(graph) = &package.graph {
            reads.add(graph.reads);
        }
        let contexts = contexts_of(&package);
        let mut outcome = decide_package(&contexts, package);
        package_plans.push(outcome.plan);
        if deletions.is_empty() {
            // Taken whole, not copied: one package's deletions may be all of them.
            deletions = outcome.deletions;
        } else {
            deletions.append(&mut outcome.deletions);
        }
        notes.extend(outcome.notes);
    }
    let budget = budget(rules, &package_plans, deletions.len());
    if budget.refused {
        notes.push(Note {
            package: None,
            kind: NoteKind::OverBudget,
            message: over_budget_message(&budget),
        });
    }
    let mut plan = Plan {
        format: PLAN_FORMAT.to_owned(),
        version: PLAN_VERSION,
        sha256: String::new(),
        created_at: now,
        inputs: inputs(package_plans.iter().map(|p| p.name.clone()).collect()),
        summary: summary(&package_plans),
        packages: package_plans,
        deletions,
        budget,
        reads,
        notes,
    };
    plan.sha256 = plan.sha256();
    Ok(plan)
}

/// Whether planning `package` under `rules` at `now` needs its image graph: `false` when the
/// rules cannot delete any of its versions whatever the graph holds (or it is not a container
/// package), so that its manifests need not be read — every read counts as a download on
/// GitHub. [`plan`] with no graph for such a package keeps every version by the rules' own
/// reasons.
///
/// ```
/// use chrono::Utc;
/// use ghpkg_retention::{Owner, PackageFacts, Rules, Target, VersionFacts, needs_image_graph};
///
/// let target = Target { host: "github.com".into(), owner: Owner::Org("acme".into()), package_type: "container".into() };
/// let version = VersionFacts {
///     id: 1, name: format!("sha256:{}", "a".repeat(64)), tags: vec!["v1".into()],
///     created_at: Utc::now(), updated_at: Utc::now(),
/// };
/// let package = PackageFacts { name: "web/app".into(), versions: vec![version], graph: None, incomplete_listing: None };
/// let pr_images = Rules { include_tags: vec!["pr-*".parse().unwrap()], ..Rules::default() };
/// assert!(!needs_image_graph(&target, &package, &pr_images, Utc::now()).unwrap());
/// ```
pub fn needs_image_graph(
    target: &Target,
    package: &PackageFacts,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<bool, PlanError> {
    rules.validate()?;
    if !target.is_container() {
        return Ok(false);
    }
    Ok(may_delete(&Context::new(target, rules, now), package))
}

fn check_facts(packages: &[PackageFacts]) -> Result<(), PlanError> {
    let count: usize = packages.iter().map(|p| p.versions.len()).sum();
    if count > MAX_DECISIONS {
        return Err(PlanError::TooManyVersions {
            count,
            limit: MAX_DECISIONS,
        });
    }
    let mut names = BTreeSet::new();
    for package in packages {
        if !names.insert(package.name.as_str()) {
            return Err(PlanError::DuplicatePackage {
                name: package.name.clone(),
            });
        }
        let mut ids = BTreeSet::new();
        let mut version_names = BTreeSet::new();
        for version in &package.versions {
            if version.id == 0 {
                return Err(PlanError::ZeroVersionId {
                    package: package.name.clone(),
                });
            }
            if !ids.insert(version.id) {
                return Err(PlanError::DuplicateVersionId {
                    package: package.name.clone(),
                    id: version.id,
                });
            }
            if !version_names.insert(version.name.as_str()) {
                return Err(PlanError::DuplicateVersionName {
                    package: package.name.clone(),
                    name: version.name.clone(),
                });
            }
        }
    }
    Ok(())
}

fn summary(packages: &[PackagePlan]) -> Summary {
    let mut by_reason = BTreeMap::new();
    let mut keep = 0;
    let mut delete = 0;
    for decision in packages.iter().flat_map(|p| &p.decisions) {
        *by_reason.entry(decision.reason).or_insert(0) += 1;
        match decision.decision {
            Decision::Keep => keep += 1,
            Decision::Delete => delete += 1,
        }
    }
    Summary {
        packages: packages.len(),
        versions: keep + delete,
        keep,
        delete,
        by_reason,
    }
}

/// Rounds to two decimals, so that percentages read well and print the same everywhere.
fn two_decimals(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// The one place budgets are checked.
fn budget(rules: &Rules, packages: &[PackagePlan], deletions: usize) -> Budget {
    let over_by_count = rules
        .max_deletions
        .filter(|&max| deletions > max)
        .map(|max| deletions - max);
    let package_budgets: Vec<PackageBudget> = packages
        .iter()
        .map(|package| {
            let versions = package.decisions.len();
            let deleted = package
                .decisions
                .iter()
                .filter(|d| d.decision == Decision::Delete)
                .count();
            let percent = if versions == 0 {
                0.0
            } else {
                deleted as f64 * 100.0 / versions as f64
            };
            PackageBudget {
                package: package.name.clone(),
                versions,
                deletions: deleted,
                percent: two_decimals(percent),
                over_by_percent: rules
                    .max_percent
                    .filter(|&max| percent > max)
                    .map(|max| two_decimals(percent - max)),
            }
        })
        .collect();
    let refused =
        over_by_count.is_some() || package_budgets.iter().any(|p| p.over_by_percent.is_some());
    Budget {
        refused,
        deletions,
        max_deletions: rules.max_deletions,
        over_by_count,
        max_percent: rules.max_percent,
        packages: package_budgets,
    }
}

fn over_budget_message(budget: &Budget) -> String {
    let mut parts = Vec::new();
    if let (Some(max), Some(over)) = (budget.max_deletions, budget.over_by_count) {
        parts.push(format!(
            "{} deletions exceed max_deletions {max} by {over}",
            budget.deletions
        ));
    }
    for package in &budget.packages {
        if let (Some(max), Some(over)) = (budget.max_percent, package.over_by_percent) {
            parts.push(format!(
                "{} deletes {}% of its versions ({} of {}), {over} points over max_percent {max}",
                package.package, package.percent, package.deletions, package.versions
            ));
        }
    }
    format!(
        "over budget, so the plan must not be applied: {}; narrow the rules or raise the budget",
        parts.join("; ")
    )
}

impl Plan {
    /// Recomputes the hex SHA-256 of the canonical form: the plan serialized as compact JSON
    /// without its `sha256` field (struct fields in declaration order, maps sorted by key).
    pub fn sha256(&self) -> String {
        /// The plan's fields but `sha256`, borrowed, in the same order: what `Plan` serializes
        /// to with an empty `sha256`, without copying a plan of 150,000 decisions.
        #[derive(Serialize)]
        struct Canonical<'a> {
            format: &'a String,
            version: u32,
            created_at: DateTime<Utc>,
            inputs: &'a PlanInputs,
            packages: &'a [PackagePlan],
            deletions: &'a [PlannedDeletion],
            summary: &'a Summary,
            budget: &'a Budget,
            reads: &'a ReadStats,
            notes: &'a [Note],
        }
        /// Hashes what is written, so that the canonical form is never held whole.
        struct Hashing(Sha256);
        impl std::io::Write for Hashing {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.update(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let canonical = Canonical {
            format: &self.format,
            version: self.version,
            created_at: self.created_at,
            inputs: &self.inputs,
            packages: &self.packages,
            deletions: &self.deletions,
            summary: &self.summary,
            budget: &self.budget,
            reads: &self.reads,
            notes: &self.notes,
        };
        let mut hashing = Hashing(Sha256::new());
        serde_json::to_writer(std::io::BufWriter::new(&mut hashing), &canonical)
            .expect("a plan always serializes");
        hashing
            .0
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// The plan as pretty JSON, `sha256` included; the same plan always gives the same bytes.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan always serializes")
    }

    /// [`to_json`](Self::to_json)'s bytes, written to `writer` as they are made.
    pub fn write_json(&self, writer: impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(writer, self).map_err(std::io::Error::from)
    }

    /// The JSON Schema of the plan, pretty-printed (committed as `plan.schema.json`).
    pub fn json_schema() -> String {
        let schema = schemars::schema_for!(Plan);
        serde_json::to_string_pretty(&schema).expect("a schema always serializes")
    }

    /// Whether the plan is over a budget and must not be applied.
    pub fn is_refused(&self) -> bool {
        self.budget.refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_rounded_to_two_decimals() {
        assert_eq!(two_decimals(100.0 / 3.0), 33.33);
        assert_eq!(two_decimals(200.0 / 3.0), 66.67);
        assert_eq!(two_decimals(12.5), 12.5);
    }
}
