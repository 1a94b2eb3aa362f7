//! Deciding one package: tag rules, then `keep_newest` and `older_than` on the roots, then the
//! graph, then GitHub's refusals, then failing closed. The one place where decisions are made.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::ecosystem_version::{Ecosystem, EcosystemVersion};
use crate::facts::{PackageFacts, Target, VersionFacts};
use crate::graph::{EdgeKind, ManifestStatus, PackageGraph};
use crate::image::attachment_subject;
use crate::plan::DecidingRule;
use crate::plan::{
    GraphLinks, GraphRole, MissingChild, Note, NoteKind, PackagePlan, PlannedDeletion,
    VersionDecision,
};
use crate::policy::RuleAction;
use crate::reason::{Decision, ReasonCode};
use crate::rules::{OrderBy, Rules, TagSelection};

/// One rule that packages are decided with: the flags, or one rule of a policy.
pub(crate) struct Context<'a> {
    pub rules: &'a Rules,
    pub container: bool,
    pub selection: TagSelection,
    pub cutoff: Option<DateTime<Utc>>,
    /// The rule's name in a policy; `None` for the flags (a policy of one unnamed rule).
    pub name: Option<&'a str>,
    pub action: RuleAction,
    /// How the package type's version names order, when it has versions of its own.
    pub ecosystem: Option<Ecosystem>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(target: &Target, rules: &'a Rules, now: DateTime<Utc>) -> Context<'a> {
        Context {
            rules,
            container: target.is_container(),
            selection: rules.effective_tag_selection(),
            cutoff: rules.older_than.as_ref().map(|age| age.cutoff(now)),
            name: None,
            action: RuleAction::Delete,
            ecosystem: Ecosystem::of(&target.package_type),
        }
    }

    /// A named rule of a policy.
    pub(crate) fn of_rule(
        target: &Target,
        rules: &'a Rules,
        now: DateTime<Utc>,
        name: &'a str,
        action: RuleAction,
    ) -> Context<'a> {
        let mut context = Context::new(target, rules, now);
        if action == RuleAction::Keep {
            // A keep rule keeps all it selects by tags alone.
            context.selection = rules.effective_tag_selection();
        }
        context.name = Some(name);
        context.action = action;
        context
    }

    /// Whether a keep rule keeps the candidate its own ranking gave `verdict`: every
    /// candidate without `keep_newest` or `newer_than`, else those they keep.
    fn keep_rule_keeps(&self, verdict: &Verdict) -> bool {
        let rules = self.rules;
        (rules.keep_newest.is_none() && rules.older_than.is_none() && !rules.keep_per_line())
            || matches!(verdict, Verdict::Keep(..))
    }

    /// `rule `name`: ` before a note, for a named rule.
    fn note_prefix(&self) -> String {
        self.name
            .map(|name| format!("rule `{name}`: "))
            .unwrap_or_default()
    }
}

/// Which rules of the package's rule list decided a version: `rule` made the decision, and a
/// keep rule's decision names the delete rule it `overruled`. Neither for decisions the graph,
/// a protection or GitHub's refusals made.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
struct Decider {
    rule: Option<u16>,
    overruled: Option<u16>,
}

/// One package, decided.
pub(crate) struct PackageOutcome {
    pub plan: PackagePlan,
    pub deletions: Vec<PlannedDeletion>,
    pub notes: Vec<Note>,
}

/// A version's decision, reason, words, graph links and rules, before its facts move in.
type Decided = (
    Decision,
    ReasonCode,
    Arc<str>,
    Option<Box<GraphLinks>>,
    Option<Arc<DecidingRule>>,
);

/// What the tag rules say about one version.
enum TagVerdict {
    Keep(ReasonCode, Why),
    /// A root the tag rules select: `keep_newest` and `older_than` decide.
    Candidate,
    /// A protected root the tag rules would otherwise select: kept whatever its rank, but it
    /// takes its place among the newest, so `keep_newest` counts it.
    ProtectedCandidate(ReasonCode, String),
    /// An orphan selected by `orphans`: `older_than` decides.
    Orphan(String),
    /// Not a root, and its own tags do not keep it: it follows its parents.
    Follow,
}

impl TagVerdict {
    /// Whether `keep_newest` ranks the version among the selected roots.
    fn is_ranked(&self) -> bool {
        matches!(
            self,
            TagVerdict::Candidate | TagVerdict::ProtectedCandidate(..)
        )
    }
}

/// A version's own decision, before the graph.
#[derive(Clone)]
enum Verdict {
    Keep(ReasonCode, Why),
    Delete(ReasonCode, Why),
    Follow,
}

/// A version's decision.
#[derive(Clone)]
struct Outcome {
    decision: Decision,
    reason: ReasonCode,
    detail: Why,
    /// Whether it is the rules' own verdict (not the graph's), so that the rule that gave it
    /// decided it ([`Combined::decider`]).
    by_rule: bool,
}

/// A decision's detail until the plan is written: the words of the common cases are made
/// once, for the plan, from what they depend on, so that deciding 150,000 versions does not
/// format (and copy, verdict to outcome) 150,000 sentences on the way.
#[derive(Clone)]
enum Why {
    /// Words that depend on nothing.
    Fixed(&'static str),
    /// Words made already.
    Text(String),
    /// `keep_newest` and `older_than` of the `rule`th rule decided it: the `rank`th newest
    /// (from 0) of `total` selected versions (see [`ranked_detail`]).
    Ranked {
        rank: usize,
        total: usize,
        rule: u16,
    },
}

/// Each distinct detail once: the versions of a package decided alike share their words.
#[derive(Default)]
struct Words {
    fixed: HashMap<&'static str, Arc<str>>,
    by_reason: HashMap<(u16, ReasonCode), Arc<str>>,
    rules: HashMap<Decider, Arc<DecidingRule>>,
}

impl Words {
    /// The words of `why`, version `i`'s detail for `reason`.
    fn of(
        &mut self,
        why: Why,
        context: &Context<'_>,
        versions: &Versions<'_>,
        i: usize,
        reason: ReasonCode,
    ) -> Arc<str> {
        match why {
            Why::Fixed(words) => self
                .fixed
                .entry(words)
                .or_insert_with(|| words.into())
                .clone(),
            Why::Text(words) => words.into(),
            Why::Ranked { rank, total, rule } => {
                let words = || ranked_detail(context, versions, i, reason, rank, total);
                if ranked_words_are_the_packages(reason) {
                    self.by_reason
                        .entry((rule, reason))
                        .or_insert_with(|| words().into())
                        .clone()
                } else {
                    words().into()
                }
            }
        }
    }

    /// The names of the rules that decided, shared by every version they decided alike.
    fn rules(&mut self, decider: Decider, contexts: &[&Context<'_>]) -> Option<Arc<DecidingRule>> {
        let name = |rule: u16| contexts[usize::from(rule)].name.map(str::to_owned);
        let rule = name(decider.rule?)?;
        Some(
            self.rules
                .entry(decider)
                .or_insert_with(|| {
                    Arc::new(DecidingRule {
                        rule,
                        overruled: decider.overruled.and_then(name),
                    })
                })
                .clone(),
        )
    }
}

/// The versions of one package with what is derived from them once.
struct Versions<'a> {
    facts: &'a [VersionFacts],
    user_tags: Vec<Vec<&'a str>>,
    keys: Vec<DateTime<Utc>>,
    /// Each version read as a version of its ecosystem, when a rule needs it (else empty): its
    /// name, or for an image its greatest semver tag.
    releases: Vec<Option<EcosystemVersion>>,
    /// Whether the greater release is the newer (`order_by = "version"`), before the keys.
    by_release: bool,
}

impl Versions<'_> {
    fn len(&self) -> usize {
        self.facts.len()
    }

