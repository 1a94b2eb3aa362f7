//! Applying plans against the emulator: exactly the planned deletions, checked against the
//! emulator's own change log; skips for what changed since the plan; resume after a crash; and
//! restore from the journal back to the state before.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use ghpkg::apply::{self, ApplyErrorKind, ApplyOptions, Event, SkipReason};
use ghpkg::journal::{Journal, JournalReason, Outcome};
use ghpkg::outcome::{NotDoneReason, PackageOutcome, PackageResult};
use ghpkg::retention::{Age, Plan, Rules};
use ghpkg::{Client, Pacing, PackageType};
use ghpkg_mock::{Fixture, MockOptions, MockServer, SyntheticSpec};

const ORG: &str = "org-0";
const TOKEN: &str = "ghp_user-0_all";

async fn emulator() -> MockServer {
    MockServer::start(MockOptions {
        fixture: Fixture::synthetic(SyntheticSpec {
            organizations: 1,
            users: 1,
            packages_per_owner: 2,
            versions_per_package: 120,
            package_types: vec![ghpkg_api::types::PackageType::Npm],
            max_age_days: 400,
            ..SyntheticSpec::default()
        }),
        ..MockOptions::default()
    })
    .await
    .unwrap()
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .token(TOKEN)
        .pacing(Pacing {
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(5),
            time_scale: 60.0, // GitHub's minute of points lasts a second
            ..Pacing::default()
        })
        .build()
        .unwrap()
}

/// A plan deleting versions older than 200 days, keeping the newest 10, in both packages.
async fn make_plan(client: &Client) -> Plan {
    let scope = client.org(ORG);
    let names = scope
        .resolve_packages(&PackageType::Npm, &["pkg-*".to_string()])
        .await
        .unwrap();
    assert_eq!(names, ["pkg-0", "pkg-1"]);
    let mut facts = Vec::new();
    for name in &names {
        facts.push(
            scope
                .package(PackageType::Npm, name.clone())
                .facts()
                .await
                .unwrap(),
        );
    }
    let rules = Rules {
        keep_newest: Some(10),
        older_than: Some(Age::parse("200d").unwrap()),
        ..Rules::default()
    };
    let target = scope.target(&PackageType::Npm, None);
    ghpkg::retention::plan(&target, &facts, &rules, Utc::now()).unwrap()
}

