//! How each package of a prune or an apply ended: [`PackageOutcome`] — pruned, nothing to do,
//! or not done with a [`NotDoneReason`] (one table below) — so that a run nobody watches can say
//! truthfully that work it was asked to do was not done.
//!
//! A dry run's outcomes come from the plan ([`PackageResult::of_plan`]); an apply's from the
//! plan and the journal ([`PackageResult::of_apply`]). A package the engine failed closed (its
//! graph or listing cannot be trusted) is not done either way: nothing in it is deleted, which
//! is safe, but the rules were not carried out.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use ghpkg_retention::{NoteKind, Plan};
// The table's macro writes serde impls with these names.
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::apply::codes::{SkipReason, codes};
use crate::journal::{JournalEntry, JournalReason, JournalState, Outcome};
use crate::registry::{RegistryProblem, RegistryProblemKind};

codes! {
    /// Why a package was not done. In the order of the table: when several apply to a package,
    /// the first one is its reason. Every reason but the last two means its deletions were not
    /// sent ([`NotDoneReason::deletes_were_sent`]).
    pub enum NotDoneReason ("not-done reason") {
        /// The package was not listed: listing its versions failed (after retries).
        ListingFailed => "listing-failed";
        /// The registry could not be reached, so its image graph could not be read and nothing
        /// in it was deleted.
        RegistryUnreachable => "registry-unreachable";
        /// The registry's TLS certificate is not trusted, so its image graph could not be read
        /// and nothing in it was deleted.
        Tls => "tls";
        /// The registry refused the token, so its image graph could not be read and nothing in
        /// it was deleted.
        RegistryRefused => "registry-refused";
        /// Its image graph cannot be trusted (a manifest that could not be read, a kept index's
        /// entry the registry does not have, a cycle, or a version pushed since the plan that
        /// could not be read), so nothing in it was deleted.
        UnreadableGraph => "unreadable-graph";
        /// Its versions changed while they were listed, so nothing in it was deleted.
        IncompleteListing => "incomplete-listing";
        /// It is a container package whose manifests were not read, so nothing in it was
        /// deleted.
        GraphNotRead => "graph-not-read";
        /// The plan is over its deletion budget, so it was not applied.
        OverBudget => "over-budget";
        /// Deleting was not confirmed, so the plan was not applied.
        NotConfirmed => "not-confirmed";
        /// The run stopped (it was interrupted, or stopped early) before sending some of its
        /// planned deletions; applying the same plan again sends them.
        NotAttempted => "not-attempted";
        /// GitHub refused its deletions for want of permission, so the circuit breaker sent no
        /// more of them: the token may not delete the package's versions.
        NoPermission => "no-permission";
        /// GitHub refused some of its deletions (the last tagged version, more than 5,000
        /// downloads).
        Refused => "refused";
        /// Some of its deletions failed; applying the same plan again retries them.
        DeletesFailed => "deletes-failed";
    }
}

impl NotDoneReason {
    /// Whether the package's deletions were sent and refused or failed, rather than held back
    /// before sending.
    pub fn deletes_were_sent(self) -> bool {
        matches!(self, NotDoneReason::Refused | NotDoneReason::DeletesFailed)
    }

    /// Its place in the table: the lower, the more it says about the package.
    fn rank(self) -> usize {
        NotDoneReason::ALL
            .iter()
            .position(|reason| *reason == self)
            .unwrap_or(usize::MAX)
    }
}

impl From<RegistryProblemKind> for NotDoneReason {
    fn from(kind: RegistryProblemKind) -> NotDoneReason {
        match kind {
            RegistryProblemKind::Unreachable => NotDoneReason::RegistryUnreachable,
            RegistryProblemKind::Untrusted => NotDoneReason::Tls,
            RegistryProblemKind::Refused => NotDoneReason::RegistryRefused,
        }
    }
}

/// How one package of a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PackageOutcome {
    /// Every planned deletion of it is done (by this run, or an earlier run of the plan).
    Pruned,
    /// A dry run: the plan deletes some of its versions; nothing was deleted.
    Planned,
    /// The rules delete nothing in it, or every planned deletion was skipped because the
    /// version changed since the plan (the safe outcome).
    NothingToDo,
    /// What the rules asked was not done, for this reason.
    NotDone(NotDoneReason),
}

