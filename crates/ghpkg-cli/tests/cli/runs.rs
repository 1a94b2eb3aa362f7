//! Plans applied and undone: prune → apply → restore returns the emulator to its prior state;
//! an apply killed midway and run again deletes each version exactly once (by the emulator's
//! own change log); the token never reaches any output or file; GitHub Actions gets its
//! outputs and summary.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use ghpkg_mock::fixture::FixtureToken;
use ghpkg_mock::{MockOptions, SyntheticSpec};
use serde_json::Value;

use crate::support::{
    Emulator, SYNTHETIC_ORG, SYNTHETIC_TOKEN, SYNTHETIC_USER, ghpkg_path, json_of, printed,
    synthetic_fixture,
};

#[test]
fn prune_apply_and_restore_from_the_journal_return_the_emulator_to_its_prior_state() {
    let emulator = Emulator::synthetic(12);
    let before = emulator.server().state();
    let dir = tempfile::tempdir().unwrap();
    let output = emulator
        .ghpkg(
            SYNTHETIC_TOKEN,
            &[
                "--org",
                SYNTHETIC_ORG,
                "prune",
                "npm",
                "pkg-*",
                "--keep",
                "3",
                "--apply",
                "--yes",
                "--json",
            ],
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", printed(&output));
    let result = json_of(&output, "prune.schema.json");
    assert_eq!(
        result["plan"]["inputs"]["packages"],
        serde_json::json!(["pkg-0"]),
        "the glob matched the npm package only"
    );
    assert_eq!(result["apply"]["counts"]["deleted"], 9);
    let journal = result["apply"]["journal"].as_str().unwrap();
    let sha = result["plan"]["sha256"].as_str().unwrap();
    assert_eq!(journal, format!("ghpkg-{}.journal.jsonl", &sha[..12]));
    let deleted = emulator.server().state();
    assert_ne!(deleted, before);

    let output = emulator
        .ghpkg(
            SYNTHETIC_TOKEN,
            &["restore", "--from-log", journal, "--json"],
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", printed(&output));
    let report = json_of(&output, "run-report.schema.json");
    assert_eq!(report["counts"]["restored"], 9);
    assert_eq!(emulator.server().state(), before);

    // A second restore finds nothing left to do.
    let again = emulator
        .ghpkg(
            SYNTHETIC_TOKEN,
            &["restore", "--from-log", journal, "--json"],
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(
        json_of(&again, "run-report.schema.json")["counts"]["restored"],
        0
    );
    assert_eq!(
        emulator.server().changes().len(),
        18,
        "9 deletes and 9 restores, nothing more"
    );
}

#[test]
fn an_apply_killed_midway_and_run_again_deletes_each_version_once() {
    let emulator = Emulator::start(MockOptions {
        fixture: synthetic_fixture(60),
        latency: Duration::from_millis(60),
        ..MockOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let plan_arg = plan.to_str().unwrap();
    let output = emulator
        .ghpkg(
            SYNTHETIC_TOKEN,
            &[
                "--org",
                SYNTHETIC_ORG,
                "prune",
                "npm",
                "pkg-0",
                "--keep",
                "5",
                "--plan-out",
                plan_arg,
                "--json",
            ],
        )
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", printed(&output));
    let planned: Vec<i64> = json_of(&output, "prune.schema.json")["plan"]["deletions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|deletion| deletion["id"].as_i64().unwrap())
        .collect();
    assert_eq!(planned.len(), 55);

    let mut child = std::process::Command::new(ghpkg_path())
        .args([
            "--api-url",
            &emulator.url(),
            "apply",
            plan_arg,
            "--yes",
            "--quiet",
        ])
        .env("GH_TOKEN", SYNTHETIC_TOKEN)
        .env_remove("GITHUB_ACTIONS")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while emulator.server().changes().len() < 10 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the apply never started deleting"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let deleted_before_kill = emulator.server().changes().len();
    assert!(
        deleted_before_kill < planned.len(),
        "the apply was killed midway ({deleted_before_kill} deleted)"
    );

    let output = emulator
        .ghpkg(SYNTHETIC_TOKEN, &["apply", plan_arg, "--yes", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", printed(&output));
    let report = json_of(&output, "run-report.schema.json");
    let resumed = report["resumed"].as_u64().unwrap() + report["recovered"].as_u64().unwrap();
    assert!(
        resumed >= 1,
        "the rerun found the first run's work: {report}"
    );

    let mut deletes: BTreeMap<i64, usize> = BTreeMap::new();
    for change in emulator.server().changes() {
        *deletes.entry(change.version_id.unwrap()).or_default() += 1;
    }
    assert_eq!(deletes.keys().copied().collect::<Vec<_>>(), {
        let mut sorted = planned.clone();
        sorted.sort_unstable();
        sorted
    });
    assert!(
        deletes.values().all(|count| *count == 1),
        "a version was deleted twice: {deletes:?}"
    );
}

/// A token nobody could mistake for anything else.
const SECRET: &str = "ghp_zz9PluralZAlpha0123456789SECRETtoken";

#[test]
fn the_token_never_appears_in_output_plans_or_journals() {
    let mut fixture = ghpkg_mock::Fixture::synthetic(SyntheticSpec {
        organizations: 1,
        users: 1,
        packages_per_owner: 1,
        versions_per_package: 6,
        package_types: vec![ghpkg_api::types::PackageType::Npm],
        ..SyntheticSpec::default()
    });
    fixture.tokens.push(FixtureToken {
        token: SECRET.to_string(),
        user: SYNTHETIC_USER.to_string(),
        scopes: vec![
            "read:packages".into(),
            "write:packages".into(),
            "delete:packages".into(),
        ],
    });
    let emulator = Emulator::start(MockOptions {
        fixture,
        ..MockOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let plan_arg = plan.to_str().unwrap();
    let mut printed_all = String::new();
    let runs: Vec<Vec<&str>> = vec![
        vec!["auth", "status"],
        vec!["auth", "status", "--json"],
        vec![
            "--org",
            SYNTHETIC_ORG,
            "prune",
            "npm",
            "pkg-0",
            "--keep",
            "2",
            "--plan-out",
            plan_arg,
        ],
        vec!["apply", plan_arg, "--yes"],
        vec![
            "--org",
            SYNTHETIC_ORG,
            "packages",
            "get",
            "npm",
            "missing",
            "--json",
        ],
        vec!["--org", SYNTHETIC_ORG, "packages", "get", "npm", "missing"],
    ];
    for args in runs {
        let output = emulator
            .ghpkg(SECRET, &args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        printed_all.push_str(&printed(&output));
    }
    let journal = dir.path().join("plan.journal.jsonl");
    let restore = emulator
        .ghpkg(
            SECRET,
            &["restore", "--from-log", journal.to_str().unwrap()],
        )
        .output()
        .unwrap();
    assert!(restore.status.success(), "{}", printed(&restore));
    printed_all.push_str(&printed(&restore));
    // --with-token: from standard input.
    let piped = crate::support::ghpkg(&[
        "--api-url",
        &emulator.url(),
        "--with-token",
        "auth",
        "status",
        "--json",
    ])
    .write_stdin(format!("{SECRET}\n"))
    .output()
    .unwrap();
    assert!(piped.status.success(), "{}", printed(&piped));
    assert_eq!(
        json_of(&piped, "auth-status.schema.json")["token"]["source"],
        "stdin"
    );
    printed_all.push_str(&printed(&piped));

    assert!(
        printed_all.contains("deleted 4"),
        "the runs did their work:\n{printed_all}"
    );
    assert!(
        !printed_all.contains(SECRET),
        "the token was printed:\n{printed_all}"
    );
    for file in std::fs::read_dir(dir.path()).unwrap() {
        let path = file.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(SECRET), "the token is in {}", path.display());
    }
}

#[test]
fn inside_github_actions_outputs_and_a_summary_are_appended_to_their_files() {
    let emulator = Emulator::synthetic(5);
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("outputs");
    let summary = dir.path().join("summary.md");
    std::fs::write(&outputs, "earlier=kept\n").unwrap();
    let output = emulator
        .ghpkg(
            SYNTHETIC_TOKEN,
            &[
                "--org",
                SYNTHETIC_ORG,
                "prune",
                "npm",
                "pkg-0",
                "--keep",
                "2",
                "--apply",
                "--yes",
                "--quiet",
            ],
        )
        .current_dir(dir.path())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", printed(&output));
    let written = std::fs::read_to_string(&outputs).unwrap();
    let values: BTreeMap<&str, &str> = written
        .lines()
        .filter_map(|line| line.split_once('='))
        .collect();
    assert_eq!(values["earlier"], "kept", "appended, not overwritten");
    assert_eq!(
        (
            values["planned"],
            values["deleted"],
            values["kept"],
            values["failed"]
        ),
        ("3", "3", "2", "0")
    );
    assert_eq!(values["plan-sha256"].len(), 64);
    assert!(values["journal"].ends_with(".journal.jsonl"));
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(summary.contains("### ghpkg prune (applied)"), "{summary}");
    assert!(summary.contains("| deleted | 3 |"), "{summary}");

    // Outside Actions, the same variables are left alone.
    let untouched = dir.path().join("untouched");
    emulator
        .ghpkg(
            SYNTHETIC_TOKEN,
            &[
                "--org",
                SYNTHETIC_ORG,
                "prune",
                "maven",
                "pkg-1",
                "--keep",
                "2",
            ],
        )
        .env("GITHUB_OUTPUT", &untouched)
        .assert()
        .success();
    assert!(!untouched.exists());
}

#[test]
fn a_rerun_of_an_applied_plan_deletes_nothing_more() {
    let emulator = Emulator::synthetic(6);
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let plan_arg = plan.to_str().unwrap();
    emulator
        .ghpkg(
            SYNTHETIC_TOKEN,
            &[
                "--user",
                SYNTHETIC_USER,
                "prune",
                "maven",
                "pkg-1",
                "--keep",
                "2",
                "--plan-out",
                plan_arg,
            ],
        )
        .assert()
        .success();
    let first: Value = {
        let output = emulator
            .ghpkg(SYNTHETIC_TOKEN, &["apply", plan_arg, "--yes", "--json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", printed(&output));
        json_of(&output, "run-report.schema.json")
    };
    assert_eq!(first["counts"]["deleted"], 4);
    let second = emulator
        .ghpkg(SYNTHETIC_TOKEN, &["apply", plan_arg, "--yes", "--json"])
        .output()
        .unwrap();
    let second = json_of(&second, "run-report.schema.json");
    assert_eq!(
        (
            second["counts"]["deleted"].as_u64(),
            second["resumed"].as_u64()
        ),
        (Some(0), Some(4))
    );
    assert_eq!(emulator.server().changes().len(), 4);
}

#[test]
fn an_image_graph_is_deleted_parents_first_and_restored_whole() {
    let emulator = Emulator::demo();
    let before = emulator.server().state();
    let dir = tempfile::tempdir().unwrap();
    let output = emulator
        .ghpkg(
            ghpkg_mock::tokens::OCTOCAT_ALL,
            &[
                "--org",
                "acme",
                "prune",
                "container",
                "platform/gateway",
                "--keep",
                "2",
                "--apply",
                "--yes",
                "--json",
            ],
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", printed(&output));
    let result = json_of(&output, "prune.schema.json");
    let decisions = result["plan"]["packages"][0]["decisions"]
        .as_array()
        .unwrap();
    assert!(
        decisions.iter().all(|d| !d["graph"].is_null()),
        "the image graph was read"
    );
    let deleted = result["apply"]["counts"]["deleted"].as_u64().unwrap();
    assert_eq!(
        deleted as usize,
        result["plan"]["deletions"].as_array().unwrap().len()
    );
    assert!(deleted > 0);
    // Every deleted child's parents were deleted before it, by the emulator's own log.
    let order: Vec<i64> = emulator
        .server()
        .changes()
        .iter()
        .map(|c| c.version_id.unwrap())
        .collect();
    for decision in decisions.iter().filter(|d| d["decision"] == "delete") {
        let id = decision["id"].as_i64().unwrap();
        let position = order.iter().position(|v| *v == id).unwrap();
        for parent in decision["graph"]["parents"].as_array().unwrap() {
            let parent = order.iter().position(|v| *v == parent.as_i64().unwrap());
            assert!(
                parent.is_some_and(|p| p < position),
                "{id} was deleted before its parent"
            );
        }
    }
    let journal = result["apply"]["journal"].as_str().unwrap();
    let output = emulator
        .ghpkg(
            ghpkg_mock::tokens::OCTOCAT_ALL,
            &["restore", "--from-log", journal, "--json"],
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", printed(&output));
    assert_eq!(
        json_of(&output, "run-report.schema.json")["counts"]["restored"].as_u64(),
        Some(deleted)
    );
    let mut after = emulator.server().state();
    let mut before = before;
    // Reading a manifest counts as a download; nothing else may differ.
    for state in [&mut before, &mut after] {
        for package in &mut state.packages {
            for version in &mut package.versions {
                version.downloads = 0;
            }
        }
    }
    assert_eq!(after, before);
}

#[test]
fn a_manifest_cache_spares_every_registry_read_on_the_next_run() {
    let emulator = Emulator::demo();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("manifests");
    let cache_arg = cache.to_str().unwrap();
    let reads = || {
        let output = emulator
            .ghpkg(
                ghpkg_mock::tokens::OCTOCAT_ALL,
                &[
                    "--org",
                    "acme",
                    "prune",
                    "container",
                    "platform/gateway",
                    "--keep",
                    "2",
                ],
            )
            .args(["--manifest-cache", cache_arg, "--json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", printed(&output));
        json_of(&output, "prune.schema.json")["plan"]["reads"].clone()
    };
    let first = reads();
    assert!(first["from_registry"].as_u64().unwrap() > 0);
    let second = reads();
    assert_eq!(second["from_registry"], 0, "{second}");
    assert_eq!(second["from_cache"], first["from_registry"]);
}

#[test]
fn a_plan_for_the_authenticated_user_names_them_and_another_users_token_cannot_apply_it() {
    let emulator = Emulator::synthetic(6);
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let plan_arg = plan.to_str().unwrap();
    // No --org or --user: the token's own packages.
    emulator
        .ghpkg(
            SYNTHETIC_TOKEN,
            &[
                "prune",
                "maven",
                "pkg-1",
                "--keep",
                "2",
                "--plan-out",
                plan_arg,
            ],
        )
        .assert()
        .success();
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    assert_eq!(
        saved["inputs"]["target"]["owner"],
        serde_json::json!({ "authenticated-user": SYNTHETIC_USER })
    );

    let refused = emulator
        .ghpkg("ghp_user-1_all", &["apply", plan_arg, "--yes"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1), "{}", printed(&refused));
    assert!(
        printed(&refused)
            .contains("the plan is for the packages of user-0, but the token is user-1's"),
        "{}",
        printed(&refused)
    );
    assert!(emulator.server().changes().is_empty(), "nothing deleted");

    emulator
        .ghpkg(SYNTHETIC_TOKEN, &["apply", plan_arg, "--yes"])
        .assert()
        .success();
    assert_eq!(emulator.server().changes().len(), 4);
}

/// Where `GITHUB_API_URL` points in the undo test: a loopback port nothing listens on, so a
/// restore that followed the environment instead of the journal would fail, and nothing leaves
/// this machine either way.
const NOWHERE: &str = "http://127.0.0.1:9";

#[test]
fn restore_from_the_log_goes_to_the_api_the_run_ran_against_without_any_api_flag() {
    let emulator = Emulator::synthetic(12);
    let before = emulator.server().state();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let output = emulator
        .ghpkg(
            SYNTHETIC_TOKEN,
            &[
                "--org",
                SYNTHETIC_ORG,
                "prune",
                "npm",
                "pkg-0",
                "--keep",
                "3",
                "--plan-out",
                plan.to_str().unwrap(),
                "--apply",
                "--yes",
            ],
        )
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", printed(&output));
    let journal = dir.path().join("plan.journal.jsonl");
    // The run was off github.com (the emulator); the printed undo command carries no API flag.
    let undo = format!("ghpkg restore --from-log {}", journal.display());
    assert!(printed(&output).contains(&undo), "{}", printed(&output));

    let output = crate::support::ghpkg(&["restore", "--from-log", journal.to_str().unwrap()])
        .env("GH_TOKEN", SYNTHETIC_TOKEN)
        .env("GITHUB_API_URL", NOWHERE)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", printed(&output));
    assert!(
        printed(&output).contains(&format!("through {}", emulator.url())),
        "{}",
        printed(&output)
    );
    assert_eq!(emulator.server().state(), before, "everything restored");
}

#[test]
fn an_apply_with_a_token_that_cannot_delete_sends_no_delete_and_says_which_scope_is_missing() {
    const READ_ONLY: &str = "ghp_user-0_read";
    let mut fixture = synthetic_fixture(250);
    fixture.tokens.push(FixtureToken {
        token: READ_ONLY.into(),
        user: SYNTHETIC_USER.into(),
        scopes: vec!["read:packages".into()],
    });
    let emulator = Emulator::start(MockOptions {
        fixture,
        ..MockOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let output = emulator
        .ghpkg(
            READ_ONLY,
            &[
                "--org",
                SYNTHETIC_ORG,
                "prune",
                "npm",
                "pkg-0",
                "--keep",
                "10",
                "--apply",
                "--yes",
            ],
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", printed(&output));
    let said = printed(&output);
    assert!(said.contains("delete:packages"), "{said}");
    assert!(said.contains("nothing was deleted"), "{said}");
    assert!(
        said.contains("gh auth refresh -s delete:packages"),
        "{said}"
    );
    let deletes: u64 = emulator
        .server()
        .stats()
        .requests
        .iter()
        .filter(|(operation, _)| operation.starts_with("packages/delete-package-version"))
        .flat_map(|(_, by_status)| by_status.values())
        .sum();
    assert_eq!(deletes, 0, "240 planned, none sent");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no journal left behind"
    );
}

#[test]
fn an_apply_with_an_installation_token_that_may_not_delete_stops_and_names_the_permission() {
    const ACTIONS: &str = "ghs_user-0_actions";
    let mut fixture = synthetic_fixture(250);
    fixture.tokens.push(FixtureToken {
        token: ACTIONS.into(),
        user: SYNTHETIC_USER.into(),
        scopes: vec!["read:packages".into()],
    });
    let emulator = Emulator::start(MockOptions {
        fixture,
        ..MockOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let output = emulator
        .ghpkg(
            ACTIONS,
            &[
                "--org",
                SYNTHETIC_ORG,
                "prune",
                "npm",
                "pkg-0",
                "--keep",
                "10",
                "--apply",
                "--yes",
            ],
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    // Held back for want of permission: not done, exit 7, and said as such.
    assert_eq!(output.status.code(), Some(7), "{}", printed(&output));
    let said = printed(&output);
    assert!(said.contains("no-permission"), "{said}");
    let stopped: Vec<&str> = said
        .lines()
        .filter(|line| line.contains("not attempted"))
        .collect();
    assert_eq!(
        stopped.len(),
        1,
        "one line for the package, not a row each: {said}"
    );
    assert!(
        stopped[0].contains("pkg-0: 237 versions not attempted"),
        "{said}"
    );
    assert!(stopped[0].contains("Manage Actions access"), "{said}");
    let deletes: u64 = emulator
        .server()
        .stats()
        .requests
        .iter()
        .filter(|(operation, _)| operation.starts_with("packages/delete-package-version"))
        .flat_map(|(_, by_status)| by_status.values())
        .sum();
    assert_eq!(deletes, 3, "the breaker's threshold, not 240");
}
