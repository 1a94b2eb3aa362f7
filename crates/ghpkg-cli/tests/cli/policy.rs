//! Policy files: `policy check` points at the line and column of each problem (pinned by
//! snapshots), `prune --policy` plans every package the rules select in one plan, and
//! `policy explain` says which rules decide what.

use std::path::PathBuf;

use crate::support::{Emulator, ghpkg, json_of};

const NOW: &str = "2025-06-01T12:00:00Z";

/// The example policy of the repository.
fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/policy.toml")
}

/// `policy check` on `text`, written to `ghpkg.toml`: its exit code and what it printed on
/// stderr.
fn check(text: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ghpkg.toml");
    std::fs::write(&path, text).unwrap();
    let output = ghpkg(&["policy", "check"])
        .arg(&path)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let stderr = stderr.replace(&path.display().to_string(), "ghpkg.toml");
    (output.status.code().unwrap_or(-1), stderr)
}

const RULE: &str = "[[rules]]\nname = \"prs\"\naction = \"delete\"\ntype = \"container\"\n";

#[test]
fn an_unknown_key_is_shown_where_it_is() {
    let (code, stderr) = check(&format!(
        "{RULE}include_tags = [\"pr-*\"]\nkeep_newst = 3\n"
    ));
    assert_eq!(code, 2);
    insta::assert_snapshot!("policy_check_unknown_key", stderr);
}

#[test]
fn a_bad_pattern_is_shown_where_it_is() {
    let (code, stderr) = check(&format!("{RULE}include_tags = [\"pr-*\", \"re:(\"]\n"));
    assert_eq!(code, 2);
    insta::assert_snapshot!("policy_check_bad_pattern", stderr);
}

#[test]
fn a_bad_age_is_shown_where_it_is() {
    let (code, stderr) = check(&format!("{RULE}older_than = \"7 fortnights\"\n"));
    assert_eq!(code, 2);
    insta::assert_snapshot!("policy_check_bad_age", stderr);
}

#[test]
fn a_contradiction_is_shown_at_the_key_at_fault() {
    let keep_older = "[[rules]]\nname = \"releases\"\naction = \"keep\"\ntype = \"container\"\ninclude_tags = [\"v*\"]\nolder_than = \"30d\"\n";
    let (code, stderr) = check(keep_older);
    assert_eq!(code, 2);
    insta::assert_snapshot!("policy_check_keep_with_older_than", stderr);
}

#[test]
fn a_rule_that_selects_nothing_is_shown_at_its_table() {
    let text = format!(
        "max_deletions = 10\n\n{RULE}\n[[rules]]\nname = \"empty\"\naction = \"delete\"\ntype = \"npm\"\n"
    );
    let (code, stderr) = check(&text.replacen(
        "type = \"container\"\n",
        "type = \"container\"\nkeep_newest = 2\n",
        1,
    ));
    assert_eq!(code, 2);
    insta::assert_snapshot!("policy_check_selects_nothing", stderr);
}

#[test]
fn a_keep_rule_that_keeps_everything_is_shown_at_its_table() {
    let text = format!(
        "{RULE}keep_newest = 2\n\n[[rules]]\nname = \"all\"\naction = \"keep\"\ntype = \"container\"\n"
    );
    let (code, stderr) = check(&text);
    assert_eq!(code, 2);
    insta::assert_snapshot!("policy_check_keeps_everything", stderr);
}

#[test]
fn a_second_rule_of_the_same_name_is_shown_at_its_name() {
    let text = format!("{RULE}keep_newest = 1\n\n{RULE}keep_newest = 2\n");
    let (code, stderr) = check(&text);
    assert_eq!(code, 2);
    insta::assert_snapshot!("policy_check_duplicate_name", stderr);
}

#[test]
fn an_unknown_package_type_is_shown_at_its_type() {
    let (code, stderr) = check(
        &RULE
            .replace("container", "pypi")
            .replace("\"delete\"\n", "\"delete\"\nkeep_newest = 1\n"),
    );
    assert_eq!(code, 2);
    insta::assert_snapshot!("policy_check_unknown_type", stderr);
}

