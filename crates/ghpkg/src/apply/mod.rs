//! Applying a plan, and undoing it: the library side of `ghpkg apply` and
//! `ghpkg restore --from-log`, so that programs can do what the CLI does.
//!
//! [`apply`] re-lists each package of the plan first and skips, with a reason, every planned
//! version that changed since the plan was made (gone, a tag added or moved, updated), every
//! child whose parent was not deleted, and — for container images — every planned version that
//! a version pushed since the plan now lists ([`SkipReason::NowInUse`], naming it); each skip's
//! reason is a [`SkipReason`]. That re-check runs
//! again every [`DEFAULT_RECHECK_INTERVAL`] (or [`ApplyOptions::recheck_every`]) during a long
//! apply, listing the newest versions until a page holds nothing new and reading only what is
//! new; the window that remains is a push between the last check and a delete. It deletes through the client's pacing, parents before
//! children (one graph level at a time, the client's concurrency within a level), goes on past
//! individual failures, and appends each outcome to the [`Journal`] as it happens, after an
//! intent line written before each DELETE is sent. Running the same plan with the same journal
//! again resumes: what the journal records as done is left alone, and a planned version found
//! gone is this plan's deletion only if the journal has its intent line (a DELETE sent, its
//! answer lost to a crash); any other version found gone was deleted by someone else and is
//! skipped as [`SkipReason::GoneBeforeApply`], never counted or journaled as deleted.
//!
//! Before the first DELETE, a token whose classic scopes GitHub describes is checked (one
//! request at most): without `delete:packages` the apply is refused whole
//! ([`ApplyError::MissingScopes`]) and nothing is sent. For tokens GitHub describes no scopes of
//! (GitHub Actions' `GITHUB_TOKEN`, app installation tokens), a circuit breaker stops sending a
//! package's deletions once [`REFUSALS_BEFORE_STOPPING`] in a row were refused for want of
//! permission (a `403`, or a `404` for a version GitHub still lists); the rest are skipped as
//! [`SkipReason::NotAttempted`], with what permission is missing. Until one delete of a package
//! succeeds, no more are in flight than the breaker allows to be refused.
//!
//! [`restore_from_journal`] restores, children first, every version the journal records as
//! deleted by its own runs (an intent line of this journal), within GitHub's 30-day window, and
//! records each restore in the same journal.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use futures::stream::FuturesUnordered;
use futures::{StreamExt, TryStreamExt};
use ghpkg_api::TokenKind;
use ghpkg_api::operations::Action;
use ghpkg_retention::{Decision, PackagePlan, Plan, Target, VersionDecision};

pub(crate) mod codes;
mod recheck;

pub use codes::{ApplyErrorKind, SkipReason};
pub use recheck::DEFAULT_RECHECK_INTERVAL;
use recheck::{Hold, Recheck};

use crate::client::Client;
use crate::error::Error;
use crate::journal::{
    JOURNAL_VERSION, Journal, JournalEntry, JournalError, JournalHeader, JournalReason,
    JournalScope, Outcome,
};
use crate::operation::Operation;
use crate::owner::{self, Owner};
use crate::owner_scope::Scope;
use crate::pacing::RateLimitStatus;
use crate::package::PackageHandle;
use crate::registry::Registry;
use crate::types::{PackageType, PackageVersion};

/// How long GitHub keeps deleted packages and versions restorable.
pub const RESTORE_WINDOW: TimeDelta = TimeDelta::days(30);

/// How many deletes of a package GitHub may refuse in a row for want of permission before an
/// apply stops sending that package's deletes. After one package stopped, every later package
/// of the run stops at its first such refusal.
pub const REFUSALS_BEFORE_STOPPING: usize = 3;

