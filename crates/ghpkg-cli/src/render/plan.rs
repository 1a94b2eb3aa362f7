//! A retention plan as a person reads it: per package, every version deleted and why, the kept
//! ones by reason (every one with `--verbose`), the image graph each version carries, then the
//! summary, the budget, the notes and the plan's SHA-256.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, Utc};
use ghpkg::retention::{
    Decision, GraphLinks, GraphRole, PackagePlan, Plan, ReasonCode, Rules, TagSelection,
    VersionDecision,
};

use super::names::{short_name, short_tag};
use super::table::{Cell, Table};
use super::time::{count, counted, relative, timestamp};
use super::{DELETE, DIM, ERROR, HEADING, KEEP, WARN, styled};

/// How many kept versions are named per reason when they are not all listed.
const EXAMPLES_PER_REASON: usize = 3;

/// The whole plan, for people. `verbose` lists every kept version.
pub fn plan(plan: &Plan, now: DateTime<Utc>, verbose: bool) -> String {
    let mut out = String::new();
    write_plan(plan, now, verbose, &mut out);
    out
}

/// [`plan`], written to `out` as it is made (a plan of 150,000 versions is never held as text).
pub fn write_plan(plan: &Plan, now: DateTime<Utc>, verbose: bool, out: &mut impl Write) {
    let _ = out.write_str(&heading(plan));
    for package in &plan.packages {
        let _ = out.write_char('\n');
        write_package_section(package, now, verbose, out);
    }
    if plan.packages.is_empty() {
        let _ = out.write_str("\nNo packages matched, so there is nothing to plan.\n");
    }
    let _ = out.write_char('\n');
    let _ = out.write_str(&summary(plan));
}

/// What the plan is for and with which rules.
pub fn heading(plan: &Plan) -> String {
    let inputs = &plan.inputs;
    let mut out = format!(
        "{} {}\n",
        styled(HEADING, "Plan for"),
        styled(HEADING, inputs.target.to_string())
    );
    match &inputs.policy {
        Some(policy) => out.push_str(&format!(
            "  {} {} ({}); {}\n",
            styled(DIM, "policy:"),
            counted(policy.rules.len(), "rule"),
            policy
                .rules
                .iter()
                .map(|rule| format!("{} `{}`", rule.action, rule.name))
                .collect::<Vec<_>>()
                .join(", "),
            shared_rules(&inputs.rules)
        )),
        None => out.push_str(&format!(
            "  {} {}\n",
            styled(DIM, "rules:"),
            rules(&inputs.rules, inputs.tag_selection)
        )),
    }
    let cutoff = inputs
        .cutoff
        .map(|cutoff| {
            format!(
                "; versions dated before {} are old enough",
                timestamp(cutoff)
            )
        })
        .unwrap_or_default();
    out.push_str(&format!(
        "  {} {}{cutoff}\n",
        styled(DIM, "made:"),
        timestamp(plan.created_at)
    ));
    out
}

