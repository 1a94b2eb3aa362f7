//! Applying plans against the emulator: exactly the planned deletions, checked against the
//! emulator's own change log; skips for what changed since the plan; resume after a crash; and
//! restore from the journal back to the state before.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use ghpkg::apply::{self, ApplyErrorKind, ApplyOptions, Event, RestoreOptions, SkipReason};
use ghpkg::journal::{JOURNAL_VERSION, Journal, JournalEntry, JournalReason, Outcome};
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
    ghpkg::retention::plan(&target, facts.clone(), &rules, Utc::now()).unwrap()
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
        .map(|d| ((d.package.to_string(), d.id), 1))
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

    // The header names the API the run talked to; then, for each deletion of the plan, its
    // intent line before the DELETE was sent and its outcome line after.
    let state = Journal::read(&path, Some(&apply::journal_scope(&plan))).unwrap();
    assert_eq!(
        state.header.as_ref().map(|header| header.api_url.as_str()),
        Some(client.base_url())
    );
    assert_eq!(state.entries.len(), 2 * plan.deletions.len());
    for deletion in &plan.deletions {
        let outcomes: Vec<Outcome> = state
            .entries
            .iter()
            .filter(|e| *e.package == *deletion.package && e.version_id == deletion.id)
            .map(|e| e.outcome)
            .collect();
        assert_eq!(outcomes, [Outcome::Intent, Outcome::Deleted]);
    }

    // Applying again resumes: nothing left to do, nothing sent twice.
    let again = apply::apply(&client, &plan, &mut journal, &ApplyOptions::new(), &quiet)
        .await
        .unwrap();
    assert_eq!(again.resumed, plan.deletions.len());
    assert_eq!(deletions_logged(&server), planned(&plan));
    drop(journal);

    let restored = apply::restore_from_journal(&client, &path, &RestoreOptions::new(), &quiet)
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
async fn a_planned_version_deleted_by_hand_before_the_apply_is_skipped_and_never_restored() {
    let server = emulator().await;
    let client = client(&server);
    let plan = make_plan(&client).await;
    let by_hand = plan.deletions[0].clone();
    // Someone deletes a planned version by hand, deliberately, between the plan and the apply.
    server
        .delete_version_as("hubot", by_hand.id as i64)
        .expect("a live version");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let mut journal = Journal::open(&path, &apply::journal_scope(&plan)).unwrap();
    let report = apply::apply(&client, &plan, &mut journal, &ApplyOptions::new(), &quiet)
        .await
        .unwrap();
    // Not ours: skipped as gone before the apply, never counted as deleted by this run.
    assert_eq!(report.recovered, 0);
    assert_eq!(report.skipped.get(&SkipReason::GoneBeforeApply), Some(&1));
    assert_eq!(report.count(Outcome::Deleted), plan.deletions.len() - 1);
    drop(journal);
    let state = Journal::read(&path, None).unwrap();
    let lines: Vec<_> = state
        .entries
        .iter()
        .filter(|e| *e.package == *by_hand.package && e.version_id == by_hand.id)
        .map(|e| (e.outcome, e.reason.clone()))
        .collect();
    assert_eq!(
        lines,
        [(
            Outcome::Skipped,
            JournalReason::Skipped(SkipReason::GoneBeforeApply)
        )],
        "no intent, no deleted line"
    );
    let by_us: Vec<u64> = server
        .changes()
        .iter()
        .filter(|change| change.actor != "hubot")
        .map(|change| change.version_id.unwrap() as u64)
        .collect();
    assert!(!by_us.contains(&by_hand.id), "its DELETE was never sent");

    // Undo brings back what the apply deleted, and leaves the hand deletion alone.
    let restored = apply::restore_from_journal(&client, &path, &RestoreOptions::new(), &quiet)
        .await
        .unwrap();
    assert_eq!(restored.count(Outcome::Restored), plan.deletions.len() - 1);
    let after = server.state();
    let (_, version) = after.version(by_hand.id as i64).unwrap();
    assert!(version.deleted_at.is_some(), "the hand deletion stands");
}