/// Why a plan cannot be applied (or a journal restored) at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// The plan is over its deletion budget.
    #[error(
        "the plan is over its deletion budget ({}), so it will not be applied; raise \
         Rules::max_deletions or Rules::max_percent, or narrow the rules, and plan again",
        overrun(*.over_by_count)
    )]
    OverBudget {
        /// How many deletions over `Rules::max_deletions`; `None` when a package is over
        /// `Rules::max_percent` instead.
        over_by_count: Option<usize>,
    },
    /// The plan is for another host than the client's.
    #[error(
        "the plan is for {plan}, but the client talks to {client}; build the client for {plan} \
         (ClientBuilder::enterprise or ClientBuilder::base_url)"
    )]
    WrongHost {
        /// The plan's host.
        plan: String,
        /// The client's host.
        client: String,
    },
    /// The plan names a package type ghpkg cannot send.
    #[error("the plan's package type {0:?} is not one GitHub knows")]
    UnknownPackageType(String),
    /// The token's classic scopes do not cover deleting (an [`Error::MissingScopes`] found
    /// before anything was sent): nothing was deleted.
    #[error("{}; nothing was deleted. {}", .0.summary(), .0.hint())]
    MissingScopes(Error),
    /// A plan of container images needs the registry, to re-check before deleting that
    /// nothing pushed since the plan uses what it deletes.
    #[error(
        "the plan deletes container images, and applying it needs their registry, to check that \
         nothing pushed since the plan uses them; pass one with ApplyOptions::registry"
    )]
    RegistryNeeded,
    /// The journal cannot be read or written.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl ApplyError {
    /// Its stable kind for programs (`over-budget`, `wrong-host`, …).
    pub fn kind(&self) -> ApplyErrorKind {
        match self {
            ApplyError::OverBudget { .. } => ApplyErrorKind::OverBudget,
            ApplyError::WrongHost { .. } => ApplyErrorKind::WrongHost,
            ApplyError::UnknownPackageType(_) => ApplyErrorKind::InvalidInput,
            ApplyError::MissingScopes(_) => ApplyErrorKind::MissingScopes,
            ApplyError::RegistryNeeded => ApplyErrorKind::RegistryNeeded,
            ApplyError::Journal(_) => ApplyErrorKind::Journal,
        }
    }
}

/// How far over its budget a plan is, in the rules' terms.
fn overrun(over_by_count: Option<usize>) -> String {
    match over_by_count {
        Some(count) => format!("{count} deletions over Rules::max_deletions"),
        None => "a package over Rules::max_percent".into(),
    }
}

/// What an apply or a restore reports as it goes.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A package was listed: it has this many active versions, and this many of its planned
    /// deletions are still to do.
    Listed {
        /// The package.
        package: &'a str,
        /// Its active versions now.
        versions: usize,
        /// Its deletions (or restores) still to do.
        pending: usize,
    },
    /// One version's outcome, as written to the journal (intent lines are not outcomes and
    /// are not reported).
    Outcome(&'a JournalEntry),
}

/// What an apply or a restore did.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Versions by outcome, in this run.
    pub outcomes: BTreeMap<Outcome, usize>,
    /// Skipped versions by reason, in this run.
    pub skipped: BTreeMap<SkipReason, usize>,
    /// Refusals and failures by reason (GitHub's refusal, the error's kind, or why a restore
    /// was not tried), in this run.
    pub not_done: BTreeMap<JournalReason, usize>,
    /// Versions an earlier run finished (from the journal), left alone.
    pub resumed: usize,
    /// Planned versions found gone whose DELETE an earlier run of this journal sent (its intent
    /// line) without recording the answer (a crash, Ctrl-C): counted as deleted.
    pub recovered: usize,
    /// How long it took.
    pub elapsed: Duration,
    /// Requests the client sent meanwhile.
    pub requests: u64,
    /// The primary rate-limit budget as last seen.
    pub rate_limit: Option<RateLimitStatus>,
}

impl Report {
    /// How many versions ended with `outcome` in this run.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.outcomes.get(&outcome).copied().unwrap_or(0)
    }

    /// Whether any version failed (or could not be restored) in this run.
    pub fn has_failures(&self) -> bool {
        self.count(Outcome::Failed) + self.count(Outcome::NotRestored) > 0
    }

    fn record(&mut self, entry: &JournalEntry) {
        *self.outcomes.entry(entry.outcome).or_default() += 1;
        match (entry.outcome, &entry.reason) {
            (Outcome::Skipped, JournalReason::Skipped(reason)) => {
                *self.skipped.entry(*reason).or_default() += 1
            }
            (Outcome::Refused | Outcome::Failed | Outcome::NotRestored, reason) => {
                *self.not_done.entry(reason.clone()).or_default() += 1
            }
            _ => {}
        }
    }
}

/// The journal scope of `plan`: its SHA-256, target and packages.
pub fn journal_scope(plan: &Plan) -> JournalScope {
    JournalScope {
        plan: Some(plan.sha256.clone()),
        target: plan.inputs.target.clone(),
        packages: plan.packages.iter().map(|p| p.name.clone()).collect(),
    }
}

