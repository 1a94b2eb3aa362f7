//! Killed and resumed: `ghpkg apply` killed with SIGKILL at random points, again and again, then
//! run to the end, converges to the planned state with no extra delete; after every kill the
//! journal reads back (it may lack its last line, never hold a corrupt one), and the final run
//! counts what a lost line did. And two applies on one token at once, in two processes, against
//! GitHub's limits: both finish, nothing wrong is deleted, neither gives up on a 403.

use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use ghpkg::journal::{Journal, Outcome};
use ghpkg_mock::{MockOptions, RateLimits};
use rand::{Rng, SeedableRng};

use crate::support::{
    Emulator, SYNTHETIC_ORG, SYNTHETIC_TOKEN, ghpkg_path, json_of, printed, synthetic_fixture,
};

/// `ghpkg --api-url URL --time-scale SCALE ARGS…` as a child process, quiet, with the
/// synthetic token.
fn spawn(emulator: &Emulator, scale: &str, args: &[&str]) -> Child {
    std::process::Command::new(ghpkg_path())
        .args([
            "--api-url",
            &emulator.url(),
            "--time-scale",
            scale,
            "--quiet",
        ])
        .args(args)
        .env("GH_TOKEN", SYNTHETIC_TOKEN)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GHPKG_TIME_SCALE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Plans `--keep keep` of `package` into `plan`, returning the planned version ids.
fn plan(emulator: &Emulator, package: &str, keep: &str, plan: &std::path::Path) -> Vec<i64> {
    let output = emulator
        .ghpkg(
            SYNTHETIC_TOKEN,
            &[
                "--org",
                SYNTHETIC_ORG,
                "prune",
                "npm",
                package,
                "--keep",
                keep,
                "--plan-out",
                plan.to_str().unwrap(),
                "--json",
            ],
        )
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", printed(&output));
    json_of(&output, "prune.schema.json")["plan"]["deletions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|deletion| deletion["id"].as_i64().unwrap())
        .collect()
}

/// Delete changes by version id, from the emulator's own log.
fn deletes(emulator: &Emulator) -> BTreeMap<i64, usize> {
    let mut deletes = BTreeMap::new();
    for change in emulator.server().changes() {
        *deletes.entry(change.version_id.unwrap()).or_default() += 1;
    }
    deletes
}

#[test]
fn an_apply_killed_twelve_times_at_random_converges_with_no_extra_delete() {
    let emulator = Emulator::start(MockOptions {
        fixture: synthetic_fixture(600),
        latency: Duration::from_millis(60),
        ..MockOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    let planned = plan(&emulator, "pkg-0", "20", &plan_path);
    assert_eq!(planned.len(), 580);
    let plan_arg = plan_path.to_str().unwrap();
    let journal_path = dir.path().join("plan.journal.jsonl");
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let mut kills_midway = 0;
    for round in 0..12 {
        let before = emulator.server().changes().len();
        // Killed at a random moment once it has started deleting (it lists the package first).
        let mut child = spawn(&emulator, "60", &["apply", plan_arg, "--yes"]);
        let started = Instant::now();
        while emulator.server().changes().len() == before
            && started.elapsed() < Duration::from_secs(20)
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(0..400)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let after = emulator.server().changes().len();
        if after > before && after < planned.len() {
            kills_midway += 1;
        }
        // The journal reads back after every kill: strictly, except for a torn last line.
        if journal_path.exists() {
            let state = Journal::read(&journal_path, None)
                .unwrap_or_else(|error| panic!("round {round}: the journal is corrupt: {error}"));
            let outcome_lines = state
                .entries
                .iter()
                .filter(|entry| entry.outcome != Outcome::Intent)
                .count();
            assert!(outcome_lines <= planned.len() * 2, "round {round}");
        }
    }
    assert!(
        kills_midway >= 10,
        "kills landed mid-apply ({kills_midway} of 12)"
    );

    let output = emulator
        .ghpkg(
            SYNTHETIC_TOKEN,
            &["--time-scale", "60", "apply", plan_arg, "--yes", "--json"],
        )
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", printed(&output));
    let report = json_of(&output, "run-report.schema.json");

    let deletes = deletes(&emulator);
    let mut expected = planned.clone();
    expected.sort_unstable();
    assert_eq!(
        deletes.keys().copied().collect::<Vec<_>>(),
        expected,
        "the planned state"
    );
    assert!(
        deletes.values().all(|n| *n == 1),
        "no version deleted twice: {deletes:?}"
    );
    // The journal accounts for every deletion: a DELETE whose answer a kill lost (its intent
    // line written) is recovered as deleted.
    let state = Journal::read(&journal_path, None).unwrap();
    for id in &planned {
        assert_eq!(
            state.outcome("pkg-0", *id as u64),
            Some(Outcome::Deleted),
            "version {id}"
        );
    }
    let counted =
        report["resumed"].as_u64().unwrap() + report["counts"]["deleted"].as_u64().unwrap();
    assert_eq!(counted as usize, planned.len(), "{report}");
}

#[test]
fn two_applies_on_one_token_at_once_both_finish_within_githubs_limits() {
    let emulator = Emulator::start(MockOptions {
        fixture: synthetic_fixture(220),
        rate_limits: RateLimits {
            time_scale: 60.0,
            ..RateLimits::github()
        },
        ..MockOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let npm_plan = dir.path().join("npm.json");
    let maven_plan = dir.path().join("maven.json");
    let npm = plan(&emulator, "pkg-0", "20", &npm_plan);
    let maven_output = emulator
        .ghpkg(
            SYNTHETIC_TOKEN,
            &[
                "--org",
                SYNTHETIC_ORG,
                "prune",
                "maven",
                "pkg-1",
                "--keep",
                "20",
                "--plan-out",
                maven_plan.to_str().unwrap(),
                "--json",
            ],
        )
        .output()
        .unwrap();
    assert!(maven_output.status.success(), "{}", printed(&maven_output));
    let maven: Vec<i64> = json_of(&maven_output, "prune.schema.json")["plan"]["deletions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|deletion| deletion["id"].as_i64().unwrap())
        .collect();

    // Each process paces itself to GitHub's 900 points a minute; together they spend twice
    // that, so the emulator's secondary limit answers 403s that both must wait out.
    let started = Instant::now();
    let mut first = spawn(
        &emulator,
        "60",
        &["apply", npm_plan.to_str().unwrap(), "--yes"],
    );
    let mut second = spawn(
        &emulator,
        "60",
        &["apply", maven_plan.to_str().unwrap(), "--yes"],
    );
    let first = first.wait().unwrap();
    let second = second.wait().unwrap();
    assert!(first.success() && second.success(), "{first:?} {second:?}");
    assert!(started.elapsed() < Duration::from_secs(120));

    let deletes = deletes(&emulator);
    let mut expected: Vec<i64> = npm.iter().chain(maven.iter()).copied().collect();
    expected.sort_unstable();
    assert_eq!(
        deletes.keys().copied().collect::<Vec<_>>(),
        expected,
        "nothing wrong deleted"
    );
    assert!(deletes.values().all(|n| *n == 1));
    let rejected = emulator.server().stats().rate_limit_rejections.secondary;
    println!(
        "two processes, one token: {} deletions, {rejected} secondary-limit 403s waited out",
        expected.len()
    );
}