/// Patterns as they were written, `, ` between them.
pub fn patterns(patterns: &[ghpkg::retention::TagPattern]) -> String {
    patterns
        .iter()
        .map(|pattern| pattern.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rules in words, as flags would give them.
pub fn rules(rules: &Rules, selection: TagSelection) -> String {
    let mut parts = Vec::new();
    let order = rules.order_by.word();
    if let Some(keep) = rules.keep_newest {
        if rules.order_by.ranks_by_version() {
            parts.push(format!("keep the greatest {keep} (by version)"));
        } else {
            parts.push(format!("keep the newest {keep} (by {order})"));
        }
    }
    if let Some(age) = &rules.older_than {
        parts.push(format!("older than {} (by {order})", age.as_str()));
    }
    if !rules.include_tags.is_empty() {
        parts.push(format!("include {}", patterns(&rules.include_tags)));
    }
    if !rules.exclude_tags.is_empty() {
        parts.push(format!("exclude {}", patterns(&rules.exclude_tags)));
    }
    parts.push(
        match selection {
            TagSelection::Tagged => "tagged versions",
            TagSelection::Untagged => "untagged versions",
            TagSelection::Both => "tagged and untagged versions",
        }
        .to_string(),
    );
    if rules.orphans {
        parts.push("orphans".to_string());
    }
    if !rules.version_match.is_empty() {
        parts.push(format!("versions named {}", patterns(&rules.version_match)));
    }
    if !rules.exclude_versions.is_empty() {
        parts.push(format!(
            "not versions named {}",
            patterns(&rules.exclude_versions)
        ));
    }
    if rules.prerelease_only {
        parts.push("pre-releases only".to_string());
    }
    if let Some(keep) = rules.keep_per_major {
        parts.push(format!("keep the greatest {keep} of each major version"));
    }
    if let Some(keep) = rules.keep_per_minor {
        parts.push(format!("keep the greatest {keep} of each minor version"));
    }
    parts.push(shared_rules(rules));
    parts.join("; ")
}

/// The protections and budgets, which a policy's rules share.
fn shared_rules(rules: &Rules) -> String {
    let mut parts = Vec::new();
    if rules.protected_tags.is_empty() {
        parts.push("no protected tags".to_string());
    } else {
        parts.push(format!("protect tags {}", patterns(&rules.protected_tags)));
    }
    if !rules.protected_versions.is_empty() {
        parts.push(format!(
            "protect versions {}",
            rules.protected_versions.join(", ")
        ));
    }
    if let Some(max) = rules.max_deletions {
        parts.push(format!("at most {} deletions", count(max as u64)));
    }
    if let Some(max) = rules.max_percent {
        parts.push(format!("at most {max}% of a package"));
    }
    parts.join("; ")
}

fn write_package_section(
    package: &PackagePlan,
    now: DateTime<Utc>,
    verbose: bool,
    out: &mut impl Write,
) {
    let deleted: Vec<&VersionDecision> = package
        .decisions
        .iter()
        .filter(|d| d.decision == Decision::Delete)
        .collect();
    let kept: Vec<&VersionDecision> = package
        .decisions
        .iter()
        .filter(|d| d.decision == Decision::Keep)
        .collect();
    let mut text = format!(
        "{}  {}: {}, {}\n",
        styled(HEADING, &package.name),
        counted(package.decisions.len(), "version"),
        styled(DELETE, format!("delete {}", count(deleted.len() as u64))),
        styled(KEEP, format!("keep {}", count(kept.len() as u64))),
    );
    if let Some(reason) = &package.fail_closed {
        text.push_str(&format!(
            "  {} nothing in this package is deleted: {reason}\n",
            styled(WARN, "fail-closed:")
        ));
    }
    if !deleted.is_empty() {
        // A plan is printed before anything is deleted, with or without --apply.
        text.push_str(&format!("\n  {}\n", styled(DELETE, "To delete")));
        let _ = out.write_str(&std::mem::take(&mut text));
        write_versions_table(&deleted, package.image_graph, now, out);
    }
    if !kept.is_empty() {
        if verbose {
            text.push_str(&format!("\n  {}\n", styled(KEEP, "Kept")));
            let _ = out.write_str(&std::mem::take(&mut text));
            write_versions_table(&kept, package.image_graph, now, out);
        } else {
            let shared = shared_with_deleted(&kept, &deleted);
            if !shared.is_empty() {
                text.push_str(&format!(
                    "\n  {} {}\n",
                    styled(KEEP, "Kept because a kept image still uses them"),
                    styled(DIM, "(also listed by a deleted one)")
                ));
                text.push_str(&shared.render());
            }
            text.push_str(&format!(
                "\n  {} {}\n",
                styled(KEEP, "Kept, by reason"),
                styled(DIM, "(--verbose lists each)")
            ));
            text.push_str(&kept_by_reason(&kept).render());
        }
    }
    if !package.missing_children.is_empty() {
        text.push_str(&format!(
            "\n  {} {} index entries name digests that are not versions of this package\n",
            styled(WARN, "missing children:"),
            count(package.missing_children.len() as u64)
        ));
    }
    let _ = out.write_str(&text);
}

/// The versions' table (id, name or tags, age, reason, graph, detail), streamed to `out`.
fn write_versions_table(
    versions: &[&VersionDecision],
    image_graph: bool,
    now: DateTime<Utc>,
    out: &mut impl Write,
) {
    // A graph column only says something when a version is more than a lone root.
    let image_graph = image_graph
        && versions.iter().any(|version| {
            version
                .graph
                .as_ref()
                .is_some_and(|links| links.role != GraphRole::Root || !links.carries.is_empty())
        });
    // A policy's plan names the rule of each decision.
    let rules = versions.iter().any(|version| version.policy.is_some());
    let mut header = vec!["ID", "TAGS / NAME", "CREATED", "REASON"];
    if rules {
        header.push("RULE");
    }
    if image_graph {
        header.push("GRAPH");
    }
    header.push("DETAIL");
    let row = |version: &&VersionDecision| {
        let style = match version.decision {
            Decision::Delete => DELETE,
            Decision::Keep => KEEP,
        };
        let mut row = vec![
            Cell::new(version.id.to_string()),
            Cell::new(label(version)),
            Cell::new(relative(version.created_at, now)),
            Cell::new(version.reason.as_str()).style(style),
        ];
        if rules {
            row.push(Cell::new(
                version
                    .policy
                    .as_ref()
                    .map(|rule| rule.rule.as_str())
                    .unwrap_or_default(),
            ));
        }
        if image_graph {
            row.push(Cell::new(
                version.graph.as_deref().map(graph).unwrap_or_default(),
            ));
        }
        row.push(Cell::new(&*version.detail).style(DIM));
        row
    };
    Table::stream(&header, 4, || versions.iter().map(row), out);
}

fn shared_with_deleted(kept: &[&VersionDecision], deleted: &[&VersionDecision]) -> Table {
    let deleted_ids: Vec<u64> = deleted.iter().map(|d| d.id).collect();
    let mut table = Table::new(&[]).indent(4);
    for version in kept {
        let Some(links) = &version.graph else {
            continue;
        };
        let (deleted_parents, kept_parents): (Vec<u64>, Vec<u64>) = links
            .parents
            .iter()
            .partition(|parent| deleted_ids.contains(parent));
        if deleted_parents.is_empty() || kept_parents.is_empty() {
            continue;
        }
        let ids = |ids: &[u64]| {
            ids.iter()
                .map(|id| {
                    let named = kept.iter().find(|k| k.id == *id && !k.tags.is_empty());
                    match named {
                        Some(parent) => format!("{id} ({})", label(parent)),
                        None => id.to_string(),
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        table.row(vec![
            Cell::new(version.id.to_string()),
            Cell::new(label(version)),
            Cell::new(version.reason.as_str()).style(KEEP),
            Cell::new(format!(
                "used by kept {}; also listed by deleted {}",
                ids(&kept_parents),
                ids(&deleted_parents)
            ))
            .style(DIM),
        ]);
    }
    table
}

fn kept_by_reason(kept: &[&VersionDecision]) -> Table {
    let mut by_reason: BTreeMap<ReasonCode, Vec<&VersionDecision>> = BTreeMap::new();
    for version in kept {
        by_reason.entry(version.reason).or_default().push(version);
    }
    let mut table = Table::new(&[]).indent(4);
    for (reason, versions) in by_reason {
        let mut examples: Vec<String> = versions
            .iter()
            .take(EXAMPLES_PER_REASON)
            .map(|version| format!("{} ({})", version.id, label(version)))
            .collect();
        if versions.len() > EXAMPLES_PER_REASON {
            examples.push(format!(
                "{} more",
                count((versions.len() - EXAMPLES_PER_REASON) as u64)
            ));
        }
        table.row(vec![
            Cell::new(reason.as_str()).style(KEEP),
            Cell::new(count(versions.len() as u64)).right(),
            Cell::new(format!("e.g. {}", examples.join(", "))).style(DIM),
        ]);
    }
    table
}

/// A version as a person recognises it: its tags, else its name (digests shortened).
fn label(version: &VersionDecision) -> String {
    if version.tags.is_empty() {
        short_name(&version.name)
    } else {
        version
            .tags
            .iter()
            .map(|tag| short_tag(tag))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A version's place in the image graph: `index of 4`, `child of 12`, `orphan`.
fn graph(links: &GraphLinks) -> String {
    let ids = |ids: &[u64]| {
        let shown: Vec<String> = ids.iter().take(3).map(u64::to_string).collect();
        let more = ids.len().saturating_sub(3);
        if more > 0 {
            format!("{} +{more}", shown.join(", "))
        } else {
            shown.join(", ")
        }
    };
    let mut text = match links.role {
        GraphRole::Root => "root".to_string(),
        GraphRole::Orphan => "orphan".to_string(),
        GraphRole::Child => format!("child of {}", ids(&links.parents)),
        GraphRole::Referrer => format!("referrer of {}", ids(&links.parents)),
    };
    if !links.carries.is_empty() {
        text.push_str(&format!(", carries {}", ids(&links.carries)));
    }
    text
}

/// The summary, the budget, the notes and the SHA-256.
pub fn summary(plan: &Plan) -> String {
    let summary = &plan.summary;
    let mut out = format!(
        "{} {}, {}: {}, {}\n",
        styled(HEADING, "Summary:"),
        counted(summary.packages, "package"),
        counted(summary.versions, "version"),
        styled(DELETE, format!("delete {}", count(summary.delete as u64))),
        styled(KEEP, format!("keep {}", count(summary.keep as u64))),
    );
    let mut reasons = Table::new(&[]).indent(2);
    for (reason, versions) in &summary.by_reason {
        let style = match reason.decision() {
            Decision::Delete => DELETE,
            Decision::Keep => KEEP,
        };
        reasons.row(vec![
            Cell::new(reason.as_str()).style(style),
            Cell::new(count(*versions as u64)).right(),
            Cell::new(reason.description()).style(DIM),
        ]);
    }
    out.push_str(&reasons.render());
    out.push_str(&budget(plan));
    let reads = plan.reads;
    if reads.from_registry + reads.from_cache > 0 {
        out.push_str(&format!(
            "{} {} read from the registry, {} from the cache\n",
            styled(HEADING, "Manifests:"),
            count(reads.from_registry),
            count(reads.from_cache)
        ));
    }
    if !plan.notes.is_empty() {
        out.push_str(&format!("{}\n", styled(HEADING, "Notes:")));
        for note in &plan.notes {
            let about = note
                .package
                .as_ref()
                .map(|package| format!("{package}: "))
                .unwrap_or_default();
            out.push_str(&format!("  - {about}{}\n", note.message));
        }
    }
    out.push_str(&format!(
        "{} {}\n",
        styled(HEADING, "Plan SHA-256:"),
        plan.sha256
    ));
    out
}

fn budget(plan: &Plan) -> String {
    let budget = &plan.budget;
    let max = budget
        .max_deletions
        .map(|max| format!(" of at most {}", count(max as u64)))
        .unwrap_or_default();
    let mut out = if budget.refused {
        format!(
            "{} {}{max}: over budget, so it will not be applied\n",
            styled(ERROR, "Budget:"),
            counted(budget.deletions, "deletion"),
        )
    } else {
        format!(
            "{} {}{max}: within budget\n",
            styled(HEADING, "Budget:"),
            counted(budget.deletions, "deletion"),
        )
    };
    if let Some(over) = budget.over_by_count {
        out.push_str(&format!(
            "  {} over --max-deletions\n",
            styled(ERROR, counted(over, "deletion"))
        ));
    }
    if let Some(max_percent) = budget.max_percent {
        for package in &budget.packages {
            let over = package
                .over_by_percent
                .map(|over| {
                    styled(
                        ERROR,
                        format!(", {over} points over --max-percent {max_percent}"),
                    )
                })
                .unwrap_or_default();
            out.push_str(&format!(
                "  {}: {}% of {}{over}\n",
                package.package,
                package.percent,
                counted(package.versions, "version")
            ));
        }
    }
    out
}
