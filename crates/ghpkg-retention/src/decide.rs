//! Deciding one package: tag rules, then `keep_newest` and `older_than` on the roots, then the
//! graph, then GitHub's refusals, then failing closed. The one place where decisions are made.

use std::collections::{BTreeSet, VecDeque};

use chrono::{DateTime, SecondsFormat, Utc};

use crate::facts::{PackageFacts, Target, VersionFacts};
use crate::graph::{EdgeKind, ManifestStatus, PackageGraph};
use crate::image::attachment_subject;
use crate::plan::{
    GraphLinks, GraphRole, MissingChild, Note, NoteKind, PackagePlan, PlannedDeletion,
    VersionDecision,
};
use crate::reason::{Decision, ReasonCode};
use crate::rules::{Rules, TagSelection};

/// What every package is decided with.
pub(crate) struct Context<'a> {
    pub rules: &'a Rules,
    pub container: bool,
    pub selection: TagSelection,
    pub cutoff: Option<DateTime<Utc>>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(target: &Target, rules: &'a Rules, now: DateTime<Utc>) -> Context<'a> {
        Context {
            rules,
            container: target.is_container(),
            selection: rules.effective_tag_selection(),
            cutoff: rules.older_than.as_ref().map(|age| age.cutoff(now)),
        }
    }
}

/// One package, decided.
pub(crate) struct PackageOutcome {
    pub plan: PackagePlan,
    pub deletions: Vec<PlannedDeletion>,
    pub notes: Vec<Note>,
}

/// What the tag rules say about one version.
enum TagVerdict {
    Keep(ReasonCode, String),
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
    Keep(ReasonCode, String),
    Delete(ReasonCode, String),
    Follow,
}

/// A version's decision.
#[derive(Clone)]
struct Outcome {
    decision: Decision,
    reason: ReasonCode,
    detail: String,
}

/// The versions of one package with what is derived from them once.
struct Versions<'a> {
    facts: &'a [VersionFacts],
    user_tags: Vec<Vec<&'a str>>,
    keys: Vec<DateTime<Utc>>,
}