#[test]
fn the_example_policy_checks_and_its_json_is_the_policy() {
    let output = ghpkg(&["policy", "check"]).arg(example()).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("4 rules, valid"), "{text}");
    let output = ghpkg(&["--json", "policy", "check"])
        .arg(example())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["policy"]["rules"][3]["action"], "keep");
}

#[test]
fn the_demo_prunes_by_the_example_policy_in_one_plan_naming_each_rule() {
    let output = ghpkg(&["--demo", "--now", NOW, "--json", "prune", "--policy"])
        .arg(example())
        .arg("--no-manifest-cache")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result = json_of(&output, "prune.schema.json");
    let plan = &result["plan"];
    let packages: Vec<&str> = plan["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(packages, ["api", "platform/gateway", "web/app"]);
    assert_eq!(
        plan["inputs"]["policy"]["rules"].as_array().unwrap().len(),
        4
    );
    let decisions: Vec<&serde_json::Value> = plan["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["decisions"].as_array().unwrap())
        .collect();
    // Every decision a rule made names it; a keep rule that beat a delete rule names both.
    let by_rule = |reason: &str| {
        decisions
            .iter()
            .filter(|d| d["reason"] == reason)
            .all(|d| d["policy"]["rule"].is_string())
    };
    assert!(by_rule("delete:older-than") && by_rule("keep:kept-by-rule"));
    let overruled = decisions
        .iter()
        .find(|d| d["policy"]["overruled"].is_string())
        .expect("a keep rule beat a delete rule");
    assert_eq!(overruled["reason"], "keep:kept-by-rule");
    assert_eq!(overruled["policy"]["rule"], "releases");
    // The releases rule keeps every x.y.0 image the web-app rule would delete.
    assert!(
        decisions
            .iter()
            .filter(|d| d["decision"] == "delete")
            .all(|d| !d["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t.as_str().unwrap().ends_with(".0")))
    );
}

#[test]
fn rule_flags_and_a_policy_are_refused_together() {
    let output = ghpkg(&["--demo", "prune", "--policy"])
        .arg(example())
        .args(["--keep", "3"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--keep"), "{stderr}");
}

#[test]
fn a_policy_for_another_type_is_refused_before_any_request() {
    let emulator = Emulator::demo();
    let file = example().display().to_string();
    let output = emulator
        .ghpkg(
            "ghp_octocat_all",
            &["--org", "acme", "prune", "npm", "--policy", &file],
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no rule of"), "{stderr}");
    assert_eq!(emulator.server().stats().total_requests, 0);
}

#[test]
fn explain_shows_each_rule_alone_then_together() {
    let output = ghpkg(&["--demo", "--now", NOW, "policy", "explain"])
        .arg(example())
        .args([
            "container",
            "platform/gateway",
            "v1.1.0",
            "--no-manifest-cache",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("ignores:  delete `old releases of the web app`"),
        "{text}"
    );
    assert!(
        text.contains("alone, it would say keep:not-selected"),
        "{text}"
    );
    assert!(text.contains("keep:kept-by-rule [rule releases]"), "{text}");
}

#[test]
fn the_version_flags_and_the_policy_keys_plan_alike() {
    let plan_of = |output: std::process::Output| {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let result = json_of(&output, "prune.schema.json");
        let decisions: Vec<(u64, String)> = result["plan"]["packages"][0]["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["id"].as_u64().unwrap(),
                    d["reason"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        decisions
    };
    let flags = ghpkg(&["--demo", "--now", NOW, "--json", "prune", "npm", "left-pad"])
        .args(["--keep-per-major", "1", "--exclude-version", "1.0.*"])
        .output()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ghpkg.toml");
    std::fs::write(
        &path,
        "[[rules]]\nname = \"npm\"\naction = \"delete\"\ntype = \"npm\"\npackages = [\"left-pad\"]\nkeep_per_major = 1\nexclude_versions = [\"1.0.*\"]\n",
    )
    .unwrap();
    let policy = ghpkg(&["--demo", "--now", NOW, "--json", "prune", "--policy"])
        .arg(&path)
        .output()
        .unwrap();
    let flags = plan_of(flags);
    assert_eq!(
        flags,
        [
            (400003, "keep:newest-per-major".to_owned()),
            (400002, "delete:beyond-newest-n".to_owned()),
            (400001, "keep:excluded-version".to_owned()),
        ]
    );
    assert_eq!(flags, plan_of(policy));
}
