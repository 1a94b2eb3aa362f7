//! What an apply or a restore did, for people: the counts, every version that was not deleted
//! (or restored) and why, the journal, and how to undo or retry.

use std::time::Duration;

use ghpkg::apply::SkipReason;
use ghpkg::journal::JournalReason;

use super::table::{Cell, Table};
use super::time::{count, counted, duration};
use super::{DELETE, DIM, HEADING, KEEP, WARN, styled};
use crate::shapes::{PackageOutcomeInfo, RunReport};

/// The report of one run.
pub fn report(report: &RunReport) -> String {
    let counts = &report.counts;
    let restoring = report.operation == "restore";
    let mut parts = Vec::new();
    if restoring {
        parts.push(styled(
            KEEP,
            format!("restored {}", count(counts.restored as u64)),
        ));
        parts.push(format!(
            "not restored {}",
            count(counts.not_restored as u64)
        ));
    } else {
        parts.push(styled(
            DELETE,
            format!("deleted {}", count(counts.deleted as u64)),
        ));
        for (label, n) in [
            ("already gone", counts.already_gone),
            ("refused", counts.refused),
            ("failed", counts.failed),
            ("skipped", counts.skipped),
        ] {
            if n > 0 {
                parts.push(format!("{label} {}", count(n as u64)));
            }
        }
    }
    let verb = if restoring {
        "Restored from"
    } else {
        "Applied"
    };
    let mut out = format!(
        "{} {}: {}\n",
        styled(HEADING, verb),
        styled(HEADING, format!("plan {}", short_sha(&report.plan_sha256))),
        parts.join(", ")
    );
    let mut facts = vec![
        format!("{} requests", count(report.requests)),
        duration(Duration::from_secs_f64(report.elapsed_seconds.max(0.0))),
    ];
    if report.resumed > 0 {
        facts.push(format!(
            "{} already done by an earlier run",
            counted(report.resumed, "version")
        ));
    }
    if report.recovered > 0 {
        facts.push(format!(
            "{} deleted by an earlier run that stopped before recording GitHub's answer",
            counted(report.recovered, "version")
        ));
    }
    if let Some(limit) = &report.rate_limit {
        facts.push(format!(
            "{} of {} API requests left",
            count(limit.remaining),
            count(limit.limit)
        ));
    }
    out.push_str(&format!("  {}\n", styled(DIM, facts.join("; "))));
    // What the circuit breaker kept from being sent says one thing for a whole package: one
    // line each, not a row per version.
    let not_attempted = JournalReason::Skipped(SkipReason::NotAttempted);
    let mut stopped: Vec<(&str, usize, &str)> = Vec::new();
    for entry in report.entries.iter().filter(|e| e.reason == not_attempted) {
        match stopped
            .iter_mut()
            .find(|(package, ..)| *package == entry.package)
        {
            Some((_, count, _)) => *count += 1,
            None => stopped.push((&entry.package, 1, entry.detail.as_deref().unwrap_or(""))),
        }
    }
    let not_done: Vec<_> = report
        .entries
        .iter()
        .filter(|entry| {
            !matches!(
                entry.outcome.as_str(),
                "deleted" | "already-gone" | "restored"
            ) && entry.reason != not_attempted
        })
        .collect();
    if !not_done.is_empty() || !stopped.is_empty() {
        out.push_str(&format!("\n  {}\n", styled(WARN, "Not done")));
    }
    for (package, versions, why) in stopped {
        out.push_str(&format!(
            "    {}: {} not attempted — {why}\n",
            styled(HEADING, package),
            counted(versions, "version")
        ));
    }
    if !not_done.is_empty() {
        let mut table = Table::new(&["PACKAGE", "ID", "OUTCOME", "REASON", "DETAIL"]).indent(4);
        for entry in not_done {
            table.row(vec![
                Cell::new(&entry.package),
                Cell::new(entry.version_id.to_string()),
                Cell::new(&entry.outcome).style(WARN),
                Cell::new(entry.reason.as_str()),
                Cell::new(entry.detail.as_deref().unwrap_or("")).style(DIM),
            ]);
        }
        out.push_str(&table.render());
    }
    let Some(journal) = &report.journal else {
        return out;
    };
    out.push_str(&format!("\n{} {journal}\n", styled(HEADING, "Journal:")));
    if counts.failed + counts.skipped > 0 && !restoring {
        out.push_str(&format!(
            "{}\n",
            styled(
                DIM,
                "Failed and skipped versions are looked at again when the same plan is applied \
                 with the same journal."
            )
        ));
    }
    if counts.deleted > 0 {
        out.push_str(&format!(
            "{}\n",
            styled(
                DIM,
                format!("Undo within 30 days: ghpkg restore --from-log {journal}")
            )
        ));
        if let Some(verify) = verify_command(report) {
            out.push_str(&format!(
                "{}\n",
                styled(DIM, format!("Check every tag still pulls whole: {verify}"))
            ));
        }
    }
    out
}

/// The packages of a run that were not done, each with why and what to do; empty when every
/// package was done.
pub fn packages_not_done(packages: &[PackageOutcomeInfo]) -> String {
    let not_done = crate::outcomes::not_done(packages);
    if not_done.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\n{} {} of {}\n",
        styled(WARN, "Not done:"),
        counted(not_done.len(), "package"),
        count(packages.len() as u64)
    );
    for package in not_done {
        let reason = package.reason.map(|r| r.as_str()).unwrap_or_default();
        out.push_str(&format!(
            "  {}: {}\n",
            styled(HEADING, &package.package),
            styled(WARN, reason)
        ));
        if let Some(detail) = &package.detail {
            out.push_str(&format!("    {}\n", styled(DIM, detail)));
        }
        if let Some(what_to_do) = &package.what_to_do {
            out.push_str(&format!("    {what_to_do}\n"));
        }
    }
    out
}

/// For an interrupted run: that it was, and the command that resumes it; else nothing.
pub fn interruption(report: &RunReport) -> String {
    if !report.interrupted {
        return String::new();
    }
    let mut out = format!(
        "\n{} nothing more was sent; the journal holds every outcome seen.\n",
        styled(WARN, "Interrupted:")
    );
    if let Some(resume) = &report.resume {
        out.push_str(&format!("{} {resume}\n", styled(HEADING, "Resume with:")));
    }
    out
}

/// `ghpkg … verify TYPE NAME…` for the container packages an apply deleted from.
fn verify_command(report: &RunReport) -> Option<String> {
    if report.operation != "apply" || !report.target.is_container() {
        return None;
    }
    let mut packages: Vec<&str> = report
        .entries
        .iter()
        .filter(|entry| entry.outcome == "deleted")
        .map(|entry| entry.package.as_str())
        .collect();
    packages.sort_unstable();
    packages.dedup();
    if packages.is_empty() {
        return None;
    }
    Some(format!(
        "ghpkg {} verify {} {}",
        crate::connection::owner_flag(&report.target.owner),
        report.target.package_type,
        packages.join(" ")
    ))
}

/// The first 12 hex digits of a SHA-256, as journal names use them.
pub fn short_sha(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}