impl PackageOutcome {
    /// `pruned`, `planned`, `nothing-to-do` or `not-done`.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageOutcome::Pruned => "pruned",
            PackageOutcome::Planned => "planned",
            PackageOutcome::NothingToDo => "nothing-to-do",
            PackageOutcome::NotDone(_) => "not-done",
        }
    }

    /// Why it was not done, if it was not.
    pub fn not_done(self) -> Option<NotDoneReason> {
        match self {
            PackageOutcome::NotDone(reason) => Some(reason),
            _ => None,
        }
    }

    /// Every outcome's name, in order.
    pub const NAMES: [&'static str; 4] = ["pruned", "planned", "nothing-to-do", "not-done"];
}

impl fmt::Display for PackageOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackageOutcome::NotDone(reason) => write!(f, "not-done ({reason})"),
            outcome => f.write_str(outcome.as_str()),
        }
    }
}

/// One package's outcome, with what a person needs to act on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageResult {
    /// The package.
    pub package: String,
    /// How it ended.
    pub outcome: PackageOutcome,
    /// Why it was not done, in the plan's or the failure's words.
    pub detail: Option<String>,
}

impl PackageResult {
    /// A package that was not done for `reason`.
    pub fn not_done(
        package: impl Into<String>,
        reason: NotDoneReason,
        detail: impl Into<String>,
    ) -> PackageResult {
        PackageResult {
            package: package.into(),
            outcome: PackageOutcome::NotDone(reason),
            detail: Some(detail.into()),
        }
    }

    /// Each package of `plan` as a dry run leaves it: failed closed (not done, with the
    /// registry's problem when `registry_problems` names one for it), planned, or nothing to
    /// do.
    pub fn of_plan(
        plan: &Plan,
        registry_problems: &BTreeMap<String, RegistryProblem>,
    ) -> Vec<PackageResult> {
        plan.packages
            .iter()
            .map(|package| {
                if let Some(result) = failed_closed(plan, &package.name, registry_problems) {
                    return result;
                }
                let planned = plan.deletions.iter().any(|d| *d.package == *package.name);
                PackageResult {
                    package: package.name.clone(),
                    outcome: if planned {
                        PackageOutcome::Planned
                    } else {
                        PackageOutcome::NothingToDo
                    },
                    detail: None,
                }
            })
            .collect()
    }