fn quiet(_: Event<'_>) {}

/// Deleted version ids per package, from the emulator's own change log.
fn deletions_logged(server: &MockServer) -> BTreeMap<(String, u64), usize> {
    let mut counts = BTreeMap::new();
    for change in server.changes() {
        if change
            .operation_id
            .starts_with("packages/delete-package-version")
        {
            *counts
                .entry((
                    change.package_name.clone(),
                    change.version_id.unwrap() as u64,
                ))
                .or_default() += 1;
        }
    }
    counts
}

fn planned(plan: &Plan) -> BTreeMap<(String, u64), usize> {
    plan.deletions
        .iter()
        .map(|d| ((d.package.clone(), d.id), 1))
        .collect()
}

#[tokio::test]
async fn an_applied_plan_deletes_exactly_its_deletions_and_the_journal_undoes_it() {
    let server = emulator().await;
    let client = client(&server);
    let before = server.state();
    let plan = make_plan(&client).await;
    assert!(plan.deletions.len() > 50, "{}", plan.deletions.len());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let mut journal = Journal::open(&path, &apply::journal_scope(&plan)).unwrap();
    let report = apply::apply(&client, &plan, &mut journal, &ApplyOptions::new(), &quiet)
        .await
        .unwrap();
    assert_eq!(report.count(Outcome::Deleted), plan.deletions.len());
    assert_eq!(
        deletions_logged(&server),
        planned(&plan),
        "exactly the plan, once each"
    );
    assert!(report.requests >= plan.deletions.len() as u64);

    // Every line of the journal is a deletion of the plan.
    let state = Journal::read(&path, Some(&apply::journal_scope(&plan))).unwrap();
    assert_eq!(state.entries.len(), plan.deletions.len());

    // Applying again resumes: nothing left to do, nothing sent twice.
    let again = apply::apply(&client, &plan, &mut journal, &ApplyOptions::new(), &quiet)
        .await
        .unwrap();
    assert_eq!(again.resumed, plan.deletions.len());
    assert_eq!(deletions_logged(&server), planned(&plan));
    drop(journal);

    let restored = apply::restore_from_journal(&client, &path, &quiet)
        .await
        .unwrap();
    assert_eq!(restored.count(Outcome::Restored), plan.deletions.len());
    let mut after = server.state();
    // Restoring clears `deleted_at`; everything else is as it was.
    for package in &mut after.packages {
        for version in &mut package.versions {
            let original = before
                .packages
                .iter()
                .flat_map(|p| &p.versions)
                .find(|v| v.id == version.id)
                .unwrap();
            assert_eq!(version.deleted_at, original.deleted_at, "{}", version.id);
            version.downloads = original.downloads;
        }
    }
    assert_eq!(after, before);
}

#[tokio::test]
async fn planned_versions_deleted_since_the_plan_are_counted_and_never_sent_again() {
    let server = emulator().await;
    let client = client(&server);
    let plan = make_plan(&client).await;
    let first = plan.deletions[0].clone();
    let second = plan.deletions[1].clone();
    // Someone deletes two planned versions before the apply.
    for deletion in [&first, &second] {
        client
            .org(ORG)
            .package(PackageType::Npm, deletion.package.clone())
            .version(deletion.id)
            .delete()
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let mut journal = Journal::open(&path, &apply::journal_scope(&plan)).unwrap();
    let report = apply::apply(&client, &plan, &mut journal, &ApplyOptions::new(), &quiet)
        .await
        .unwrap();
    // Deleted after the plan was made and found in the deleted listing: counted as this plan's
    // (this is how a lost journal line is recovered), never sent again.
    assert_eq!(report.recovered, 2);
    assert_eq!(report.count(Outcome::Deleted), plan.deletions.len());
    let logged = deletions_logged(&server);
    assert!(logged.values().all(|&n| n == 1), "nothing deleted twice");
}

#[tokio::test]
async fn versions_whose_tags_or_update_time_changed_since_the_plan_are_skipped_not_deleted() {
    let server = emulator().await;
    let client = client(&server);
    let mut plan = make_plan(&client).await;
    let retagged = plan.deletions[0].clone();
    let updated = plan.deletions[1].clone();
    // The plan saw these two otherwise than GitHub lists them now: one carried a tag (now gone
    // from it), one was last updated earlier.
    for package in &mut plan.packages {
        for decision in &mut package.decisions {
            if package.name == retagged.package && decision.id == retagged.id {
                decision.tags = vec!["v1.0.0".into()];
            }
            if package.name == updated.package && decision.id == updated.id {
                decision.updated_at -= chrono::Duration::days(1);
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let mut journal = Journal::open(&path, &apply::journal_scope(&plan)).unwrap();
    let report = apply::apply(&client, &plan, &mut journal, &ApplyOptions::new(), &quiet)
        .await
        .unwrap();

    let logged = deletions_logged(&server);
    for (version, reason) in [
        (&retagged, SkipReason::TagsChanged),
        (&updated, SkipReason::Changed),
    ] {
        let key = (version.package.clone(), version.id);
        assert!(!logged.contains_key(&key), "{key:?} was deleted");
        let entry = journal
            .state()
            .entries
            .iter()
            .find(|e| e.package == version.package && e.version_id == version.id)
            .expect("a journal line for the skipped version");
        assert_eq!(
            (entry.outcome, &entry.reason),
            (Outcome::Skipped, &JournalReason::Skipped(reason))
        );
    }
    assert_eq!(report.count(Outcome::Skipped), 2);
    assert_eq!(report.count(Outcome::Deleted), plan.deletions.len() - 2);
    assert_eq!(logged.len(), plan.deletions.len() - 2);
}

#[tokio::test]
async fn an_apply_cut_short_and_run_again_deletes_each_version_once() {
    let server = emulator().await;
    let client = client(&server);
    let plan = make_plan(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");

    // Cut the apply off after a few outcomes, as Ctrl-C or a timeout would.
    for cut_after in [Duration::from_millis(5), Duration::from_millis(20)] {
        let mut journal = Journal::open(&path, &apply::journal_scope(&plan)).unwrap();
        let _ = tokio::time::timeout(
            cut_after,
            apply::apply(&client, &plan, &mut journal, &ApplyOptions::new(), &quiet),
        )
        .await;
    }
    let mut journal = Journal::open(&path, &apply::journal_scope(&plan)).unwrap();
    let report = apply::apply(&client, &plan, &mut journal, &ApplyOptions::new(), &quiet)
        .await
        .unwrap();
    let logged = deletions_logged(&server);
    assert_eq!(
        logged,
        planned(&plan),
        "each planned version once, nothing else"
    );
    let state = Journal::read(&path, None).unwrap();
    let done: usize = state
        .latest
        .values()
        .filter(|outcome| matches!(outcome, Outcome::Deleted))
        .count();
    assert_eq!(
        done,
        plan.deletions.len(),
        "the journal accounts for every deletion"
    );
    assert!(report.resumed + report.count(Outcome::Deleted) >= plan.deletions.len());
}

#[tokio::test]
async fn a_stopped_apply_finishes_what_is_in_flight_sends_nothing_more_and_resumes_whole() {
    let server = emulator().await;
    let client = client(&server);
    let plan = make_plan(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");

    // Stop at the first outcome, as a Ctrl-C handler would set the flag.
    let stop = AtomicBool::new(false);
    let on_event = |event: Event<'_>| {
        if matches!(event, Event::Outcome(_)) {
            stop.store(true, Ordering::SeqCst);
        }
    };
    let mut journal = Journal::open(&path, &apply::journal_scope(&plan)).unwrap();
    let options = ApplyOptions::new().stop_when(&stop);
    let report = apply::apply(&client, &plan, &mut journal, &options, &on_event)
        .await
        .unwrap();
    drop(journal);
    let sent = deletions_logged(&server).len();
    let journaled = report.count(Outcome::Deleted);
    assert!(journaled > 0, "the deletions in flight finished");
    assert_eq!(sent, journaled, "every deletion sent is journaled");
    assert!(
        sent <= client.concurrency(),
        "nothing was sent after the stop but what was in flight: {sent}"
    );
    let state = Journal::read(&path, None).unwrap();
    let outcomes = PackageResult::of_apply(&plan, &state, &BTreeMap::new());
    assert!(
        outcomes
            .iter()
            .any(|result| result.outcome == PackageOutcome::NotDone(NotDoneReason::NotAttempted)),
        "{outcomes:?}"
    );

    // The same plan and journal again: the rest, each once.
    let mut journal = Journal::open(&path, &apply::journal_scope(&plan)).unwrap();
    let again = apply::apply(&client, &plan, &mut journal, &ApplyOptions::new(), &quiet)
        .await
        .unwrap();
    assert_eq!(again.resumed, journaled);
    assert_eq!(deletions_logged(&server), planned(&plan));
    let outcomes = PackageResult::of_apply(&plan, journal.state(), &BTreeMap::new());
    assert!(
        outcomes
            .iter()
            .all(|result| result.outcome == PackageOutcome::Pruned),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_plan_over_budget_or_for_another_host_is_refused_before_anything_is_sent() {
    let server = emulator().await;
    let client = client(&server);
    let mut plan = make_plan(&client).await;
    plan.budget.refused = true;
    plan.budget.over_by_count = Some(7);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let mut journal = Journal::open(&path, &apply::journal_scope(&plan)).unwrap();
    let before = server.stats().total_requests;
    let error = apply::apply(&client, &plan, &mut journal, &ApplyOptions::new(), &quiet)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ApplyErrorKind::OverBudget, "{error}");
    assert!(error.to_string().contains('7'), "{error}");

    plan.budget.refused = false;
    plan.inputs.target.host = "github.com".into();
    let error = apply::apply(&client, &plan, &mut journal, &ApplyOptions::new(), &quiet)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ApplyErrorKind::WrongHost, "{error}");
    assert_eq!(server.stats().total_requests, before);
}