    /// What makes version `i` newer: its release when ranking by version (a name that is not
    /// a version is the oldest), then the rules' timestamp, then the larger id.
    fn newness(&self, i: usize) -> (Option<&EcosystemVersion>, DateTime<Utc>, u64) {
        let release = self
            .by_release
            .then(|| self.releases.get(i).and_then(Option::as_ref))
            .flatten();
        (release, self.keys[i], self.facts[i].id)
    }

    /// Sorts newest first by [`Versions::newness`].
    fn newest_first(&self, indexes: &mut [usize]) {
        indexes.sort_by(|&a, &b| self.newness(b).cmp(&self.newness(a)));
    }

    fn newest_of(&self, indexes: impl Iterator<Item = usize>) -> Option<usize> {
        indexes.max_by(|&a, &b| self.newness(a).cmp(&self.newness(b)))
    }

    /// `123` or `123 (v1, latest)`.
    fn label(&self, index: usize) -> String {
        let id = self.facts[index].id;
        match self.user_tags[index].as_slice() {
            [] => id.to_string(),
            tags => format!("{id} ({})", tags.join(", ")),
        }
    }

    fn labels(&self, indexes: impl Iterator<Item = usize>) -> String {
        indexes
            .map(|i| self.label(i))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl<'a> Versions<'a> {
    fn new(package: &'a PackageFacts, order_by: OrderBy) -> Versions<'a> {
        Versions {
            facts: &package.versions,
            user_tags: package
                .versions
                .iter()
                .map(|v| {
                    v.tags
                        .iter()
                        .map(String::as_str)
                        .filter(|tag| attachment_subject(tag).is_none())
                        .collect()
                })
                .collect(),
            keys: package
                .versions
                .iter()
                .map(|v| order_by.timestamp(v))
                .collect(),
            releases: Vec::new(),
            by_release: order_by.ranks_by_version(),
        }
    }

    /// The same versions ordered and dated by `order_by`.
    fn ordered_by(&self, order_by: OrderBy) -> Versions<'a> {
        Versions {
            facts: self.facts,
            user_tags: self.user_tags.clone(),
            keys: self.facts.iter().map(|v| order_by.timestamp(v)).collect(),
            releases: self.releases.clone(),
            by_release: order_by.ranks_by_version(),
        }
    }

    /// Reads every version as a version of `context`'s ecosystem, once, when a rule of
    /// `contexts` needs it.
    fn read_releases(&mut self, contexts: &[&Context<'_>]) {
        let Some(context) = contexts.iter().find(|c| c.rules.reads_versions()) else {
            return;
        };
        let Some(ecosystem) = context.ecosystem else {
            self.releases = vec![None; self.facts.len()];
            return;
        };
        self.releases = (0..self.facts.len())
            .map(|i| {
                if context.container {
                    self.user_tags[i]
                        .iter()
                        .filter_map(|tag| ecosystem.parse(tag))
                        .max()
                } else {
                    ecosystem.parse(&self.facts[i].name)
                }
            })
            .collect();
    }
}

/// Whether the rules could delete any version of `package`, whatever its image graph holds.
///
/// Decided as if every version were a root of its own: a graph only turns roots into children
/// that follow their parents, which shrinks the selection and can only raise a version's rank
/// among the newest, so a package that deletes nothing as all roots deletes nothing with any
/// graph. Orphans can only be found in a graph, so `orphans` always needs one.
pub(crate) fn may_delete(context: &Context<'_>, package: &PackageFacts) -> bool {
    if context.rules.orphans {
        return true;
    }
    let mut versions = Versions::new(package, context.rules.order_by);
    versions.read_releases(&[context]);
    let graph = PackageGraph::without_manifests();
    let tag_verdicts: Vec<TagVerdict> = (0..versions.len())
        .map(|i| tag_verdict(context, &versions, &graph, i))
        .collect();
    let (_, verdicts) = rank(context, 0, &versions, &tag_verdicts);
    (0..versions.len()).any(|i| {
        matches!(tag_verdicts[i], TagVerdict::Candidate)
            && matches!(verdicts[i], Verdict::Delete(..))
    })
}

/// Decides `package` under `contexts`, the rules that select it (the flags, or the rules of a
/// policy, in the policy's order; all share the protections). Its facts move into its plan
/// (each version's name and tags are not copied, and the facts are gone before the deletions
/// are made).
pub(crate) fn decide_package(contexts: &[&Context<'_>], package: PackageFacts) -> PackageOutcome {
    let primary = contexts[0];
    let mut versions = Versions::new(&package, primary.rules.order_by);
    versions.read_releases(contexts);
    // A rule ordering by another timestamp ranks and dates with its own keys.
    let reordered: Vec<Option<Versions<'_>>> = contexts
        .iter()
        .map(|context| {
            (context.rules.order_by != primary.rules.order_by)
                .then(|| versions.ordered_by(context.rules.order_by))
        })
        .collect();
    let versions_of = |r: usize| reordered[r].as_ref().unwrap_or(&versions);
    let has_user_tags: Vec<bool> = versions.user_tags.iter().map(|t| !t.is_empty()).collect();
    let graph = match &package.graph {
        Some(facts) => PackageGraph::build(versions.facts, &has_user_tags, facts),
        None => PackageGraph::without_manifests(),
    };
    let name = package.name.as_str();
    let mut notes = Vec::new();
    let mut note = |kind, message: String| {
        notes.push(Note {
            package: Some(name.to_owned()),
            kind,
            message,
        });
    };

    // 1. The tag rules of every rule, for every version.
    let mut tag_verdicts: Vec<Vec<TagVerdict>> = Vec::with_capacity(contexts.len());
    for context in contexts {
        let rules = context.rules;
        let mut include_matched = vec![false; rules.include_tags.len()];
        tag_verdicts.push(
            (0..versions.len())
                .map(|i| {
                    for (k, pattern) in rules.include_tags.iter().enumerate() {
                        include_matched[k] |=
                            versions.user_tags[i].iter().any(|t| pattern.is_match(t));
                    }
                    tag_verdict(context, &versions, &graph, i)
                })
                .collect(),
        );
        for (pattern, matched) in rules.include_tags.iter().zip(&include_matched) {
            if !matched {
                note(
                    NoteKind::SelectedNothing,
                    format!(
                        "{}include pattern `{pattern}` matched no tag in {name}",
                        context.note_prefix()
                    ),
                );
            }
        }
    }

    // 2. keep_newest and older_than, for the selected roots, protected ones included (they take
    // their places but stay); older_than for selected orphans. Then the rules together: keep
    // rules win, then any delete rule's deletion.
    // 3. The graph: what a kept version reaches is kept; the rest of the followers go.
    // A protected version that is not a root, but whose parents all go, is a root once they are
    // gone: it is ranked as the root it will be, so that the next run ranks the same versions
    // and plans nothing more. Each round ranks at least one more version, so the loop ends.
    let (ranked, mut combined, mut outcomes) = loop {
        let mut ranked: Vec<(Vec<usize>, Vec<Verdict>)> = contexts
            .iter()
            .enumerate()
            .map(|(r, context)| rank(context, r, versions_of(r), &tag_verdicts[r]))
            .collect();
        // The verdicts move into the combination; the notes need only whether each rule
        // deleted one of its candidates.
        let ranked_deleted: Vec<bool> = ranked
            .iter()
            .map(|(candidates, verdicts)| {
                candidates
                    .iter()
                    .any(|&i| matches!(verdicts[i], Verdict::Delete(..)))
            })
            .collect();
        let combined = combine(contexts, &versions, &tag_verdicts, &mut ranked);
        let outcomes = propagate(&combined, &graph, &versions);
        let ranked: Vec<(Vec<usize>, bool)> = ranked
            .into_iter()
            .zip(ranked_deleted)
            .map(|((candidates, _), deleted)| (candidates, deleted))
            .collect();
        // A version that is not a root but whose parents all go stands alone once they are
        // gone: where it stays (protected, or kept by a keep rule), every other rule that
        // would select it as a root ranks it as the root it will be.
        let mut alone = false;
        for i in 0..versions.len() {
            let parents_go = || {
                graph
                    .parents(i)
                    .iter()
                    .all(|&(parent, _)| outcomes[parent].decision == Decision::Delete)
            };
            if graph.is_root(i) || !parents_go() {
                continue;
            }
            let keeper = (outcomes[i].reason == ReasonCode::KeptByRule)
                .then(|| Combined::decider(combined.deciders.as_deref(), i, &outcomes[i]).rule)
                .flatten()
                .map(usize::from);
            for (r, context) in contexts.iter().enumerate() {
                if tag_verdicts[r][i].is_ranked()
                    || !matches!(
                        selection_verdict(context, &versions, &graph, i, true),
                        TagVerdict::Candidate
                    )
                {
                    continue;
                }
                let (code, why) = match (protection(context.rules, &versions, i), keeper) {
                    (Some((code, why)), _) => (code, why),
                    (None, Some(keeper)) if keeper != r => (
                        ReasonCode::KeptByRule,
                        format!(
                            "rule `{}` keeps it",
                            contexts[keeper].name.unwrap_or_default()
                        ),
                    ),
                    _ => continue,
                };
                tag_verdicts[r][i] = TagVerdict::ProtectedCandidate(
                    code,
                    format!("{why}; everything it belongs to is deleted, so it stands alone"),
                );
                alone = true;
            }
        }
        if !alone {
            break (ranked, combined, outcomes);
        }
    };
    for (r, context) in contexts.iter().enumerate() {
        let (candidates, any_deleted) = &ranked[r];
        selection_notes(
            context,
            versions_of(r),
            candidates,
            *any_deleted,
            &graph,
            package.graph.is_some(),
            &mut |kind, message: String| note(kind, format!("{}{message}", context.note_prefix())),
        );
    }

    // 4. GitHub's refusals, then failing closed.
    let mut fail_closed = None;
    if primary.container && package.graph.is_none() {
        let why = "its manifests were not read, so children and signatures of kept images cannot be told apart".to_owned();
        if outcomes.iter().any(|o| o.decision == Decision::Delete) {
            note(
                NoteKind::GraphNotRead,
                format!(
                    "nothing in {name} is deleted: {why}; read the manifests (pass an image graph) to prune it"
                ),
            );
            override_deletions(&mut outcomes, ReasonCode::GraphNotRead, &why);
            fail_closed = Some(why);
        }
    } else {
        for message in
            pre_empt_github_refusals(primary, &versions, &graph, &mut combined, &mut outcomes)
        {
            note(NoteKind::GithubRefusal, message);
        }
        if let Some(why) = damage(&graph, &versions, &outcomes, package.graph.is_some()) {
            note(
                NoteKind::GraphDamaged,
                format!("nothing in {name} is deleted: {why}"),
            );
            override_deletions(&mut outcomes, ReasonCode::UnreadableGraph, &why);
            fail_closed = Some(why);
        }
    }
    if let Some(problem) = &package.incomplete_listing {
        let why = format!("its listing cannot be trusted to be complete: {problem}");
        note(
            NoteKind::IncompleteListing,
            format!("nothing in {name} is deleted: {why}; plan again"),
        );
        override_deletions(&mut outcomes, ReasonCode::IncompleteListing, &why);
        fail_closed = Some(why);
    }

    let missing_children: Vec<MissingChild> = graph
        .missing_children
        .iter()
        .map(|missing| MissingChild {
            parent: versions.facts[missing.parent].id,
            digest: missing.digest.clone(),
            reason: missing.why.clone(),
        })
        .collect();
    if let Some(first) = missing_children.first() {
        note(
            NoteKind::MissingChildren,
            format!(
                "index entries that could not be followed in {name}: {} (first: index {} lists {}: {}); those indexes could not be pulled whole already",
                missing_children.len(),
                first.parent,
                first.digest,
                first.reason
            ),
        );
    }

    // 5. The plan of the package, newest first, and its deletions, parents first.
    let order = deletion_order(&outcomes, &graph, &versions);
    let mut display: Vec<usize> = (0..versions.len()).collect();
    versions.newest_first(&mut display);
    // The verdicts are no longer needed; each outcome's words go to its decision, shared
    // with every version decided alike.
    let deciders = combined.deciders;
    drop((tag_verdicts, combined.verdicts, ranked));
    let mut words = Words::default();
    // Each version's decision without its facts, newest first; the facts move in after.
    let decided: Vec<Decided> = display
        .iter()
        .map(|&i| {
            let graph_links = package
                .graph
                .as_ref()
                .map(|_| Box::new(links(&graph, &versions, &outcomes, i)));
            let outcome = &mut outcomes[i];
            let decider = Combined::decider(deciders.as_deref(), i, outcome);
            let why = std::mem::replace(&mut outcome.detail, Why::Fixed(""));
            let rule = usize::from(decider.rule.unwrap_or(0));
            let detail = words.of(why, contexts[rule], versions_of(rule), i, outcome.reason);
            let rules = words.rules(decider, contexts);
            (outcome.decision, outcome.reason, detail, graph_links, rules)
        })
        .collect();
    drop((
        outcomes,
        deciders,
        graph,
        reordered,
        versions,
        has_user_tags,
    ));
    let image_graph = package.graph.is_some();
    let mut facts = package.versions;
    let mut position = vec![0; facts.len()];
    let decisions: Vec<VersionDecision> = display
        .iter()
        .zip(decided)
        .enumerate()
        .map(|(at, (&i, (decision, reason, detail, graph, rules)))| {
            position[i] = at;
            let version = &mut facts[i];
            VersionDecision {
                id: version.id,
                name: Arc::from(std::mem::take(&mut version.name)),
                tags: std::mem::take(&mut version.tags),
                created_at: version.created_at,
                updated_at: version.updated_at,
                decision,
                reason,
                detail,
                graph,
                policy: rules,
            }
        })
        .collect();
    drop(facts);
    let package_name: Arc<str> = Arc::from(package.name.as_str());
    let deletions = order
        .iter()
        .map(|&i| {
            let decision = &decisions[position[i]];
            PlannedDeletion {
                package: package_name.clone(),
                id: decision.id,
                name: decision.name.clone(),
            }
        })
        .collect();
    PackageOutcome {
        plan: PackagePlan {
            name: package.name,
            image_graph,
            fail_closed,
            missing_children,
            decisions,
        },
        deletions,
        notes,
    }
}

/// The tag rules' verdict on version `i`. A protection keeps the version whatever the rest of
/// the rules say, but a protected root the rest would select is still ranked, so that it takes
/// one of the `keep_newest` places.
fn tag_verdict(
    context: &Context<'_>,
    versions: &Versions<'_>,
    graph: &PackageGraph,
    i: usize,
) -> TagVerdict {
    let verdict = selection_verdict(context, versions, graph, i, false);
    match (protection(context.rules, versions, i), verdict) {
        (None, verdict) => verdict,
        (Some((code, why)), TagVerdict::Candidate) => TagVerdict::ProtectedCandidate(code, why),
        (Some((code, why)), _) => TagVerdict::Keep(code, Why::Text(why)),
    }
}

/// What protects version `i`, if anything: `protected_versions` first, then `protected_tags`.
fn protection(rules: &Rules, versions: &Versions<'_>, i: usize) -> Option<(ReasonCode, String)> {
    if let Some(entry) = rules.protecting_entry(&versions.facts[i]) {
        return Some((
            ReasonCode::ProtectedVersion,
            format!("protected_versions lists `{entry}`"),
        ));
    }
    versions.user_tags[i].iter().find_map(|tag| {
        let pattern = rules.protected_tags.iter().find(|p| p.is_match(tag))?;
        Some((
            ReasonCode::ProtectedTag,
            format!("tag `{tag}` matches protected_tags pattern `{pattern}`"),
        ))
    })
}

/// The rules' selection of version `i` as if nothing were protected: the tag rules
/// ([`tag_selection_verdict`]), then, for what they select, the version rules
/// ([`version_verdict`]).
fn selection_verdict(
    context: &Context<'_>,
    versions: &Versions<'_>,
    graph: &PackageGraph,
    i: usize,
    as_root: bool,
) -> TagVerdict {
    match tag_selection_verdict(context, versions, graph, i, as_root) {
        TagVerdict::Candidate => version_verdict(context, versions, i)
            .map_or(TagVerdict::Candidate, |(code, why)| {
                TagVerdict::Keep(code, why)
            }),
        verdict => verdict,
    }
}

/// What the version rules say of a version the tag rules select: nothing when they select it
/// too, else why they do not.
fn version_verdict(
    context: &Context<'_>,
    versions: &Versions<'_>,
    i: usize,
) -> Option<(ReasonCode, Why)> {
    let rules = context.rules;
    let name = &versions.facts[i].name;
    if let Some(pattern) = rules.exclude_versions.iter().find(|p| p.is_match(name)) {
        return Some((
            ReasonCode::ExcludedVersion,
            Why::Text(format!(
                "name `{name}` matches exclude_versions pattern `{pattern}`"
            )),
        ));
    }
    if !rules.version_match.is_empty() && !rules.version_match.iter().any(|p| p.is_match(name)) {
        return Some((
            ReasonCode::NotSelected,
            Why::Text(format!(
                "name `{name}` matches no version_match pattern ({})",
                quoted(
                    &rules
                        .version_match
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                )
            )),
        ));
    }
    if !rules.reads_versions() {
        return None;
    }
    let rule = if rules.prerelease_only {
        "prerelease_only"
    } else if rules.keep_per_major.is_some() {
        "keep_per_major"
    } else if rules.keep_per_minor.is_some() {
        "keep_per_minor"
    } else {
        "order_by version"
    };
    let Some(release) = versions.releases.get(i).and_then(Option::as_ref) else {
        let ecosystem = context.ecosystem.map_or("known", Ecosystem::name);
        let what = if context.container {
            format!("no tag is a {ecosystem} version")
        } else {
            format!("`{name}` is not a {ecosystem} version")
        };
        return Some((
            ReasonCode::NotSelected,
            Why::Text(format!("{what}, so {rule} does not select it")),
        ));
    };
    if rules.prerelease_only && !release.is_prerelease() {
        return Some((
            ReasonCode::NotSelected,
            Why::Fixed("a release, and prerelease_only selects only pre-releases"),
        ));
    }
    None
}

/// The tag rules' verdict on version `i` as if nothing were protected, except that a protected
/// tag never makes a match partial: it is accounted for by the protection. `as_root` decides it
/// as if nothing listed it or were referred to by it.
fn tag_selection_verdict(
    context: &Context<'_>,
    versions: &Versions<'_>,
    graph: &PackageGraph,
    i: usize,
    as_root: bool,
) -> TagVerdict {
    let rules = context.rules;
    let tags = &versions.user_tags[i];
    let is_root = as_root || graph.is_root(i);
    let only_orphans = || {
        TagVerdict::Keep(
            ReasonCode::NotSelected,
            Why::Fixed(
                "only orphans are selected (no keep_newest, older_than, include_tags or tag_selection)",
            ),
        )
    };
    if tags.is_empty() {
        if !is_root {
            return TagVerdict::Follow;
        }
        if let Some(why) = graph.orphan(i)
            && rules.orphans
        {
            return TagVerdict::Orphan(why.to_owned());
        }
        if context.selection == TagSelection::Tagged {
            let words = if rules.tag_selection.is_none() {
                "untagged, and only tagged versions are selected (include_tags imply tag_selection: tagged)"
            } else {
                "untagged, and only tagged versions are selected"
            };
            return TagVerdict::Keep(ReasonCode::NotSelected, Why::Fixed(words));
        }
        if !rules.selects_beyond_orphans() {
            return only_orphans();
        }
        return TagVerdict::Candidate;
    }
    if context.selection == TagSelection::Untagged {
        return TagVerdict::Keep(
            ReasonCode::NotSelected,
            Why::Fixed("tagged, and only untagged versions are selected"),
        );
    }
    if !rules.selects_beyond_orphans() {
        return only_orphans();
    }
    for tag in tags {
        if let Some(pattern) = rules.exclude_tags.iter().find(|p| p.is_match(tag)) {
            return TagVerdict::Keep(
                ReasonCode::ExcludedTag,
                Why::Text(format!(
                    "tag `{tag}` matches exclude_tags pattern `{pattern}`"
                )),
            );
        }
    }
    let (selected, unselected): (Vec<&str>, Vec<&str>) = tags.iter().partition(|tag| {
        rules.include_tags.is_empty() || rules.include_tags.iter().any(|p| p.is_match(tag))
    });
    let unselected: Vec<&str> = unselected
        .into_iter()
        .filter(|tag| !rules.protected_tags.iter().any(|p| p.is_match(tag)))
        .collect();
    match (selected.is_empty(), unselected.is_empty()) {
        (false, true) if is_root => TagVerdict::Candidate,
        (false, true) => TagVerdict::Follow,
        (false, false) => TagVerdict::Keep(
            ReasonCode::PartialTagMatch,
            Why::Text(format!(
                "tags {} match include_tags but {} do not; a version is deleted only when all its tags are selected",
                quoted(&selected),
                quoted(&unselected)
            )),
        ),
        (true, _) => TagVerdict::Keep(
            ReasonCode::NotSelected,
            Why::Text(format!(
                "no tag matches include_tags ({})",
                quoted(
                    &rules
                        .include_tags
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                )
            )),
        ),
    }
}

fn quoted(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// What `keep_newest` and `older_than` decide for the `rank`th newest (from 0) of `total`
/// selected versions; its words are [`ranked_detail`]'s.
fn candidate_verdict(
    context: &Context<'_>,
    rule: usize,
    versions: &Versions<'_>,
    i: usize,
    (rank, total): (usize, usize),
    lines: &Lines,
) -> Verdict {
    let rules = context.rules;
    let why = Why::Ranked {
        rank,
        total,
        rule: u16::try_from(rule).unwrap_or(u16::MAX),
    };
    if rules.keep_newest.is_some_and(|keep| rank < keep) {
        return Verdict::Keep(ReasonCode::NewestN, why);
    }
    for (keep, place, code, line) in [
        (
            rules.keep_per_major,
            lines.major.get(i),
            ReasonCode::NewestPerMajor,
            "major",
        ),
        (
            rules.keep_per_minor,
            lines.minor.get(i),
            ReasonCode::NewestPerMinor,
            "minor",
        ),
    ] {
        if let (Some(keep), Some(&place)) = (keep, place)
            && place < keep
            && let Some(release) = versions.releases.get(i).and_then(Option::as_ref)
        {
            let which = match line {
                "major" => release.major().to_string(),
                _ => format!("{}.{}", release.major(), release.minor()),
            };
            return Verdict::Keep(
                code,
                Why::Text(format!(
                    "the {} greatest selected version of {line} version {which} (keep_per_{line} {keep})",
                    ordinal(place + 1)
                )),
            );
        }
    }
    if let Some(cutoff) = context.cutoff
        && rules.older_than.is_some()
    {
        return if versions.keys[i] < cutoff {
            Verdict::Delete(ReasonCode::OlderThan, why)
        } else {
            Verdict::Keep(ReasonCode::TooNew, why)
        };
    }
    if rules.keep_newest.is_some() || rules.keep_per_line() {
        return Verdict::Delete(ReasonCode::BeyondNewestN, why);
    }
    if versions.user_tags[i].is_empty() {
        return Verdict::Delete(ReasonCode::Untagged, why);
    }
    Verdict::Delete(ReasonCode::TagMatch, why)
}

/// Whether the words of [`candidate_verdict`]'s verdict `reason` are the same for every
/// version of the package with that reason (see [`ranked_detail`]), so that 150,000 versions
/// beyond `keep_newest` share one: all but a version `keep_newest` keeps (its place and date)
/// and a tag match (its tags).
fn ranked_words_are_the_packages(reason: ReasonCode) -> bool {
    !matches!(reason, ReasonCode::NewestN | ReasonCode::TagMatch)
}

/// The words of [`candidate_verdict`]'s verdict `reason` on version `i`, the `rank`th newest
/// (from 0) of `total` selected.
fn ranked_detail(
    context: &Context<'_>,
    versions: &Versions<'_>,
    i: usize,
    reason: ReasonCode,
    rank: usize,
    total: usize,
) -> String {
    let rules = context.rules;
    let word = rules.order_by.word();
    let beyond = |then: &str| {
        let mut limits = Vec::new();
        if let Some(keep) = rules.keep_newest {
            limits.push(format!("keep_newest {keep} of {total} selected"));
        }
        if let Some(keep) = rules.keep_per_major {
            limits.push(format!(
                "the keep_per_major {keep} greatest of its major version"
            ));
        }
        if let Some(keep) = rules.keep_per_minor {
            limits.push(format!(
                "the keep_per_minor {keep} greatest of its minor version"
            ));
        }
        if limits.is_empty() {
            String::new()
        } else {
            format!("beyond {}{then}", limits.join(" and "))
        }
    };
    let against = || match (context.cutoff, &rules.older_than) {
        (Some(cutoff), Some(age)) => format!("the cut-off {} (older_than {age})", time(cutoff)),
        _ => String::new(),
    };
    match reason {
        ReasonCode::NewestN if rules.order_by.ranks_by_version() => format!(
            "{} greatest version of {total} selected (keep_newest {}, order_by version)",
            ordinal(rank + 1),
            rules.keep_newest.unwrap_or_default(),
        ),
        ReasonCode::NewestN => format!(
            "{} newest of {total} selected (keep_newest {}); {word} {}",
            ordinal(rank + 1),
            rules.keep_newest.unwrap_or_default(),
            time(versions.keys[i])
        ),
        ReasonCode::OlderThan => format!("{}{word} before {}", beyond(", and "), against()),
        ReasonCode::TooNew => format!("{}{word} not before {}", beyond(", but "), against()),
        ReasonCode::BeyondNewestN => beyond(""),
        ReasonCode::Untagged => "untagged, and untagged versions are selected".to_owned(),
        _ => {
            let why = if rules.include_tags.is_empty() {
                "tagged versions are selected"
            } else {
                "matches include_tags"
            };
            format!(
                "every tag ({}) is selected: {why}",
                quoted(&versions.user_tags[i])
            )
        }
    }
}

/// Each ranked version's place among the selected versions of its major and of its minor
/// version, greatest first (empty without `keep_per_major` and `keep_per_minor`).
#[derive(Default)]
struct Lines {
    major: Vec<usize>,
    minor: Vec<usize>,
}

impl Lines {
    fn of(rules: &Rules, versions: &Versions<'_>, candidates: &[usize]) -> Lines {
        if !rules.keep_per_line() {
            return Lines::default();
        }
        let places = |line: &dyn Fn(&EcosystemVersion) -> (u64, u64)| {
            let mut groups: HashMap<(u64, u64), Vec<usize>> = HashMap::new();
            for &i in candidates {
                if let Some(release) = versions.releases.get(i).and_then(Option::as_ref) {
                    groups.entry(line(release)).or_default().push(i);
                }
            }
            let mut place = vec![usize::MAX; versions.len()];
            for members in groups.values_mut() {
                members.sort_by(|&a, &b| {
                    (&versions.releases[b], versions.facts[b].id)
                        .cmp(&(&versions.releases[a], versions.facts[a].id))
                });
                for (at, &i) in members.iter().enumerate() {
                    place[i] = at;
                }
            }
            place
        };
        Lines {
            major: places(&|release| (release.major(), 0)),
            minor: places(&|release| (release.major(), release.minor())),
        }
    }
}

/// The ranked versions, newest first, and every version's own verdict: `keep_newest` and
/// `older_than` decide the ranked ones.
fn rank(
    context: &Context<'_>,
    rule: usize,
    versions: &Versions<'_>,
    tag_verdicts: &[TagVerdict],
) -> (Vec<usize>, Vec<Verdict>) {
    let mut candidates: Vec<usize> = (0..versions.len())
        .filter(|&i| tag_verdicts[i].is_ranked())
        .collect();
    versions.newest_first(&mut candidates);
    let mut rank = vec![0; versions.len()];
    for (position, &i) in candidates.iter().enumerate() {
        rank[i] = position;
    }
    let lines = Lines::of(context.rules, versions, &candidates);
    let verdicts = tag_verdicts
        .iter()
        .enumerate()
        .map(|(i, verdict)| match verdict {
            TagVerdict::Keep(code, why) => Verdict::Keep(*code, why.clone()),
            TagVerdict::Follow => Verdict::Follow,
            TagVerdict::Candidate => candidate_verdict(
                context,
                rule,
                versions,
                i,
                (rank[i], candidates.len()),
                &lines,
            ),
            TagVerdict::ProtectedCandidate(code, detail) => Verdict::Keep(
                *code,
                Why::Text(protected_candidate_detail(
                    context.rules,
                    detail,
                    rank[i],
                    candidates.len(),
                )),
            ),
            TagVerdict::Orphan(why) => orphan_verdict(context, versions, i, why.clone()),
        })
        .collect();
    (candidates, verdicts)
}

/// The detail of a protected version `keep_newest` ranks: its protection, and where it stands
/// among the N places it counts in.
fn protected_candidate_detail(
    rules: &Rules,
    protection: &str,
    rank: usize,
    total: usize,
) -> String {
    let Some(keep) = rules.keep_newest else {
        return protection.to_owned();
    };
    let position = format!("{} newest of {total} selected", ordinal(rank + 1));
    if rank < keep {
        format!("{protection}; {position}, so it takes one of the keep_newest {keep} places")
    } else {
        format!("{protection}; {position}, beyond keep_newest {keep}, but protected")
    }
}

fn orphan_verdict(
    context: &Context<'_>,
    versions: &Versions<'_>,
    i: usize,
    why: String,
) -> Verdict {
    if let (Some(cutoff), Some(age)) = (context.cutoff, &context.rules.older_than)
        && versions.keys[i] >= cutoff
    {
        return Verdict::Keep(
            ReasonCode::TooNew,
            Why::Text(format!(
                "an orphan ({why}), but {} {}, not before the cut-off {} (older_than {age}); it may be part of a push in progress",
                context.rules.order_by.word(),
                time(versions.keys[i]),
                time(cutoff)
            )),
        );
    }
    Verdict::Delete(ReasonCode::Orphan, Why::Text(format!("an orphan: {why}")))
}

fn selection_notes(
    context: &Context<'_>,
    versions: &Versions<'_>,
    candidates: &[usize],
    any_deleted: bool,
    graph: &PackageGraph,
    has_graph: bool,
    note: &mut impl FnMut(NoteKind, String),
) {
    let rules = context.rules;
    let name_count = versions.len();
    if rules.orphans {
        if !has_graph {
            note(
                NoteKind::SelectedNothing,
                "orphans: there is no image graph, so no orphan can be found".to_owned(),
            );
        } else if !graph.has_orphans() {
            note(
                NoteKind::SelectedNothing,
                "orphans: no orphan found".to_owned(),
            );
        }
    }
    if !rules.selects_beyond_orphans() || name_count == 0 {
        return;
    }
    if candidates.is_empty() {
        note(
            NoteKind::SelectedNothing,
            "the rules select no version".to_owned(),
        );
        return;
    }
    if let Some(keep) = rules.keep_newest
        && candidates.len() <= keep
    {
        note(
            NoteKind::SelectedNothing,
            format!(
                "keep_newest {keep} keeps all {} selected version{}",
                candidates.len(),
                if candidates.len() == 1 { "" } else { "s" }
            ),
        );
        return;
    }
    if let (Some(age), Some(cutoff)) = (&rules.older_than, context.cutoff)
        && !any_deleted
    {
        note(
            NoteKind::SelectedNothing,
            format!(
                "older_than {age}: no selected version{} is older than the cut-off {}",
                if rules.keep_newest.is_some() {
                    " beyond keep_newest"
                } else {
                    ""
                },
                time(cutoff)
            ),
        );
    }
}

/// The rules' verdicts together, for each version: a protection first, then a keep rule that
/// keeps it (keep wins over delete), then the first delete rule that deletes it, then one that
/// lets it follow its parents, then the first delete rule's reason to keep it. With one delete
/// rule (the flags), its own verdicts.
///
/// A keep rule keeps the roots it selects (those its `keep_newest`, `keep_per_*` or `newer_than`
/// keep, when given), and, when it has none of those, every tagged version whose tags it
/// selects that is not a root: a tag the rule names is never deleted with the index that lists
/// it.
fn combine(
    contexts: &[&Context<'_>],
    versions: &Versions<'_>,
    tag_verdicts: &[Vec<TagVerdict>],
    ranked: &mut [(Vec<usize>, Vec<Verdict>)],
) -> Combined {
    if let [context] = contexts
        && context.action == RuleAction::Delete
    {
        // One delete rule (the flags): its verdicts as they are, moved, not copied.
        return Combined {
            verdicts: std::mem::take(&mut ranked[0].1),
            deciders: None,
        };
    }
    let count = ranked.first().map_or(0, |(_, verdicts)| verdicts.len());
    let mut verdicts = Vec::with_capacity(count);
    let mut deciders = Vec::with_capacity(count);
    for i in 0..count {
        let (verdict, decider) = combine_one(contexts, versions, tag_verdicts, ranked, i);
        verdicts.push(verdict);
        deciders.push(decider);
    }
    Combined {
        verdicts,
        deciders: Some(deciders),
    }
}

/// The rules' verdicts together for version `i` (see [`combine`]); the chosen verdict is moved
/// out of `ranked`.
fn combine_one(
    contexts: &[&Context<'_>],
    versions: &Versions<'_>,
    tag_verdicts: &[Vec<TagVerdict>],
    ranked: &mut [(Vec<usize>, Vec<Verdict>)],
    i: usize,
) -> (Verdict, Decider) {
    let rule_index = |r: usize| Some(u16::try_from(r).unwrap_or(u16::MAX));
    let take = |ranked: &mut [(Vec<usize>, Vec<Verdict>)], r: usize| {
        std::mem::replace(&mut ranked[r].1[i], Verdict::Follow)
    };
    let mut keep_rule = None;
    let mut delete_rule = None;
    let mut follow_rule = None;
    let mut kept_by_delete_rule = None;
    for (r, context) in contexts.iter().enumerate() {
        let verdict = &ranked[r].1[i];
        if matches!(
            verdict,
            Verdict::Keep(ReasonCode::ProtectedVersion | ReasonCode::ProtectedTag, _)
        ) {
            return (take(ranked, r), Decider::default());
        }
        match context.action {
            RuleAction::Keep => {
                let keeps = match tag_verdicts[r][i] {
                    TagVerdict::Candidate => context.keep_rule_keeps(verdict),
                    TagVerdict::Follow => {
                        !versions.user_tags[i].is_empty()
                            && context.keep_rule_keeps(&Verdict::Follow)
                    }
                    _ => false,
                };
                if keep_rule.is_none() && keeps {
                    keep_rule = Some(r);
                }
            }
            RuleAction::Delete => {
                let slot = match verdict {
                    Verdict::Delete(..) => &mut delete_rule,
                    Verdict::Follow => &mut follow_rule,
                    Verdict::Keep(..) => &mut kept_by_delete_rule,
                };
                slot.get_or_insert(r);
            }
        }
    }
    if let Some(k) = keep_rule {
        let keeper = contexts[k].name.unwrap_or_default();
        let words = match delete_rule {
            Some(d) => {
                let reason = match &ranked[d].1[i] {
                    Verdict::Delete(code, _) => code.as_str(),
                    _ => "",
                };
                format!(
                    "rule `{keeper}` keeps it, and keep wins over rule `{}`, which would delete it ({reason})",
                    contexts[d].name.unwrap_or_default()
                )
            }
            None => format!("rule `{keeper}` keeps it"),
        };
        let decider = Decider {
            rule: rule_index(k),
            overruled: delete_rule.and_then(rule_index),
        };
        return (
            Verdict::Keep(ReasonCode::KeptByRule, Why::Text(words)),
            decider,
        );
    }
    match delete_rule.or(follow_rule).or(kept_by_delete_rule) {
        Some(r) => (
            take(ranked, r),
            Decider {
                rule: rule_index(r),
                overruled: None,
            },
        ),
        None => (
            Verdict::Keep(
                ReasonCode::NotSelected,
                Why::Fixed("no delete rule selects the package"),
            ),
            Decider::default(),
        ),
    }
}

/// Every version's verdict with the rules that gave it, side by side.
struct Combined {
    verdicts: Vec<Verdict>,
    /// Which rules gave each verdict; `None` when one rule gave them all (the flags), so that
    /// 150,000 versions do not each carry the same answer.
    deciders: Option<Vec<Decider>>,
}

impl Combined {
    /// Who decided version `i`, whose outcome is `outcome`: the rules that gave its verdict,
    /// or no rule for what the graph, a protection or GitHub's refusals decided.
    fn decider(deciders: Option<&[Decider]>, i: usize, outcome: &Outcome) -> Decider {
        if !outcome.by_rule {
            return Decider::default();
        }
        match deciders {
            Some(deciders) => deciders[i],
            None if decided_by_no_rule(outcome.reason) => Decider::default(),
            None => Decider {
                rule: Some(0),
                overruled: None,
            },
        }
    }

    /// Version `i`'s verdict is no rule's any more (GitHub's refusals replaced it).
    fn clear_decider(&mut self, i: usize) {
        if let Some(deciders) = &mut self.deciders {
            deciders[i] = Decider::default();
        }
    }
}

/// Whether a verdict with `reason` is the policy's, not one rule's: a protection, or one of
/// GitHub's refusals.
fn decided_by_no_rule(reason: ReasonCode) -> bool {
    matches!(
        reason,
        ReasonCode::ProtectedVersion
            | ReasonCode::ProtectedTag
            | ReasonCode::GithubRefusesLastTagged
            | ReasonCode::GithubRefusesLastVersion
    )
}

/// Applies the graph: a version is kept if its own verdict keeps it or a kept version reaches
/// it; a version that follows its parents and is reached by no kept version is deleted.
fn propagate(combined: &Combined, graph: &PackageGraph, versions: &Versions<'_>) -> Vec<Outcome> {
    let verdicts = &combined.verdicts;
    let mut kept = vec![false; verdicts.len()];
    let mut queue: VecDeque<usize> = VecDeque::new();
    for (i, verdict) in verdicts.iter().enumerate() {
        if matches!(verdict, Verdict::Keep(..)) {
            kept[i] = true;
            queue.push_back(i);
        }
    }
    while let Some(i) = queue.pop_front() {
        for &(dependent, _) in graph.dependents(i) {
            if !kept[dependent] {
                kept[dependent] = true;
                queue.push_back(dependent);
            }
        }
    }
    let follows_selected_tags = |i: usize| {
        if versions.user_tags[i].is_empty() {
            String::new()
        } else {
            "; its own tags are selected".to_owned()
        }
    };
    verdicts
        .iter()
        .enumerate()
        .map(|(i, verdict)| match verdict {
            Verdict::Keep(reason, detail) => Outcome {
                decision: Decision::Keep,
                reason: *reason,
                detail: detail.clone(),
                by_rule: true,
            },
            Verdict::Delete(reason, detail) if !kept[i] => Outcome {
                decision: Decision::Delete,
                reason: *reason,
                detail: detail.clone(),
                by_rule: true,
            },
            _ if kept[i] => {
                let kept_parents: Vec<(usize, EdgeKind)> = graph
                    .parents(i)
                    .iter()
                    .copied()
                    .filter(|&(parent, _)| kept[parent])
                    .collect();
                let listed = kept_parents
                    .iter()
                    .any(|&(_, kind)| kind == EdgeKind::Child);
                let (reason, relation) = if listed {
                    (ReasonCode::ChildOfKept, "listed by kept")
                } else {
                    (ReasonCode::ReferrerOfKept, "refers to kept")
                };
                Outcome {
                    decision: Decision::Keep,
                    reason,
                    detail: Why::Text(format!(
                        "{relation} {}",
                        versions.labels(kept_parents.iter().map(|&(p, _)| p))
                    )),
                    by_rule: false,
                }
            }
            _ => {
                let parents = graph.parents(i);
                let listed = parents.iter().any(|&(_, kind)| kind == EdgeKind::Child);
                let (reason, relation) = if listed {
                    (
                        ReasonCode::ChildOfDeleted,
                        "every index that lists it is deleted",
                    )
                } else {
                    (
                        ReasonCode::ReferrerOfDeleted,
                        "every version it refers to is deleted",
                    )
                };
                Outcome {
                    decision: Decision::Delete,
                    reason,
                    detail: Why::Text(format!(
                        "{relation}: {}{}",
                        versions.labels(parents.iter().map(|&(p, _)| p)),
                        follows_selected_tags(i)
                    )),
                    by_rule: false,
                }
            }
        })
        .collect()
}

/// Keeps what GitHub would refuse to delete, so that applying the plan never hits a refusal.
/// Returns a note per adjustment.
fn pre_empt_github_refusals(
    context: &Context<'_>,
    versions: &Versions<'_>,
    graph: &PackageGraph,
    verdicts: &mut Combined,
    outcomes: &mut Vec<Outcome>,
) -> Vec<String> {
    let mut messages = Vec::new();
    let user_tagged: Vec<usize> = (0..versions.len())
        .filter(|&i| !versions.user_tags[i].is_empty())
        .collect();
    let any_tagged: Vec<usize> = (0..versions.len())
        .filter(|&i| !versions.facts[i].tags.is_empty())
        .collect();
    let everything: Vec<usize> = (0..versions.len()).collect();
    // Each pass keeps one more version, so three passes settle all three rules.
    for _ in 0..3 {
        let all_deleted = |set: &[usize]| {
            !set.is_empty()
                && set
                    .iter()
                    .all(|&i| outcomes[i].decision == Decision::Delete)
        };
        let rescue = if context.container && all_deleted(&user_tagged) {
            versions.newest_of(user_tagged.iter().copied()).map(|i| {
                (
                    i,
                    ReasonCode::GithubRefusesLastTagged,
                    "the newest tagged version: GitHub refuses to delete the last tagged version of a container package",
                )
            })
        } else if context.container && all_deleted(&any_tagged) {
            versions.newest_of(any_tagged.iter().copied()).map(|i| {
                (
                    i,
                    ReasonCode::GithubRefusesLastTagged,
                    "the newest version with a tag (signature and referrer tags count for GitHub): GitHub refuses to delete the last tagged version of a container package",
                )
            })
        } else if all_deleted(&everything) {
            let roots = everything.iter().copied().filter(|&i| graph.is_root(i));
            versions
                .newest_of(roots)
                .or_else(|| versions.newest_of(everything.iter().copied()))
                .map(|i| {
                    (
                        i,
                        ReasonCode::GithubRefusesLastVersion,
                        "the newest version: GitHub refuses to delete the last version of a package (delete the package instead)",
                    )
                })
        } else {
            None
        };
        let Some((i, reason, why)) = rescue else {
            break;
        };
        // A child is held up by keeping its newest root ancestor (the whole image it belongs
        // to): kept alone, it would become a root once its parents are deleted, and the next
        // run would rank it against the roots this run kept.
        let holder = newest_root_ancestor(versions, graph, i);
        let was = outcomes[holder].reason;
        let why = if holder == i {
            why.to_owned()
        } else {
            format!("{why}; it holds up {}", versions.label(i))
        };
        verdicts.verdicts[holder] =
            Verdict::Keep(reason, Why::Text(format!("{why}; the rules said {was}")));
        verdicts.clear_decider(holder);
        messages.push(format!(
            "kept {} ({reason}): the rules would delete every {}",
            versions.label(holder),
            if reason == ReasonCode::GithubRefusesLastVersion {
                "version"
            } else {
                "tagged version"
            }
        ));
        *outcomes = propagate(verdicts, graph, versions);
    }
    messages
}

/// The newest root that reaches version `i` through its parents (`i` itself when it is a
/// root, or when only a cycle leads to it).
fn newest_root_ancestor(versions: &Versions<'_>, graph: &PackageGraph, i: usize) -> usize {
    let mut seen = BTreeSet::from([i]);
    let mut stack = vec![i];
    let mut roots = Vec::new();
    while let Some(at) = stack.pop() {
        if graph.is_root(at) {
            roots.push(at);
        }
        for &(parent, _) in graph.parents(at) {
            if seen.insert(parent) {
                stack.push(parent);
            }
        }
    }
    versions.newest_of(roots.into_iter()).unwrap_or(i)
}

/// Why the package's graph cannot be trusted with deletions, if it cannot: a cycle, a version
/// whose manifest could not be read or was not read (what it lists or refers to is unknown, so
/// it may hold up or belong to a kept graph), or a kept version that lists an entry which is
/// not a version and could not be followed (a kept tag that already does not pull whole).
fn damage(
    graph: &PackageGraph,
    versions: &Versions<'_>,
    outcomes: &[Outcome],
    has_graph: bool,
) -> Option<String> {
    if !has_graph {
        return None;
    }
    if let Some(cycle) = &graph.cycle {
        return Some(format!(
            "the image graph has a cycle ({})",
            cycle
                .iter()
                .map(|&i| versions.facts[i].id.to_string())
                .collect::<Vec<_>>()
                .join(" → ")
        ));
    }
    if let Some(i) = (0..versions.len()).find(|&i| graph.status(i).hides_references()) {
        return Some(format!(
            "version {} ({}): {}",
            versions.label(i),
            versions.facts[i].name,
            graph.status_words(i)
        ));
    }
    graph
        .missing_children
        .iter()
        .find(|missing| outcomes[missing.parent].decision == Decision::Keep)
        .map(|missing| {
            format!(
                "kept version {} lists {}, which cannot be followed: {}",
                versions.label(missing.parent),
                missing.digest,
                missing.why
            )
        })
}

fn override_deletions(outcomes: &mut [Outcome], reason: ReasonCode, why: &str) {
    for outcome in outcomes {
        if outcome.decision == Decision::Delete {
            outcome.detail = Why::Text(format!("{} would delete it, but {why}", outcome.reason));
            outcome.decision = Decision::Keep;
            outcome.reason = reason;
        }
    }
}

/// The deleted versions, parents before what depends on them (an index before its children, a
/// subject before its referrers), so that an interrupted run leaves only orphans behind, never
/// an index or subject without its children or referrers. Versions whose manifest hides its
/// references, and their ancestors, go first, since what they reference is unknown; otherwise
/// the oldest goes first.
fn deletion_order(
    outcomes: &[Outcome],
    graph: &PackageGraph,
    versions: &Versions<'_>,
) -> Vec<usize> {
    let deleted: Vec<bool> = outcomes
        .iter()
        .map(|o| o.decision == Decision::Delete)
        .collect();
    let mut class = vec![2u8; versions.len()];
    let mut queue: VecDeque<usize> = (0..versions.len())
        .filter(|&i| deleted[i] && graph.status(i).hides_references())
        .collect();
    for &i in &queue {
        class[i] = 0;
    }
    while let Some(i) = queue.pop_front() {
        for &(parent, _) in graph.parents(i) {
            if class[parent] == 2 {
                class[parent] = 1;
                queue.push_back(parent);
            }
        }
    }
    let mut waiting: Vec<usize> = (0..versions.len())
        .map(|i| {
            graph
                .parents(i)
                .iter()
                .filter(|&&(p, _)| deleted[p])
                .count()
        })
        .collect();
    // Every deleted version's place in the preferred order (class, then oldest first): the
    // versions that are ready wait in a heap of places, four bytes each.
    let mut preferred: Vec<usize> = (0..versions.len()).filter(|&i| deleted[i]).collect();
    preferred.sort_unstable_by_key(|&i| (class[i], versions.keys[i], versions.facts[i].id));
    let mut place = vec![u32::MAX; versions.len()];
    for (at, &i) in preferred.iter().enumerate() {
        // MAX_DECISIONS bounds the versions of a plan far below u32::MAX.
        place[i] = at as u32;
    }
    let mut ready: BinaryHeap<Reverse<u32>> = preferred
        .iter()
        .filter(|&&i| waiting[i] == 0)
        .map(|&i| Reverse(place[i]))
        .collect();
    let mut order = Vec::with_capacity(preferred.len());
    while let Some(Reverse(at)) = ready.pop() {
        let i = preferred[at as usize];
        order.push(i);
        for &(dependent, _) in graph.dependents(i) {
            if deleted[dependent] {
                waiting[dependent] -= 1;
                if waiting[dependent] == 0 {
                    ready.push(Reverse(place[dependent]));
                }
            }
        }
    }
    // Deleted versions on a cycle never become ready; a package with a cycle deletes nothing.
    debug_assert_eq!(order.len(), deleted.iter().filter(|&&d| d).count());
    order
}

fn links(
    graph: &PackageGraph,
    versions: &Versions<'_>,
    outcomes: &[Outcome],
    i: usize,
) -> GraphLinks {
    let role = if graph.is_root(i) {
        if graph.orphan(i).is_some() {
            GraphRole::Orphan
        } else {
            GraphRole::Root
        }
    } else if graph
        .parents(i)
        .iter()
        .any(|&(_, kind)| kind == EdgeKind::Child)
    {
        GraphRole::Child
    } else {
        GraphRole::Referrer
    };
    let ids = |indexes: &mut dyn Iterator<Item = usize>| {
        let mut ids: Vec<u64> = indexes.map(|j| versions.facts[j].id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let manifest: ManifestStatus = graph.status(i);
    GraphLinks {
        role,
        manifest,
        parents: ids(&mut graph.parents(i).iter().map(|&(p, _)| p)),
        carries: ids(
            &mut graph.dependents(i).iter().map(|&(d, _)| d).filter(|&d| {
                outcomes[d].reason.follows_parents() && outcomes[d].decision == outcomes[i].decision
            }),
        ),
    }
}
