//! The documented exit codes, each produced for real: 2 usage, 1 failure, 3 partly failed,
//! 4 over budget, 5 not confirmed, 8 insufficient; and `--json` errors that match the error
//! schema.

use ghpkg_mock::tokens::{OCTOCAT_ALL, OCTOCAT_READ};
use serde_json::Value;

use crate::support::{Emulator, ghpkg, json_of, printed};

fn error_of(output: &std::process::Output) -> Value {
    json_of(output, "error.schema.json")["error"].clone()
}

#[test]
fn a_wrong_command_line_exits_2_and_says_so_in_json_too() {
    let output = ghpkg(&["prune", "npm"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("NAME|GLOB"));

    let output = ghpkg(&["packages", "list", "--type", "nonsense", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let error = error_of(&output);
    assert_eq!(
        (error["kind"].as_str(), error["exit_code"].as_u64()),
        (Some("usage"), Some(2))
    );
}

#[test]
fn rules_that_select_nothing_are_a_usage_error_before_anything_is_sent() {
    let emulator = Emulator::demo();
    let output = emulator
        .ghpkg(
            OCTOCAT_ALL,
            &["--org", "acme", "prune", "npm", "left-pad", "--json"],
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(error_of(&output)["kind"], "invalid-rules");
    assert_eq!(
        emulator.server().stats().total_requests,
        0,
        "nothing was sent"
    );
}

#[test]
fn a_missing_package_fails_with_exit_1_and_the_librarys_kind_and_hint() {
    let emulator = Emulator::demo();
    let output = emulator
        .ghpkg(
            OCTOCAT_ALL,
            &[
                "--org",
                "acme",
                "packages",
                "get",
                "npm",
                "no-such-package",
                "--json",
            ],
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let error = error_of(&output);
    assert_eq!(error["kind"], "not-found");
    assert_eq!(error["status"], 404);
    assert!(error["hint"].as_str().unwrap().contains("package name"));

    let human = emulator
        .ghpkg(
            OCTOCAT_ALL,
            &["--org", "acme", "packages", "get", "npm", "no-such-package"],
        )
        .output()
        .unwrap();
    assert_eq!(human.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&human.stderr);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("\nhint: "), "{stderr}");
    assert!(human.stdout.is_empty());
}

#[test]
fn a_missing_scope_names_the_scope_to_add() {
    let emulator = Emulator::demo();
    let output = emulator
        .ghpkg(
            OCTOCAT_READ,
            &[
                "--org", "acme", "versions", "delete", "npm", "left-pad", "400001", "--json",
            ],
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let error = error_of(&output);
    assert_eq!(error["kind"], "missing-scopes");
    assert!(error["hint"].as_str().unwrap().contains("delete:packages"));
}

#[test]
fn a_glob_without_listing_rights_says_globs_need_them() {
    let emulator = Emulator::demo();
    let output = emulator
        .ghpkg(
            ghpkg_mock::tokens::OCTOCAT_NONE,
            &[
                "--org", "acme", "prune", "npm", "left-*", "--keep", "1", "--json",
            ],
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let error = error_of(&output);
    assert_eq!(error["kind"], "missing-scopes");
    assert!(
        error["hint"]
            .as_str()
            .unwrap()
            .contains("Package globs are matched against the owner's package list"),
        "{error}"
    );
}

#[test]
fn refused_deletions_make_an_apply_partly_failed_with_exit_3() {
    // octo-npm is public and its 0.2.0 has 7,500 downloads: GitHub refuses to delete it.
    let emulator = Emulator::demo();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let output = emulator
        .ghpkg(
            OCTOCAT_ALL,
            &[
                "--user",
                "octocat",
                "prune",
                "npm",
                "octo-npm",
                "--older-than",
                "30d",
                "--protect-version",
                "500001",
                "--apply",
                "--yes",
                "--journal",
                journal.to_str().unwrap(),
                "--json",
            ],
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", printed(&output));
    let result = json_of(&output, "prune.schema.json");
    assert_eq!(result["apply"]["counts"]["refused"], 1);
    assert_eq!(result["apply"]["not_done"]["too-many-downloads"], 1);
    assert!(
        emulator.server().changes().is_empty(),
        "GitHub changed nothing"
    );
}

#[test]
fn a_plan_over_budget_is_printed_exits_4_and_is_never_applied() {
    let emulator = Emulator::demo();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let plan = plan.to_str().unwrap();
    let rules = [
        "--org",
        "acme",
        "prune",
        "npm",
        "left-pad",
        "--keep",
        "1",
        "--max-deletions",
        "1",
    ];

    let dry = emulator
        .ghpkg(OCTOCAT_ALL, &rules)
        .args(["--plan-out", plan])
        .output()
        .unwrap();
    assert_eq!(dry.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&dry.stdout).contains("over budget"));

    let forced = emulator
        .ghpkg(OCTOCAT_ALL, &rules)
        .args(["--apply", "--yes", "--json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(forced.status.code(), Some(4));
    let result = json_of(&forced, "prune.schema.json");
    assert_eq!(result["plan"]["budget"]["refused"], true);
    assert_eq!(result["not_applied"]["kind"], "over-budget");
    assert!(result["apply"].is_null());

    let applied = emulator
        .ghpkg(OCTOCAT_ALL, &["apply", plan, "--yes", "--json"])
        .output()
        .unwrap();
    assert_eq!(applied.status.code(), Some(4));
    assert_eq!(error_of(&applied)["kind"], "over-budget");

    assert!(
        emulator.server().changes().is_empty(),
        "nothing was deleted"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["plan.json"], "no journal was left behind");
}

#[test]
fn deleting_without_a_terminal_or_yes_is_refused_with_exit_5() {
    let emulator = Emulator::demo();
    let dir = tempfile::tempdir().unwrap();
    let output = emulator
        .ghpkg(
            OCTOCAT_ALL,
            &[
                "--org", "acme", "prune", "npm", "left-pad", "--keep", "1", "--apply", "--json",
            ],
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(5));
    let result = json_of(&output, "prune.schema.json");
    assert_eq!(result["not_applied"]["kind"], "confirmation-required");

    let package = emulator
        .ghpkg(
            OCTOCAT_ALL,
            &["--org", "acme", "packages", "delete", "npm", "left-pad"],
        )
        .output()
        .unwrap();
    assert_eq!(package.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&package.stderr).contains("--yes"));

    let plan = dir.path().join("plan.json");
    emulator
        .ghpkg(
            OCTOCAT_ALL,
            &["--org", "acme", "prune", "npm", "left-pad", "--keep", "1"],
        )
        .args(["--plan-out", plan.to_str().unwrap()])
        .assert()
        .success();
    let apply = emulator
        .ghpkg(OCTOCAT_ALL, &["apply", plan.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(5));

    assert!(
        emulator.server().changes().is_empty(),
        "nothing was deleted"
    );
}

#[test]
fn auth_status_without_a_token_exits_1_and_says_how_to_set_one() {
    let emulator = Emulator::demo();
    let output = crate::support::ghpkg(&["--api-url", &emulator.url(), "auth", "status"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).contains("set GH_TOKEN or GITHUB_TOKEN"));
    let json = crate::support::ghpkg(&["--api-url", &emulator.url(), "auth", "status", "--json"])
        .output()
        .unwrap();
    let status = json_of(&json, "auth-status.schema.json");
    assert_eq!(status["token"]["source"], "none");
    assert!(status["scopes"].is_null());
    assert!(
        status["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|action| action["allowed"].is_null())
    );
}

#[test]
fn a_request_without_a_token_says_how_to_give_the_command_one() {
    let emulator = Emulator::demo();
    let output = ghpkg(&[
        "--api-url",
        &emulator.url(),
        "--org",
        "acme",
        "packages",
        "list",
        "--type",
        "npm",
        "--json",
    ])
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", printed(&output));
    let error = error_of(&output);
    assert_eq!(error["kind"], "unauthorized");
    let hint = error["hint"].as_str().unwrap();
    assert!(hint.contains("GH_TOKEN or GITHUB_TOKEN"), "{hint}");
    assert!(hint.contains("--with-token"), "{hint}");
    assert!(!hint.contains("client builder"), "{hint}");
}

/// A loopback address nothing listens on.
fn unreachable_api_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

#[test]
fn auth_status_exits_1_when_github_cannot_be_reached() {
    let output = ghpkg(&[
        "--api-url",
        &unreachable_api_url(),
        "auth",
        "status",
        "--json",
    ])
    .env("GH_TOKEN", OCTOCAT_ALL)
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", printed(&output));
    let status = json_of(&output, "auth-status.schema.json");
    assert_eq!(status["problems"][0]["kind"], "transport", "{status}");
}

#[test]
fn auth_status_exits_1_when_github_refuses_the_token() {
    let emulator = Emulator::demo();
    let output = emulator
        .ghpkg("ghp_revoked_long_ago", &["auth", "status", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", printed(&output));
    let status = json_of(&output, "auth-status.schema.json");
    assert_eq!(status["problems"][0]["kind"], "unauthorized", "{status}");
}

#[test]
fn auth_status_exits_8_when_the_token_lacks_scopes_and_names_them() {
    let emulator = Emulator::demo();
    let output = emulator
        .ghpkg(OCTOCAT_READ, &["auth", "status"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(8), "{}", printed(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("insufficient: the token lacks delete:packages, write:packages"),
        "{text}"
    );
    assert!(text.contains("gh auth refresh -s delete:packages,write:packages"));
    let json = emulator
        .ghpkg(OCTOCAT_READ, &["auth", "status", "--json"])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(8));
    let status = json_of(&json, "auth-status.schema.json");
    assert!(
        status["problems"].as_array().unwrap().is_empty(),
        "{status}"
    );

    let everything = emulator
        .ghpkg(OCTOCAT_ALL, &["auth", "status"])
        .output()
        .unwrap();
    assert_eq!(
        everything.status.code(),
        Some(0),
        "{}",
        printed(&everything)
    );
}

#[test]
fn an_edited_plan_or_an_unexpected_hash_is_refused() {
    let emulator = Emulator::demo();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let plan_arg = plan.to_str().unwrap();
    emulator
        .ghpkg(
            OCTOCAT_ALL,
            &["--org", "acme", "prune", "npm", "left-pad", "--keep", "1"],
        )
        .args(["--plan-out", plan_arg])
        .assert()
        .success();
    let wrong = "0".repeat(64);
    let output = emulator
        .ghpkg(
            OCTOCAT_ALL,
            &["apply", plan_arg, "--expect", &wrong, "--yes", "--json"],
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(error_of(&output)["kind"], "plan-changed");

    let edited = std::fs::read_to_string(&plan)
        .unwrap()
        .replace("\"keep_newest\": 1", "\"keep_newest\": 0");
    std::fs::write(&plan, edited).unwrap();
    let output = emulator
        .ghpkg(OCTOCAT_ALL, &["apply", plan_arg, "--yes", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(error_of(&output)["kind"], "invalid-plan");
    assert!(emulator.server().changes().is_empty());
}

#[test]
fn a_plan_for_another_host_is_refused_and_leaves_no_journal() {
    let made_on = Emulator::demo();
    let other = Emulator::demo();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let plan_arg = plan.to_str().unwrap();
    made_on
        .ghpkg(
            OCTOCAT_ALL,
            &["--org", "acme", "prune", "npm", "left-pad", "--keep", "1"],
        )
        .args(["--plan-out", plan_arg])
        .assert()
        .success();
    let output = other
        .ghpkg(OCTOCAT_ALL, &["apply", plan_arg, "--yes", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let error = error_of(&output);
    assert_eq!(error["kind"], "wrong-host");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("--host/--api-url")
    );
    assert!(
        !dir.path().join("plan.journal.jsonl").exists(),
        "the refused apply left a journal"
    );
    assert!(other.server().changes().is_empty() && made_on.server().changes().is_empty());
}

#[test]
fn apply_takes_the_owner_from_the_plan_and_refuses_a_flag_that_disagrees() {
    let emulator = Emulator::demo();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let plan_arg = plan.to_str().unwrap();
    emulator
        .ghpkg(
            OCTOCAT_ALL,
            &["--org", "acme", "prune", "npm", "left-pad", "--keep", "1"],
        )
        .args(["--plan-out", plan_arg])
        .assert()
        .success();
    let output = emulator
        .ghpkg(
            OCTOCAT_ALL,
            &["--user", "octocat", "apply", plan_arg, "--yes", "--json"],
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        error_of(&output)["message"]
            .as_str()
            .unwrap()
            .contains("organization acme")
    );
    assert!(emulator.server().changes().is_empty());
}