/// The scope of the client that addresses `target`'s owner; refused for a client of another
/// host unless `other_host` allows it.
fn scope_of(
    client: &Client,
    target: &Target,
    other_host: bool,
) -> Result<(Scope, PackageType), ApplyError> {
    if !other_host && client.host() != target.host {
        return Err(ApplyError::WrongHost {
            plan: target.host.clone(),
            client: client.host(),
        });
    }
    let package_type = PackageType::from(target.package_type.as_str());
    if package_type.is_other() {
        return Err(ApplyError::UnknownPackageType(target.package_type.clone()));
    }
    Ok((client.scope(target.owner.clone()), package_type))
}

/// How [`apply`] re-checks what it deletes.
#[derive(Clone, Copy, Debug)]
pub struct ApplyOptions<'a> {
    registry: Option<&'a Registry>,
    recheck_every: Duration,
    stop: Option<&'a AtomicBool>,
}

impl Default for ApplyOptions<'_> {
    fn default() -> Self {
        ApplyOptions {
            registry: None,
            recheck_every: DEFAULT_RECHECK_INTERVAL,
            stop: None,
        }
    }
}

impl<'a> ApplyOptions<'a> {
    /// No registry, the default interval: enough for plans of packages without image graphs.
    pub fn new() -> Self {
        Self::default()
    }