    /// Each package of `plan` after applying it with the journal whose state is `journal`:
    /// failed closed as in [`of_plan`](Self::of_plan); pruned when every planned deletion is
    /// done; not done when one was refused, failed, never sent, or held back because the
    /// package could not be checked again; else nothing to do.
    pub fn of_apply(
        plan: &Plan,
        journal: &JournalState,
        registry_problems: &BTreeMap<String, RegistryProblem>,
    ) -> Vec<PackageResult> {
        let mut latest: HashMap<(&str, u64), &JournalEntry> = HashMap::new();
        for entry in &journal.entries {
            latest.insert((entry.package.as_str(), entry.version_id), entry);
        }
        plan.packages
            .iter()
            .map(|package| {
                let name = package.name.as_str();
                if let Some(result) = failed_closed(plan, name, registry_problems) {
                    return result;
                }
                let mut planned = 0;
                let mut done = 0;
                let mut not_done: Vec<(NotDoneReason, String)> = Vec::new();
                for deletion in plan.deletions.iter().filter(|d| &*d.package == name) {
                    planned += 1;
                    let Some(entry) = latest.get(&(name, deletion.id)) else {
                        not_done.push((
                            NotDoneReason::NotAttempted,
                            format!("version {} was not reached", deletion.id),
                        ));
                        continue;
                    };
                    let detail = || {
                        format!(
                            "version {}: {}",
                            deletion.id,
                            entry.detail.as_deref().unwrap_or(entry.reason.as_str())
                        )
                    };
                    match (entry.outcome, &entry.reason) {
                        (Outcome::Deleted | Outcome::AlreadyGone, _) => done += 1,
                        // Deleted, then restored from the journal: the apply did its part.
                        (Outcome::Restored | Outcome::NotRestored, _) => done += 1,
                        (Outcome::Refused, _) => not_done.push((NotDoneReason::Refused, detail())),
                        (Outcome::Failed, _) => {
                            not_done.push((NotDoneReason::DeletesFailed, detail()))
                        }
                        (Outcome::Skipped, JournalReason::Skipped(SkipReason::ListingFailed)) => {
                            not_done.push((NotDoneReason::ListingFailed, detail()))
                        }
                        (Outcome::Skipped, JournalReason::Skipped(SkipReason::GraphUnreadable)) => {
                            not_done.push((NotDoneReason::UnreadableGraph, detail()))
                        }
                        // The circuit breaker stopped sending after refusals for want of
                        // permission: GitHub would refuse these too.
                        (Outcome::Skipped, JournalReason::Skipped(SkipReason::NotAttempted)) => {
                            not_done.push((NotDoneReason::NoPermission, detail()))
                        }
                        // Sent, but no answer journaled (a crash, or a second Ctrl-C):
                        // applying the plan again finds out what became of it.
                        (Outcome::Intent, _) => not_done.push((
                            NotDoneReason::NotAttempted,
                            format!(
                                "version {}: its DELETE was sent but no answer was journaled",
                                deletion.id
                            ),
                        )),
                        // Changed since the plan: skipping it is the safe outcome.
                        (Outcome::Skipped, _) => {}
                    }
                }
                let outcome = match not_done.iter().min_by_key(|(reason, _)| reason.rank()) {
                    Some((reason, first)) => {
                        let detail = format!(
                            "{} of {planned} planned deletions not done; {first}",
                            not_done.len()
                        );
                        return PackageResult::not_done(name, *reason, detail);
                    }
                    None if done > 0 => PackageOutcome::Pruned,
                    None => PackageOutcome::NothingToDo,
                };
                PackageResult {
                    package: name.to_string(),
                    outcome,
                    detail: None,
                }
            })
            .collect()
    }
}

/// The package `name` of `plan` as not done, when the engine failed it closed.
fn failed_closed(
    plan: &Plan,
    name: &str,
    registry_problems: &BTreeMap<String, RegistryProblem>,
) -> Option<PackageResult> {
    let package = plan.packages.iter().find(|p| p.name == name)?;
    let why = package.fail_closed.as_ref()?;
    let noted = |kind: NoteKind| {
        plan.notes
            .iter()
            .any(|note| note.kind == kind && note.package.as_deref() == Some(name))
    };
    // The engine says why last for an incomplete listing, which overrides a damaged graph.
    let reason = if noted(NoteKind::IncompleteListing) {
        NotDoneReason::IncompleteListing
    } else if noted(NoteKind::GraphNotRead) {
        NotDoneReason::GraphNotRead
    } else if let Some(problem) = registry_problems.get(name) {
        return Some(PackageResult::not_done(
            name,
            problem.kind.into(),
            problem.message.clone(),
        ));
    } else {
        NotDoneReason::UnreadableGraph
    };
    Some(PackageResult::not_done(name, reason, why.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_done_reasons_are_unique_and_only_refusals_and_failures_were_sent() {
        let mut seen = std::collections::BTreeSet::new();
        for &reason in NotDoneReason::ALL {
            assert!(seen.insert(reason.as_str()), "duplicate {reason}");
            assert_eq!(NotDoneReason::from_code(reason.as_str()), Some(reason));
            assert!(!reason.description().is_empty());
        }
        let sent: Vec<NotDoneReason> = NotDoneReason::ALL
            .iter()
            .copied()
            .filter(|reason| reason.deletes_were_sent())
            .collect();
        assert_eq!(
            sent,
            [NotDoneReason::Refused, NotDoneReason::DeletesFailed],
            "the last two of the table"
        );
        assert_eq!(&NotDoneReason::ALL[NotDoneReason::ALL.len() - 2..], sent);
    }
}