#[tokio::test]
async fn a_version_whose_delete_was_sent_but_whose_answer_was_lost_is_recognised_as_ours() {
    let server = emulator().await;
    let client = client(&server);
    let plan = make_plan(&client).await;
    let lost = plan.deletions[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    // A run wrote the intent line and sent the DELETE, which GitHub applied; the process died
    // before the answer was journaled.
    let mut journal = Journal::open(&path, &apply::journal_scope(&plan)).unwrap();
    journal
        .append(intent_line(&plan, &lost.package, lost.id))
        .unwrap();
    client
        .org(ORG)
        .package(PackageType::Npm, &*lost.package)
        .version(lost.id)
        .delete()
        .await
        .unwrap();
    let report = apply::apply(&client, &plan, &mut journal, &ApplyOptions::new(), &quiet)
        .await
        .unwrap();
    assert_eq!(report.recovered, 1);
    assert_eq!(report.count(Outcome::Deleted), plan.deletions.len());
    assert_eq!(
        journal.state().outcome(&lost.package, lost.id),
        Some(Outcome::Deleted)
    );
    assert!(
        deletions_logged(&server).values().all(|&n| n == 1),
        "nothing sent twice"
    );
    drop(journal);
    let restored = apply::restore_from_journal(&client, &path, &RestoreOptions::new(), &quiet)
        .await
        .unwrap();
    assert_eq!(restored.count(Outcome::Restored), plan.deletions.len());
}

/// The intent line a run writes before sending the DELETE of version `id`.
fn intent_line(plan: &Plan, package: &str, id: u64) -> JournalEntry {
    let decision = plan
        .packages
        .iter()
        .flat_map(|p| &p.decisions)
        .find(|d| d.id == id)
        .unwrap();
    JournalEntry {
        journal: JOURNAL_VERSION,
        at: Utc::now(),
        plan: plan.sha256.clone(),
        host: plan.inputs.target.host.clone(),
        owner: plan.inputs.target.owner.clone(),
        package_type: plan.inputs.target.package_type.clone(),
        package: package.to_string(),
        version_id: id,
        name: decision.name.to_string(),
        tags: decision.tags.clone(),
        outcome: Outcome::Intent,
        reason: JournalReason::Plan(decision.reason),
        detail: None,
    }
}

#[tokio::test]
async fn a_journal_of_format_1_restores_only_what_its_runs_deleted() {
    let server = emulator().await;
    let client = client(&server);
    let plan = make_plan(&client).await;
    let ours = plan.deletions[0].clone();
    let by_hand = plan.deletions[1].clone();
    for deletion in [&ours, &by_hand] {
        server
            .delete_version_as("someone", deletion.id as i64)
            .unwrap();
    }
    // As ghpkg wrote journals before intent lines: a deletion GitHub answered, and a version
    // found gone that it counted as deleted (someone else's, as it turns out).
    let line = |id: u64, detail: &str| {
        let mut line = serde_json::to_value(intent_line(&plan, &ours.package, id)).unwrap();
        line["journal"] = 1.into();
        line["outcome"] = "deleted".into();
        if !detail.is_empty() {
            line["detail"] = detail.into();
        }
        line.to_string() + "\n"
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    std::fs::write(
        &path,
        line(ours.id, "")
            + &line(
                by_hand.id,
                "found deleted since the plan was made, with no journal line",
            ),
    )
    .unwrap();
    let state = Journal::read(&path, Some(&apply::journal_scope(&plan))).unwrap();
    assert!(state.header.is_none());
    assert!(state.sent_delete(&ours.package, ours.id));
    assert!(!state.sent_delete(&by_hand.package, by_hand.id));

    let restored = apply::restore_from_journal(&client, &path, &RestoreOptions::new(), &quiet)
        .await
        .unwrap();
    assert_eq!(restored.count(Outcome::Restored), 1);
    let after = server.state();
    assert!(
        after
            .version(ours.id as i64)
            .unwrap()
            .1
            .deleted_at
            .is_none()
    );
    assert!(
        after
            .version(by_hand.id as i64)
            .unwrap()
            .1
            .deleted_at
            .is_some()
    );
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
            if *package.name == *retagged.package && decision.id == retagged.id {
                decision.tags = vec!["v1.0.0".into()];
            }
            if *package.name == *updated.package && decision.id == updated.id {
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
        let key = (version.package.to_string(), version.id);
        assert!(!logged.contains_key(&key), "{key:?} was deleted");
        let entry = journal
            .state()
            .entries
            .iter()
            .find(|e| *e.package == *version.package && e.version_id == version.id)
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

/// The token of `user-0` with `read:packages` only: it lists, and may not delete.
const READ_ONLY_TOKEN: &str = "ghp_user-0_read";
/// An installation token of `user-0` (like GitHub Actions' `GITHUB_TOKEN`) that reads and may
/// not delete; GitHub names none of its scopes.
const INSTALLATION_TOKEN: &str = "ghs_user-0_actions";

/// One npm package of 250 versions, a plan (made with the full token) that deletes 240 of them,
/// and the two tokens above.
async fn a_plan_of_240_deletions() -> (MockServer, Plan) {
    let mut fixture = Fixture::synthetic(SyntheticSpec {
        organizations: 1,
        users: 1,
        packages_per_owner: 1,
        versions_per_package: 250,
        package_types: vec![ghpkg_api::types::PackageType::Npm],
        ..SyntheticSpec::default()
    });
    for token in [READ_ONLY_TOKEN, INSTALLATION_TOKEN] {
        fixture.tokens.push(ghpkg_mock::fixture::FixtureToken {
            token: token.into(),
            user: "user-0".into(),
            scopes: vec![ghpkg_mock::READ_PACKAGES.into()],
        });
    }
    let server = MockServer::start(MockOptions {
        fixture,
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let scope = client(&server).org(ORG);
    let facts = scope
        .package(PackageType::Npm, "pkg-0")
        .facts()
        .await
        .unwrap();
    let rules = Rules {
        keep_newest: Some(10),
        ..Rules::default()
    };
    let target = scope.target(&PackageType::Npm, None);
    let plan = ghpkg::retention::plan(&target, vec![facts], &rules, Utc::now()).unwrap();
    assert_eq!(plan.deletions.len(), 240);
    (server, plan)
}

fn client_with_token(server: &MockServer, token: &str) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .token(token)
        .build()
        .unwrap()
}

/// DELETE requests the emulator received, whatever it answered.
fn deletes_received(server: &MockServer) -> u64 {
    server
        .stats()
        .requests
        .iter()
        .filter(|(operation, _)| operation.starts_with("packages/delete-package-version"))
        .flat_map(|(_, by_status)| by_status.values())
        .sum()
}

#[tokio::test]
async fn a_classic_token_without_delete_packages_is_refused_before_any_delete_is_sent() {
    let (server, plan) = a_plan_of_240_deletions().await;
    let client = client_with_token(&server, READ_ONLY_TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let mut journal = Journal::open(&path, &apply::journal_scope(&plan)).unwrap();
    let error = apply::apply(&client, &plan, &mut journal, &ApplyOptions::new(), &quiet)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ApplyErrorKind::MissingScopes, "{error}");
    let message = error.to_string();
    assert!(message.contains("delete:packages"), "{message}");
    assert!(message.contains("nothing was deleted"), "{message}");
    assert_eq!(deletes_received(&server), 0);
    assert!(journal.state().entries.is_empty(), "nothing journaled");
}

#[tokio::test]
async fn an_installation_token_refused_on_delete_stops_after_the_breakers_threshold() {
    let (server, plan) = a_plan_of_240_deletions().await;
    let client = client_with_token(&server, INSTALLATION_TOKEN);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let mut journal = Journal::open(&path, &apply::journal_scope(&plan)).unwrap();
    let report = apply::apply(&client, &plan, &mut journal, &ApplyOptions::new(), &quiet)
        .await
        .unwrap();
    let sent = deletes_received(&server);
    assert!(
        sent <= apply::REFUSALS_BEFORE_STOPPING as u64,
        "{sent} DELETEs sent"
    );
    assert!(server.changes().is_empty(), "nothing was deleted");
    // GitHub's 404s for versions it still lists are refusals, not versions already gone.
    assert_eq!(report.count(Outcome::AlreadyGone), 0);
    assert_eq!(report.count(Outcome::Failed), sent as usize);
    assert_eq!(
        report.skipped.get(&SkipReason::NotAttempted).copied(),
        Some(240 - sent as usize)
    );
    let not_attempted = journal
        .state()
        .entries
        .iter()
        .find(|e| e.reason == JournalReason::Skipped(SkipReason::NotAttempted))
        .unwrap();
    let detail = not_attempted.detail.as_deref().unwrap();
    assert!(detail.contains("Manage Actions access"), "{detail}");
    // Nothing of it counts as done: a rerun tries every version again.
    assert!(plan.deletions.iter().all(|d| {
        !journal
            .state()
            .outcome(&d.package, d.id)
            .unwrap()
            .is_final_for_apply()
    }));
}