impl Versions<'_> {
    fn len(&self) -> usize {
        self.facts.len()
    }

    /// Sorts newest first by the rules' timestamp, ties broken by the larger id.
    fn newest_first(&self, indexes: &mut [usize]) {
        indexes.sort_by(|&a, &b| {
            (self.keys[b], self.facts[b].id).cmp(&(self.keys[a], self.facts[a].id))
        });
    }

    fn newest_of(&self, indexes: impl Iterator<Item = usize>) -> Option<usize> {
        indexes.max_by_key(|&i| (self.keys[i], self.facts[i].id))
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
    fn new(package: &'a PackageFacts, rules: &Rules) -> Versions<'a> {
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
                .map(|v| rules.order_by.timestamp(v))
                .collect(),
        }
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
    let versions = Versions::new(package, context.rules);
    let graph = PackageGraph::without_manifests(versions.len());
    let verdicts: Vec<TagVerdict> = (0..versions.len())
        .map(|i| tag_verdict(context, &versions, &graph, i))
        .collect();
    let mut candidates: Vec<usize> = (0..versions.len())
        .filter(|&i| verdicts[i].is_ranked())
        .collect();
    versions.newest_first(&mut candidates);
    candidates.iter().enumerate().any(|(rank, &i)| {
        matches!(verdicts[i], TagVerdict::Candidate)
            && matches!(
                candidate_verdict(context, &versions, i, rank, candidates.len()),
                Verdict::Delete(..)
            )
    })
}

pub(crate) fn decide_package(context: &Context<'_>, package: &PackageFacts) -> PackageOutcome {
    let rules = context.rules;
    let versions = Versions::new(package, rules);
    let has_user_tags: Vec<bool> = versions.user_tags.iter().map(|t| !t.is_empty()).collect();
    let graph = match &package.graph {
        Some(facts) => PackageGraph::build(versions.facts, &has_user_tags, facts),
        None => PackageGraph::without_manifests(versions.len()),
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

    // 1. The tag rules, for every version.
    let mut include_matched = vec![false; rules.include_tags.len()];
    let tag_verdicts: Vec<TagVerdict> = (0..versions.len())
        .map(|i| {
            for (k, pattern) in rules.include_tags.iter().enumerate() {
                include_matched[k] |= versions.user_tags[i].iter().any(|t| pattern.is_match(t));
            }
            tag_verdict(context, &versions, &graph, i)
        })
        .collect();
    for (pattern, matched) in rules.include_tags.iter().zip(&include_matched) {
        if !matched {
            note(
                NoteKind::SelectedNothing,
                format!("include pattern `{pattern}` matched no tag in {name}"),
            );
        }
    }

    // 2. keep_newest and older_than, for the selected roots, protected ones included (they take
    // their places but stay); older_than for selected orphans.
    // 3. The graph: what a kept version reaches is kept; the rest of the followers go.
    // A protected version that is not a root, but whose parents all go, is a root once they are
    // gone: it is ranked as the root it will be, so that the next run ranks the same versions
    // and plans nothing more. Each round ranks at least one more version, so the loop ends.
    let ranked_once_alone: Vec<bool> = (0..versions.len())
        .map(|i| {
            !graph.is_root(i)
                && protection(rules, &versions, i).is_some()
                && matches!(
                    selection_verdict(context, &versions, &graph, i, true),
                    TagVerdict::Candidate
                )
        })
        .collect();
    let mut tag_verdicts = tag_verdicts;
    let (candidates, mut verdicts, mut outcomes) = loop {
        let (candidates, verdicts) = rank(context, &versions, &tag_verdicts);
        let outcomes = propagate(&verdicts, &graph, &versions);
        let alone: Vec<usize> = (0..versions.len())
            .filter(|&i| {
                ranked_once_alone[i]
                    && !tag_verdicts[i].is_ranked()
                    && graph.parents[i]
                        .iter()
                        .all(|&(parent, _)| outcomes[parent].decision == Decision::Delete)
            })
            .collect();
        if alone.is_empty() {
            break (candidates, verdicts, outcomes);
        }
        for i in alone {
            if let TagVerdict::Keep(code, why) = &tag_verdicts[i] {
                tag_verdicts[i] = TagVerdict::ProtectedCandidate(
                    *code,
                    format!("{why}; everything it belongs to is deleted, so it stands alone"),
                );
            }
        }
    };
    selection_notes(
        context,
        &versions,
        &candidates,
        &verdicts,
        &graph,
        package.graph.is_some(),
        &mut note,
    );

    // 4. GitHub's refusals, then failing closed.
    let mut fail_closed = None;
    if context.container && package.graph.is_none() {
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
            pre_empt_github_refusals(context, &versions, &graph, &mut verdicts, &mut outcomes)
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
    let deletions = order
        .iter()
        .map(|&i| PlannedDeletion {
            package: name.to_owned(),
            id: versions.facts[i].id,
            name: versions.facts[i].name.clone(),
        })
        .collect();
    let mut display: Vec<usize> = (0..versions.len()).collect();
    versions.newest_first(&mut display);
    // The verdicts' words are no longer needed, and each outcome's go to its decision: one
    // copy of each version's detail, not three (150,000 of them in a large package).
    drop((tag_verdicts, verdicts, candidates));
    let mut decisions = Vec::with_capacity(display.len());
    for i in display {
        let graph_links = package
            .graph
            .as_ref()
            .map(|_| links(&graph, &versions, &outcomes, i));
        let facts = &versions.facts[i];
        let outcome = &mut outcomes[i];
        decisions.push(VersionDecision {
            id: facts.id,
            name: facts.name.clone(),
            tags: facts.tags.clone(),
            created_at: facts.created_at,
            updated_at: facts.updated_at,
            decision: outcome.decision,
            reason: outcome.reason,
            detail: std::mem::take(&mut outcome.detail),
            graph: graph_links,
        });
    }
    PackageOutcome {
        plan: PackagePlan {
            name: name.to_owned(),
            image_graph: package.graph.is_some(),
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
        (Some((code, why)), _) => TagVerdict::Keep(code, why),
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

/// The tag rules' verdict on version `i` as if nothing were protected, except that a protected
/// tag never makes a match partial: it is accounted for by the protection. `as_root` decides it
/// as if nothing listed it or were referred to by it.
fn selection_verdict(
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
            "only orphans are selected (no keep_newest, older_than, include_tags or tag_selection)"
                .to_owned(),
        )
    };
    if tags.is_empty() {
        if !is_root {
            return TagVerdict::Follow;
        }
        if let Some(why) = &graph.orphan[i]
            && rules.orphans
        {
            return TagVerdict::Orphan(why.clone());
        }
        if context.selection == TagSelection::Tagged {
            let implied = if rules.tag_selection.is_none() {
                " (include_tags imply tag_selection: tagged)"
            } else {
                ""
            };
            return TagVerdict::Keep(
                ReasonCode::NotSelected,
                format!("untagged, and only tagged versions are selected{implied}"),
            );
        }
        if !rules.selects_beyond_orphans() {
            return only_orphans();
        }
        return TagVerdict::Candidate;
    }
    if context.selection == TagSelection::Untagged {
        return TagVerdict::Keep(
            ReasonCode::NotSelected,
            "tagged, and only untagged versions are selected".to_owned(),
        );
    }
    if !rules.selects_beyond_orphans() {
        return only_orphans();
    }
    for tag in tags {
        if let Some(pattern) = rules.exclude_tags.iter().find(|p| p.is_match(tag)) {
            return TagVerdict::Keep(
                ReasonCode::ExcludedTag,
                format!("tag `{tag}` matches exclude_tags pattern `{pattern}`"),
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
            format!(
                "tags {} match include_tags but {} do not; a version is deleted only when all its tags are selected",
                quoted(&selected),
                quoted(&unselected)
            ),
        ),
        (true, _) => TagVerdict::Keep(
            ReasonCode::NotSelected,
            format!(
                "no tag matches include_tags ({})",
                quoted(
                    &rules
                        .include_tags
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                )
            ),
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

fn candidate_verdict(
    context: &Context<'_>,
    versions: &Versions<'_>,
    i: usize,
    rank: usize,
    total: usize,
) -> Verdict {
    let rules = context.rules;
    let when = format!("{} {}", rules.order_by.word(), time(versions.keys[i]));
    let position = format!("{} newest of {total} selected", ordinal(rank + 1));
    if let Some(keep) = rules.keep_newest
        && rank < keep
    {
        return Verdict::Keep(
            ReasonCode::NewestN,
            format!("{position} (keep_newest {keep}); {when}"),
        );
    }
    if let (Some(cutoff), Some(age)) = (context.cutoff, &rules.older_than) {
        let against = format!("the cut-off {} (older_than {age})", time(cutoff));
        return if versions.keys[i] < cutoff {
            Verdict::Delete(
                ReasonCode::OlderThan,
                format!("{position}; {when}, before {against}"),
            )
        } else {
            Verdict::Keep(
                ReasonCode::TooNew,
                format!("{position}; {when}, not before {against}"),
            )
        };
    }
    if let Some(keep) = rules.keep_newest {
        return Verdict::Delete(
            ReasonCode::BeyondNewestN,
            format!("{position}, beyond keep_newest {keep}"),
        );
    }
    let tags = &versions.user_tags[i];
    if tags.is_empty() {
        return Verdict::Delete(
            ReasonCode::Untagged,
            "untagged, and untagged versions are selected".to_owned(),
        );
    }
    let why = if rules.include_tags.is_empty() {
        "tagged versions are selected".to_owned()
    } else {
        "matches include_tags".to_owned()
    };
    Verdict::Delete(
        ReasonCode::TagMatch,
        format!("every tag ({}) is selected: {why}", quoted(tags)),
    )
}

/// The ranked versions, newest first, and every version's own verdict: `keep_newest` and
/// `older_than` decide the ranked ones.
fn rank(
    context: &Context<'_>,
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
    let verdicts = tag_verdicts
        .iter()
        .enumerate()
        .map(|(i, verdict)| match verdict {
            TagVerdict::Keep(code, detail) => Verdict::Keep(*code, detail.clone()),
            TagVerdict::Follow => Verdict::Follow,
            TagVerdict::Candidate => {
                candidate_verdict(context, versions, i, rank[i], candidates.len())
            }
            TagVerdict::ProtectedCandidate(code, detail) => Verdict::Keep(
                *code,
                protected_candidate_detail(context.rules, detail, rank[i], candidates.len()),
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
            format!(
                "an orphan ({why}), but {} {}, not before the cut-off {} (older_than {age}); it may be part of a push in progress",
                context.rules.order_by.word(),
                time(versions.keys[i]),
                time(cutoff)
            ),
        );
    }
    Verdict::Delete(ReasonCode::Orphan, format!("an orphan: {why}"))
}

fn selection_notes(
    context: &Context<'_>,
    versions: &Versions<'_>,
    candidates: &[usize],
    verdicts: &[Verdict],
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
        } else if graph.orphan.iter().all(Option::is_none) {
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
            "the tag rules select no version".to_owned(),
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
    if let (Some(age), Some(cutoff)) = (&rules.older_than, context.cutoff) {
        let any_old = candidates
            .iter()
            .any(|&i| matches!(verdicts[i], Verdict::Delete(..)));
        if !any_old {
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
}

/// Applies the graph: a version is kept if its own verdict keeps it or a kept version reaches
/// it; a version that follows its parents and is reached by no kept version is deleted.
fn propagate(verdicts: &[Verdict], graph: &PackageGraph, versions: &Versions<'_>) -> Vec<Outcome> {
    let mut kept = vec![false; verdicts.len()];
    let mut queue: VecDeque<usize> = VecDeque::new();
    for (i, verdict) in verdicts.iter().enumerate() {
        if matches!(verdict, Verdict::Keep(..)) {
            kept[i] = true;
            queue.push_back(i);
        }
    }
    while let Some(i) = queue.pop_front() {
        for &(dependent, _) in &graph.dependents[i] {
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
            },
            Verdict::Delete(reason, detail) if !kept[i] => Outcome {
                decision: Decision::Delete,
                reason: *reason,
                detail: detail.clone(),
            },
            _ if kept[i] => {
                let kept_parents: Vec<(usize, EdgeKind)> = graph.parents[i]
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
                    detail: format!(
                        "{relation} {}",
                        versions.labels(kept_parents.iter().map(|&(p, _)| p))
                    ),
                }
            }
            _ => {
                let parents = &graph.parents[i];
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
                    detail: format!(
                        "{relation}: {}{}",
                        versions.labels(parents.iter().map(|&(p, _)| p)),
                        follows_selected_tags(i)
                    ),
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
    verdicts: &mut [Verdict],
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
        verdicts[holder] = Verdict::Keep(reason, format!("{why}; the rules said {was}"));
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
        for &(parent, _) in &graph.parents[at] {
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
    if let Some(i) = (0..versions.len()).find(|&i| graph.status[i].0.hides_references()) {
        return Some(format!(
            "version {} ({}): {}",
            versions.label(i),
            versions.facts[i].name,
            graph.status[i].1
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
            outcome.detail = format!("{} would delete it, but {why}", outcome.reason);
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
        .filter(|&i| deleted[i] && graph.status[i].0.hides_references())
        .collect();
    for &i in &queue {
        class[i] = 0;
    }
    while let Some(i) = queue.pop_front() {
        for &(parent, _) in &graph.parents[i] {
            if class[parent] == 2 {
                class[parent] = 1;
                queue.push_back(parent);
            }
        }
    }
    let mut waiting: Vec<usize> = (0..versions.len())
        .map(|i| {
            graph.parents[i]
                .iter()
                .filter(|&&(p, _)| deleted[p])
                .count()
        })
        .collect();
    let entry = |i: usize| (class[i], versions.keys[i], versions.facts[i].id, i);
    let mut ready: BTreeSet<(u8, DateTime<Utc>, u64, usize)> = (0..versions.len())
        .filter(|&i| deleted[i] && waiting[i] == 0)
        .map(entry)
        .collect();
    let mut order = Vec::new();
    while let Some((_, _, _, i)) = ready.pop_first() {
        order.push(i);
        for &(dependent, _) in &graph.dependents[i] {
            if deleted[dependent] {
                waiting[dependent] -= 1;
                if waiting[dependent] == 0 {
                    ready.insert(entry(dependent));
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
        if graph.orphan[i].is_some() {
            GraphRole::Orphan
        } else {
            GraphRole::Root
        }
    } else if graph.parents[i]
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
    let manifest: ManifestStatus = graph.status[i].0;
    GraphLinks {
        role,
        manifest,
        parents: ids(&mut graph.parents[i].iter().map(|&(p, _)| p)),
        carries: ids(
            &mut graph.dependents[i].iter().map(|&(d, _)| d).filter(|&d| {
                outcomes[d].reason.follows_parents() && outcomes[d].decision == outcomes[i].decision
            }),
        ),
    }
}