    /// The registry to read manifests pushed since the plan from; required for a plan of
    /// container images.
    pub fn registry(mut self, registry: &'a Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// How long a package's deletions go on before the registry is checked again for pushes
    /// (default [`DEFAULT_RECHECK_INTERVAL`]).
    pub fn recheck_every(mut self, interval: Duration) -> Self {
        self.recheck_every = interval;
        self
    }

    /// Stops sending deletions once `stop` is set (by a Ctrl-C handler, say): deletions in
    /// flight finish and are journaled, nothing more is sent, and [`apply`] returns its report.
    /// The planned versions it did not reach have no journal line; applying the same plan with
    /// the same journal again sends them.
    pub fn stop_when(mut self, stop: &'a AtomicBool) -> Self {
        self.stop = Some(stop);
        self
    }

    fn stopped(&self) -> bool {
        self.stop.is_some_and(|stop| stop.load(Ordering::SeqCst))
    }
}

/// Applies `plan` through `client`, recording every outcome in `journal` (opened with
/// [`journal_scope`]) and reporting each to `on_event`. A plan of container images needs
/// [`ApplyOptions::registry`].
pub async fn apply(
    client: &Client,
    plan: &Plan,
    journal: &mut Journal,
    options: &ApplyOptions<'_>,
    on_event: &(dyn Fn(Event<'_>) + Send + Sync),
) -> Result<Report, ApplyError> {
    if plan.is_refused() {
        return Err(ApplyError::OverBudget {
            over_by_count: plan.budget.over_by_count,
        });
    }
    let target = &plan.inputs.target;
    let (scope, package_type) = scope_of(client, target, false)?;
    let registry = if target.is_container() {
        Some(options.registry.ok_or(ApplyError::RegistryNeeded)?)
    } else {
        None
    };
    let started = Instant::now();
    let requests_before = client.requests_sent();
    let to_send = plan.deletions.iter().any(|deletion| {
        !journal
            .state()
            .outcome(&deletion.package, deletion.id)
            .is_some_and(Outcome::is_final_for_apply)
    });
    if to_send {
        check_delete_scopes(client, &target.owner).await?;
    }
    journal.write_header_if_new(JournalHeader {
        journal: JOURNAL_VERSION,
        at: Utc::now(),
        plan: plan.sha256.clone(),
        host: target.host.clone(),
        api_url: client.base_url().to_string(),
        owner: target.owner.clone(),
        package_type: target.package_type.clone(),
    })?;
    let mut report = Report::default();
    let mut refusals_before_stopping = REFUSALS_BEFORE_STOPPING;
    for package_plan in &plan.packages {
        if options.stopped() {
            break;
        }
        let to_delete: HashMap<u64, &VersionDecision> = package_plan
            .decisions
            .iter()
            .filter(|d| d.decision == Decision::Delete)
            .map(|d| (d.id, d))
            .collect();
        let planned: Vec<&VersionDecision> = plan
            .deletions
            .iter()
            .filter(|deletion| *deletion.package == *package_plan.name)
            .filter_map(|deletion| to_delete.get(&deletion.id).copied())
            .collect();
        if planned.is_empty() {
            continue;
        }
        let package = scope.package(package_type.clone(), package_plan.name.clone());
        let run = PackageRun {
            plan,
            package_plan,
            registry,
            recheck_every: options.recheck_every,
            options,
            package: &package,
            planned_ids: planned.iter().map(|d| d.id).collect(),
            planned,
        };
        let mut breaker = Breaker::new(refusals_before_stopping, client.token_kind());
        run.apply(journal, &mut breaker, on_event, &mut report)
            .await?;
        if breaker.stopped.is_some() {
            // The same token lacks the same permission elsewhere, most likely: one refusal
            // each is enough to tell.
            refusals_before_stopping = 1;
        }
    }
    report.elapsed = started.elapsed();
    report.requests = client.requests_sent().saturating_sub(requests_before);
    report.rate_limit = client.rate_limit();
    Ok(report)
}

/// Refuses the apply before anything is deleted when the token's classic scopes are known, or
/// can be learned with one request, and do not cover deleting a version of `owner`'s.
async fn check_delete_scopes(client: &Client, owner: &Owner) -> Result<(), ApplyError> {
    let operation = Operation::from(Action::DeleteVersion.spec(owner::family(owner)));
    match client.check_scopes(operation).await {
        Err(error @ Error::MissingScopes { .. }) => Err(ApplyError::MissingScopes(error)),
        // Anything else (GitHub unreachable, the token refused) the apply meets again when it
        // lists the packages, and reports there.
        _ => Ok(()),
    }
}

/// Deletions sent between two chances to re-check, per request in flight.
const RECHECK_BATCH: usize = 8;

/// The circuit breaker of one package's deletes: it stops sending once GitHub refused
/// `threshold` in a row for want of permission, and until one delete succeeded it keeps no
/// more in flight than may still be refused.
struct Breaker {
    threshold: usize,
    token: Option<TokenKind>,
    /// Whether a delete of the package succeeded: the token may delete there.
    proven: bool,
    /// Refusals for want of permission since the last success.
    refusals: usize,
    /// Why sending stopped: the detail of every version not attempted.
    stopped: Option<String>,
}

impl Breaker {
    fn new(threshold: usize, token: Option<TokenKind>) -> Breaker {
        Breaker {
            threshold: threshold.max(1),
            token,
            proven: false,
            refusals: 0,
            stopped: None,
        }
    }

    /// How many deletes may be in flight now.
    fn allowed_in_flight(&self, in_flight: usize) -> usize {
        if self.stopped.is_some() {
            0
        } else if self.proven {
            in_flight
        } else {
            in_flight.min(self.threshold - self.refusals)
        }
    }

    fn observe(&mut self, package: &str, answer: &Answer) {
        if answer.outcome == Outcome::Deleted {
            self.proven = true;
            self.refusals = 0;
            return;
        }
        let Some(refusal) = &answer.refusal else {
            return;
        };
        self.refusals += 1;
        if self.refusals >= self.threshold && self.stopped.is_none() {
            let advice = match self.token {
                Some(TokenKind::Installation) => INSTALLATION_TOKEN_ADVICE.to_string(),
                _ => refusal.hint(),
            };
            self.stopped = Some(format!(
                "not sent: GitHub refused {} of {package} in a row for want of permission \
                 (last: {}). {advice}",
                if self.refusals == 1 {
                    "a delete".to_string()
                } else {
                    format!("{} deletes", self.refusals)
                },
                refusal.summary()
            ));
        }
    }
}

/// What permission an installation token (GitHub Actions' `GITHUB_TOKEN`, an app's) lacks when
/// GitHub refuses its deletes.
const INSTALLATION_TOKEN_ADVICE: &str = "An installation token such as GitHub Actions' \
     GITHUB_TOKEN deletes a package's versions only when the workflow's repository has the \
     Admin role in the package's settings (Manage Actions access) and the job has `permissions: \
     packages: write`; grant both, or use a personal access token (classic) with \
     delete:packages.";

/// GitHub's answer to one DELETE, as journaled.
struct Answer {
    outcome: Outcome,
    reason: JournalReason,
    detail: Option<String>,
    /// The error, when GitHub refused for want of permission.
    refusal: Option<Error>,
}

impl Answer {
    fn of(outcome: Outcome, reason: JournalReason, detail: Option<String>) -> Answer {
        Answer {
            outcome,
            reason,
            detail,
            refusal: None,
        }
    }
}

/// The deletions of one package.
struct PackageRun<'a> {
    plan: &'a Plan,
    package_plan: &'a PackagePlan,
    /// Where to re-read the graph from (container images only).
    registry: Option<&'a Registry>,
    recheck_every: Duration,
    /// Whether to stop ([`ApplyOptions::stop_when`]).
    options: &'a ApplyOptions<'a>,
    package: &'a PackageHandle,
    /// Planned deletions of this package, in the plan's order.
    planned: Vec<&'a VersionDecision>,
    /// Their ids.
    planned_ids: HashSet<u64>,
}

impl PackageRun<'_> {
    async fn apply(
        &self,
        journal: &mut Journal,
        breaker: &mut Breaker,
        on_event: &(dyn Fn(Event<'_>) + Send + Sync),
        report: &mut Report,
    ) -> Result<(), ApplyError> {
        let name = self.package.name();
        let mut to_do = Vec::new();
        for decision in &self.planned {
            match journal.state().outcome(name, decision.id) {
                Some(outcome) if outcome.is_final_for_apply() => report.resumed += 1,
                _ => to_do.push(*decision),
            }
        }
        if to_do.is_empty() {
            return Ok(());
        }
        // What the package looks like now.
        let listed: Result<Vec<PackageVersion>, Error> =
            self.package.versions().stream().try_collect().await;
        let listed = match listed {
            Ok(listed) => listed,
            Err(error) => {
                // Nothing can be checked, so nothing of this package is deleted.
                let reason = if error.is_not_found() {
                    SkipReason::PackageGone
                } else {
                    SkipReason::ListingFailed
                };
                for decision in to_do {
                    let entry = self.entry(
                        decision,
                        Outcome::Skipped,
                        JournalReason::Skipped(reason),
                        Some(error.to_string()),
                    );
                    self.write(journal, entry, on_event, report)?;
                }
                return Ok(());
            }
        };
        on_event(Event::Listed {
            package: name,
            versions: listed.len(),
            pending: to_do.len(),
        });
        let current: HashMap<u64, &PackageVersion> = listed
            .iter()
            .map(|version| (version.id(), version))
            .collect();
        let mut recheck = Recheck::new(
            self.registry,
            self.package,
            self.package_plan,
            self.recheck_every,
        );
        recheck.examine(&listed).await;
        let in_flight = self.package.scope().client().concurrency();
        for level in levels(&to_do) {
            if self.options.stopped() {
                return Ok(());
            }
            let mut sendable = Vec::new();
            for decision in level {
                if let Some((outcome, reason, detail)) = self.check(decision, &current, journal) {
                    if outcome == Outcome::Deleted {
                        report.recovered += 1;
                    }
                    let entry = self.entry(decision, outcome, reason, detail);
                    self.write(journal, entry, on_event, report)?;
                    continue;
                }
                sendable.push(decision);
            }
            // In batches, so that a long level is re-checked for pushes as it goes.
            for batch in sendable.chunks(in_flight * RECHECK_BATCH) {
                if self.options.stopped() {
                    return Ok(());
                }
                if breaker.stopped.is_some() {
                    self.not_attempted(batch.iter().copied(), breaker, journal, on_event, report)?;
                    continue;
                }
                recheck.when_due().await;
                let mut to_send = Vec::with_capacity(batch.len());
                for &decision in batch {
                    let (reason, detail) = match recheck.hold(decision.id) {
                        None => {
                            to_send.push(decision);
                            continue;
                        }
                        Some(Hold::InUse(why)) => (SkipReason::NowInUse, why),
                        Some(Hold::Unreadable(why)) => (SkipReason::GraphUnreadable, why),
                    };
                    let entry = self.entry(
                        decision,
                        Outcome::Skipped,
                        JournalReason::Skipped(reason),
                        Some(detail),
                    );
                    self.write(journal, entry, on_event, report)?;
                }
                self.send(to_send, breaker, journal, on_event, report)
                    .await?;
            }
        }
        Ok(())
    }

    /// Sends the deletes of `to_send`, as many in flight as the client's concurrency and the
    /// breaker allow, journaling each one's intent before it is sent and its outcome after;
    /// what the breaker stops is journaled as not attempted.
    async fn send(
        &self,
        to_send: Vec<&VersionDecision>,
        breaker: &mut Breaker,
        journal: &mut Journal,
        on_event: &(dyn Fn(Event<'_>) + Send + Sync),
        report: &mut Report,
    ) -> Result<(), ApplyError> {
        let in_flight = self.package.scope().client().concurrency();
        // Each deletion writes and syncs its own lines, off the runtime's threads, so that no
        // sync holds up the other deletions in flight.
        let writer = journal.writer();
        let writer = &writer;
        let mut waiting = to_send.into_iter();
        let mut sending = FuturesUnordered::new();
        loop {
            // Once stopped (Ctrl-C), nothing more is sent; what is in flight finishes.
            while sending.len() < breaker.allowed_in_flight(in_flight) && !self.options.stopped() {
                let Some(decision) = waiting.next() else {
                    break;
                };
                sending.push(async move {
                    let intent = self.entry(
                        decision,
                        Outcome::Intent,
                        JournalReason::Plan(decision.reason),
                        None,
                    );
                    writer.write(&intent).await?;
                    let answer = self.delete(decision).await;
                    let entry = self.entry(
                        decision,
                        answer.outcome,
                        answer.reason.clone(),
                        answer.detail.clone(),
                    );
                    writer.write(&entry).await?;
                    Ok::<_, JournalError>((intent, entry, answer))
                });
            }
            let Some(sent) = sending.next().await else {
                break;
            };
            let (intent, entry, answer) = sent?;
            breaker.observe(self.package.name(), &answer);
            journal.note(intent);
            journal.note(entry.clone());
            report.record(&entry);
            on_event(Event::Outcome(&entry));
        }
        if self.options.stopped() {
            return Ok(());
        }
        self.not_attempted(waiting, breaker, journal, on_event, report)
    }

    /// Journals `decisions` as not attempted: the breaker stopped sending.
    fn not_attempted<'d>(
        &self,
        decisions: impl IntoIterator<Item = &'d VersionDecision>,
        breaker: &Breaker,
        journal: &mut Journal,
        on_event: &(dyn Fn(Event<'_>) + Send + Sync),
        report: &mut Report,
    ) -> Result<(), ApplyError> {
        for decision in decisions {
            let entry = self.entry(
                decision,
                Outcome::Skipped,
                JournalReason::Skipped(SkipReason::NotAttempted),
                breaker.stopped.clone(),
            );
            self.write(journal, entry, on_event, report)?;
        }
        Ok(())
    }

    /// Why `decision` must not be deleted now, if it must not: `(outcome, reason, detail)`.
    fn check(
        &self,
        decision: &VersionDecision,
        current: &HashMap<u64, &PackageVersion>,
        journal: &Journal,
    ) -> Option<(Outcome, JournalReason, Option<String>)> {
        let name = self.package.name();
        if let Some(graph) = &decision.graph {
            let planned_parent_not_deleted = graph.parents.iter().find(|parent| {
                self.planned_ids.contains(*parent)
                    && !matches!(
                        journal.state().outcome(name, **parent),
                        Some(Outcome::Deleted | Outcome::AlreadyGone)
                    )
            });
            if let Some(parent) = planned_parent_not_deleted {
                return Some((
                    Outcome::Skipped,
                    JournalReason::Skipped(SkipReason::ParentNotDeleted),
                    Some(format!(
                        "its parent {parent} was not deleted, so it is still in use"
                    )),
                ));
            }
        }
        let Some(now) = current.get(&decision.id) else {
            // Gone. Ours only if a run of this journal sent its DELETE and lost the answer.
            return Some(if journal.state().sent_delete(name, decision.id) {
                (
                    Outcome::Deleted,
                    JournalReason::Plan(decision.reason),
                    Some(
                        "gone, and an earlier run of this journal sent its DELETE without \
                         recording the answer"
                            .into(),
                    ),
                )
            } else {
                (
                    Outcome::Skipped,
                    JournalReason::Skipped(SkipReason::GoneBeforeApply),
                    Some(
                        "no longer listed, and this journal never sent its DELETE: someone \
                         else deleted it since the plan"
                            .into(),
                    ),
                )
            });
        };
        let mut tags_now: Vec<&str> = now.tags().iter().map(String::as_str).collect();
        let mut tags_then: Vec<&str> = decision.tags.iter().map(String::as_str).collect();
        tags_now.sort_unstable();
        tags_then.sort_unstable();
        if tags_now != tags_then {
            return Some((
                Outcome::Skipped,
                JournalReason::Skipped(SkipReason::TagsChanged),
                Some(format!(
                    "tags were [{}] when planned, now [{}]",
                    tags_then.join(", "),
                    tags_now.join(", ")
                )),
            ));
        }
        if now.name() != &*decision.name || now.updated_at() != decision.updated_at {
            return Some((
                Outcome::Skipped,
                JournalReason::Skipped(SkipReason::Changed),
                Some(format!(
                    "updated at {} since the plan (planned at {})",
                    now.updated_at().to_rfc3339(),
                    decision.updated_at.to_rfc3339()
                )),
            ));
        }
        None
    }

    /// Sends one delete and says how it ended. A `404` for a version just listed is checked
    /// with one read: a version GitHub still lists was refused (the token may see it but not
    /// delete it, as GitHub answers installation tokens), not already gone.
    async fn delete(&self, decision: &VersionDecision) -> Answer {
        let version = self.package.version(decision.id);
        let plan_reason = JournalReason::Plan(decision.reason);
        match version.delete().await {
            Ok(()) => Answer::of(Outcome::Deleted, plan_reason, None),
            Err(error) if error.is_not_found() => {
                let still_listed = version
                    .get()
                    .await
                    .is_ok_and(|listed| listed.deleted_at().is_none());
                if !still_listed {
                    // The package was just listed, so a 404 means this version alone is gone.
                    return Answer::of(Outcome::AlreadyGone, plan_reason, None);
                }
                Answer {
                    outcome: Outcome::Failed,
                    reason: JournalReason::Failed(error.kind()),
                    detail: Some(format!(
                        "{}, yet GitHub still lists the version: the token may see it but not \
                         delete it",
                        error.summary()
                    )),
                    refusal: Some(error),
                }
            }
            Err(Error::Refused {
                reason, message, ..
            }) => Answer::of(
                Outcome::Refused,
                JournalReason::Refused(reason),
                Some(message),
            ),
            Err(error) => {
                let no_permission = matches!(
                    error,
                    Error::MissingScopes { .. }
                        | Error::Forbidden { .. }
                        | Error::Unauthorized { .. }
                );
                Answer {
                    outcome: Outcome::Failed,
                    reason: JournalReason::Failed(error.kind()),
                    detail: Some(error.to_string()),
                    refusal: no_permission.then_some(error),
                }
            }
        }
    }

    fn entry(
        &self,
        decision: &VersionDecision,
        outcome: Outcome,
        reason: JournalReason,
        detail: Option<String>,
    ) -> JournalEntry {
        let target = &self.plan.inputs.target;
        JournalEntry {
            journal: JOURNAL_VERSION,
            at: Utc::now(),
            plan: self.plan.sha256.clone(),
            host: target.host.clone(),
            owner: target.owner.clone(),
            package_type: target.package_type.clone(),
            package: self.package.name().to_string(),
            version_id: decision.id,
            name: decision.name.to_string(),
            tags: decision.tags.clone(),
            outcome,
            reason,
            detail,
        }
    }

    fn write(
        &self,
        journal: &mut Journal,
        entry: JournalEntry,
        on_event: &(dyn Fn(Event<'_>) + Send + Sync),
        report: &mut Report,
    ) -> Result<(), ApplyError> {
        journal.append(entry.clone())?;
        report.record(&entry);
        on_event(Event::Outcome(&entry));
        Ok(())
    }
}

/// The planned deletions in levels: a version comes one level after the latest of its planned
/// parents, so that parents are deleted before their children. Order within a level is the
/// plan's.
fn levels<'a>(planned: &[&'a VersionDecision]) -> Vec<Vec<&'a VersionDecision>> {
    let ids: BTreeSet<u64> = planned.iter().map(|d| d.id).collect();
    let parents = |decision: &VersionDecision| -> Vec<u64> {
        decision
            .graph
            .as_ref()
            .map(|graph| {
                graph
                    .parents
                    .iter()
                    .copied()
                    .filter(|p| ids.contains(p))
                    .collect()
            })
            .unwrap_or_default()
    };
    let by_id: HashMap<u64, &VersionDecision> = planned.iter().map(|d| (d.id, *d)).collect();
    let mut level: HashMap<u64, usize> = HashMap::new();
    // Relaxation, bounded by the number of versions: the plan's graph has no cycles, and a
    // cycle here could only stop the levels from rising further.
    for _ in 0..=planned.len() {
        let mut changed = false;
        for decision in planned {
            let own = parents(decision)
                .iter()
                .filter_map(|p| by_id.get(p))
                .map(|p| level.get(&p.id).copied().unwrap_or(0) + 1)
                .max()
                .unwrap_or(0)
                .min(planned.len());
            if level.get(&decision.id) != Some(&own) {
                level.insert(decision.id, own);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let depth = level.values().copied().max().unwrap_or(0);
    let mut levels: Vec<Vec<&VersionDecision>> = vec![Vec::new(); depth + 1];
    for decision in planned {
        levels[level.get(&decision.id).copied().unwrap_or(0)].push(*decision);
    }
    levels
}

/// How [`restore_from_journal`] checks where it restores.
#[derive(Clone, Copy, Debug, Default)]
pub struct RestoreOptions {
    other_host: bool,
}

impl RestoreOptions {
    /// The default: a client of another host than the journal records is refused
    /// ([`ApplyError::WrongHost`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Restores through the client even when it talks to another host than the journal
    /// records: for the same GitHub reached under another name, or an emulator restarted on
    /// another port.
    pub fn allow_other_host(mut self, allow: bool) -> Self {
        self.other_host = allow;
        self
    }
}

/// Restores every version `journal_path` records as deleted by its own runs (its intent line
/// says the DELETE was sent) and not yet restored, children before parents, and records each
/// restore in the same journal. A version the journal found deleted by someone else is never
/// restored.
pub async fn restore_from_journal(
    client: &Client,
    journal_path: &Path,
    options: &RestoreOptions,
    on_event: &(dyn Fn(Event<'_>) + Send + Sync),
) -> Result<Report, ApplyError> {
    let started = Instant::now();
    let requests_before = client.requests_sent();
    let state = Journal::read(journal_path, None)?;
    let Some(first) = state.entries.first() else {
        return Ok(Report::default());
    };
    let scope = JournalScope {
        plan: Some(first.plan.clone()),
        target: Target {
            host: first.host.clone(),
            owner: first.owner.clone(),
            package_type: first.package_type.clone(),
        },
        packages: state
            .entries
            .iter()
            .map(|entry| entry.package.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    // Every line must agree with the first: one plan, one target.
    let mut journal = Journal::open(journal_path, &scope)?;
    let (owner_scope, package_type) = scope_of(client, &scope.target, options.other_host)?;
    let mut report = Report::default();
    // Children were deleted after their parents: restore in the reverse order.
    let mut seen = BTreeSet::new();
    let to_restore: Vec<JournalEntry> = journal
        .state()
        .entries
        .iter()
        .rev()
        .filter(|entry| entry.outcome == Outcome::Deleted)
        .filter(|entry| seen.insert((entry.package.clone(), entry.version_id)))
        .filter(|entry| {
            journal
                .state()
                .is_restorable(&entry.package, entry.version_id)
        })
        .cloned()
        .collect();
    for (package, pending) in group_by_package(&to_restore) {
        on_event(Event::Listed {
            package,
            versions: 0,
            pending,
        });
    }
    let now = Utc::now();
    for deleted in to_restore {
        let package = owner_scope.package(package_type.clone(), deleted.package.clone());
        let (outcome, reason, detail) = if now - deleted.at > RESTORE_WINDOW {
            (
                Outcome::NotRestored,
                JournalReason::OutsideRestoreWindow,
                Some(format!(
                    "deleted on {}; GitHub restores within 30 days",
                    deleted.at.format("%Y-%m-%d")
                )),
            )
        } else {
            match package.version(deleted.version_id).restore().await {
                Ok(()) => (Outcome::Restored, deleted.reason.clone(), None),
                Err(error) => (
                    Outcome::NotRestored,
                    JournalReason::Failed(error.kind()),
                    Some(error.to_string()),
                ),
            }
        };
        let entry = JournalEntry {
            journal: JOURNAL_VERSION,
            at: Utc::now(),
            outcome,
            reason,
            detail,
            ..deleted
        };
        journal.append(entry.clone())?;
        report.record(&entry);
        on_event(Event::Outcome(&entry));
    }
    report.elapsed = started.elapsed();
    report.requests = client.requests_sent().saturating_sub(requests_before);
    report.rate_limit = client.rate_limit();
    Ok(report)
}

fn group_by_package(entries: &[JournalEntry]) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    for entry in entries {
        *counts.entry(entry.package.as_str()).or_default() += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use ghpkg_retention::{GraphLinks, GraphRole, ManifestStatus, ReasonCode};

    fn decision(id: u64, parents: &[u64]) -> VersionDecision {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        VersionDecision {
            id,
            name: format!("sha256:{id:064x}").into(),
            tags: vec![],
            created_at: at,
            updated_at: at,
            decision: Decision::Delete,
            reason: ReasonCode::ChildOfDeleted,
            detail: "".into(),
            graph: Some(Box::new(GraphLinks {
                role: GraphRole::Child,
                manifest: ManifestStatus::Read,
                parents: parents.to_vec(),
                carries: vec![],
            })),
            policy: None,
        }
    }

    #[test]
    fn parents_come_a_level_before_their_children() {
        let index = decision(1, &[]);
        let nested = decision(2, &[1]);
        let child = decision(3, &[2, 1]);
        let shared = decision(4, &[9]); // its parent is not being deleted here
        let planned = [&child, &shared, &nested, &index];
        let levels: Vec<Vec<u64>> = levels(&planned)
            .into_iter()
            .map(|level| level.iter().map(|d| d.id).collect())
            .collect();
        assert_eq!(levels, [vec![4, 1], vec![2], vec![3]]);
    }
}
