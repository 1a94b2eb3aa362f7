//! Every image-graph case of the emulator, planned and applied end to end through the binary,
//! then verified: the deletions are exactly the plan's (by the emulator's own change log), and no
//! tag that pulled whole before pulls broken after.

use ghpkg_mock::MockOptions;
use ghpkg_mock::fixture::graphs;
use serde_json::Value;

use crate::support::{Emulator, json_of, printed};

const TOKEN: &str = "ghp_octocat_all";

/// `verify --json` of `package`: its exit code and its broken tags.
fn verify(emulator: &Emulator, package: &str) -> (i32, Vec<String>) {
    let output = emulator
        .ghpkg(
            TOKEN,
            &["--org", "acme", "verify", "container", package, "--json"],
        )
        .output()
        .unwrap();
    let result = json_of(&output, "verify.schema.json");
    let broken = result["packages"][0]["broken"]
        .as_array()
        .unwrap()
        .iter()
        .map(|broken| broken["tag"].as_str().unwrap().to_string())
        .collect();
    (output.status.code().unwrap(), broken)
}

#[test]
fn every_graph_case_is_pruned_applied_and_verified_through_the_binary() {
    let emulator = Emulator::start(MockOptions {
        fixture: graphs::all(),
        ..MockOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str]); 13] = [
        (graphs::multi_arch::PACKAGE, &["--untagged"]),
        (graphs::shared_child::PACKAGE, &["--untagged"]),
        (graphs::many_tags::PACKAGE, &["--include", "pr-*"]),
        (graphs::cosign_legacy::PACKAGE, &["--untagged"]),
        (graphs::referrer::PACKAGE, &["--untagged"]),
        (graphs::fallback_index::PACKAGE, &["--untagged"]),
        (graphs::nested_index::PACKAGE, &["--untagged"]),
        (graphs::orphans::PACKAGE, &["--untagged", "--orphans"]),
        (graphs::broken_index::PACKAGE, &["--untagged"]),
        (graphs::docker_manifest_list::PACKAGE, &["--untagged"]),
        (graphs::moved_tag::PACKAGE, &["--untagged"]),
        (graphs::registry_error::PACKAGE, &["--untagged"]),
        (graphs::stale_listing::PACKAGE, &["--untagged"]),
    ];
    for (package, rules) in cases {
        let (code_before, broken_before) = verify(&emulator, package);
        let broken_from_the_start = [
            graphs::broken_index::PACKAGE,
            graphs::registry_error::PACKAGE,
        ];
        if broken_from_the_start.contains(&package) {
            assert_eq!(code_before, 6, "{package}: verify exits 6 on damage");
            assert!(!broken_before.is_empty(), "{package}: it names the tag");
        } else {
            assert_eq!((code_before, broken_before.len()), (0, 0), "{package}");
        }
        let mut args = vec!["--org", "acme", "prune", "container", package];
        args.extend_from_slice(rules);
        args.extend_from_slice(&["--apply", "--yes", "--json"]);
        let changes_before = emulator.server().changes().len();
        let output = emulator
            .ghpkg(TOKEN, &args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let result: Value = json_of(&output, "prune.schema.json");
        // A package whose graph cannot be read whole deletes nothing, and the run says so.
        let held_back = broken_from_the_start.contains(&package);
        let outcome = &result["packages"][0];
        assert_eq!(outcome["package"], package);
        if held_back {
            assert_eq!(
                output.status.code(),
                Some(7),
                "{package}: {}",
                printed(&output)
            );
            assert_eq!(
                (outcome["outcome"].as_str(), outcome["reason"].as_str()),
                (Some("not-done"), Some("unreadable-graph")),
                "{package}"
            );
        } else {
            assert!(output.status.success(), "{package}: {}", printed(&output));
            assert_ne!(outcome["outcome"], "not-done", "{package}");
        }
        let mut planned: Vec<i64> = result["plan"]["deletions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|deletion| deletion["id"].as_i64().unwrap())
            .collect();
        let mut deleted: Vec<i64> = emulator.server().changes()[changes_before..]
            .iter()
            .filter_map(|change| change.version_id)
            .collect();
        planned.sort_unstable();
        deleted.sort_unstable();
        assert_eq!(deleted, planned, "{package}: exactly the plan");
        let (code_after, broken_after) = verify(&emulator, package);
        assert_eq!(broken_after, broken_before, "{package}: no new damage");
        assert_eq!(code_after, code_before, "{package}");
    }
    // The deletions that make each case a case happened; what a live tag uses did not go.
    let state = emulator.server().state();
    let deleted = |id: i64| {
        state
            .packages
            .iter()
            .flat_map(|p| &p.versions)
            .any(|v| v.id == id && v.is_deleted())
    };
    assert!(deleted(graphs::shared_child::OLD_INDEX));
    assert!(!deleted(graphs::shared_child::SHARED_CHILD));
    assert!(deleted(graphs::orphans::SIGNATURE));
    assert!(deleted(graphs::moved_tag::OLD));
    assert!(!deleted(graphs::multi_arch::ARM64_ATTESTATION));
    assert!(!deleted(graphs::cosign_legacy::SIGNATURE));
}
