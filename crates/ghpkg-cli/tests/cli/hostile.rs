//! Hostile and bad input at the command line: each gets a clear message and its exit code,
//! never a panic, and nothing is sent where it can be refused up front (checked against the
//! emulator's request count).

use crate::support::{Emulator, ghpkg, printed};

const TOKEN: &str = "ghp_octocat_all";

/// Runs `args` against a fresh demo emulator; returns the exit code, what was printed, and how
/// many requests reached the emulator.
fn run(args: &[&str]) -> (Option<i32>, String, u64) {
    let emulator = Emulator::demo();
    let output = emulator.ghpkg(TOKEN, args).output().unwrap();
    let text = printed(&output);
    assert!(!text.contains("panicked"), "{args:?} panicked:\n{text}");
    (
        output.status.code(),
        text,
        emulator.server().stats().total_requests,
    )
}

#[test]
fn bad_names_ids_types_and_states_are_usage_errors_before_any_request() {
    let too_long = "a".repeat(300);
    let cases: Vec<Vec<&str>> = vec![
        vec!["--org", "..", "packages", "list", "--type", "container"],
        vec!["--org", "acme/../x", "packages", "list", "--type", "npm"],
        vec!["--org", "acme", "packages", "get", "container", ".."],
        vec!["--org", "acme", "packages", "get", "container", r"x\..\y"],
        vec!["--org", "acme", "packages", "get", "container", "%2e%2e"],
        vec!["--org", "acme", "packages", "get", "container", "a b"],
        vec!["--org", "acme", "packages", "get", "container", "a\u{7}b"],
        vec!["--org", "acme", "packages", "get", "container", "ümlaut"],
        vec!["--org", "acme", "packages", "get", "container", ""],
        vec!["--org", "acme", "packages", "get", "container", &too_long],
        vec!["--org", "acme", "versions", "get", "npm", "left-pad", "0"],
        vec!["--org", "acme", "versions", "get", "npm", "left-pad", "-5"],
        vec![
            "--org",
            "acme",
            "versions",
            "get",
            "npm",
            "left-pad",
            "18446744073709551616",
        ],
        vec!["--org", "acme", "versions", "get", "npm", "left-pad", "abc"],
        vec!["--org", "acme", "packages", "list", "--type", "cargo"],
        vec![
            "--org", "acme", "versions", "list", "npm", "left-pad", "--state", "purged",
        ],
        vec![
            "--org",
            "acme",
            "prune",
            "npm",
            "left-pad",
            "--older-than",
            "soon",
        ],
        vec![
            "--org",
            "acme",
            "prune",
            "npm",
            "left-pad",
            "--older-than",
            "-3d",
        ],
        vec![
            "--org",
            "acme",
            "prune",
            "npm",
            "left-pad",
            "--older-than",
            "999999999y",
        ],
        vec![
            "--org",
            "acme",
            "prune",
            "npm",
            "left-pad",
            "--include",
            "[unclosed",
            "--keep",
            "1",
        ],
        vec![
            "--org",
            "acme",
            "prune",
            "npm",
            "left-pad",
            "--include",
            "re:(",
            "--keep",
            "1",
        ],
        vec!["--org", "acme", "prune", "npm", "left-pad"],
    ];
    for args in cases {
        let (code, text, requests) = run(&args);
        assert_eq!(code, Some(2), "{args:?}:\n{text}");
        assert_eq!(requests, 0, "{args:?} sent a request");
    }
}

#[test]
fn a_regex_that_would_backtrack_runs_in_linear_time() {
    let started = std::time::Instant::now();
    let (code, text, _) = run(&[
        "--org",
        "acme",
        "prune",
        "npm",
        "left-pad",
        "--include",
        "re:(a+)+$",
        "--keep",
        "1",
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn bad_base_urls_and_tokens_are_refused_before_any_request() {
    for url in [
        "not a url",
        "http://api.github.com",
        "https://api.github.com/?x=1",
        "https://user:ghp_leak@api.github.com",
        "ftp://example.com",
    ] {
        let output = ghpkg(&["--api-url", url, "conflicts"])
            .env("GH_TOKEN", TOKEN)
            .output()
            .unwrap();
        let text = printed(&output);
        assert_eq!(output.status.code(), Some(2), "{url}: {text}");
        assert!(!text.contains("ghp_leak"), "{text}");
    }
    let emulator = Emulator::demo();
    let ten_kb = "t".repeat(10 * 1024);
    for token in ["ghp_a\r\nX-Injected: 1", ten_kb.as_str(), "ghp_a b"] {
        let output = ghpkg(&["--api-url", &emulator.url(), "conflicts"])
            .env("GH_TOKEN", token)
            .output()
            .unwrap();
        let text = printed(&output);
        assert!(matches!(output.status.code(), Some(1 | 2)), "{text}");
        assert!(text.contains("token"), "{text}");
        assert!(!text.contains(token), "the token is never echoed");
    }
    assert_eq!(emulator.server().stats().total_requests, 0);
}

#[test]
fn truncated_future_and_foreign_plans_and_journals_are_refused() {
    let emulator = Emulator::demo();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let plan_arg = plan.to_str().unwrap();
    emulator
        .ghpkg(
            TOKEN,
            &["--org", "acme", "prune", "npm", "left-pad", "--keep", "1"],
        )
        .args(["--plan-out", plan_arg])
        .assert()
        .success();
    let text = std::fs::read_to_string(&plan).unwrap();
    let bad_plans = [
        text[..text.len() / 2].to_string(),
        text.replacen(
            &format!("\"version\": {}", ghpkg::retention::PLAN_VERSION),
            "\"version\": 99",
            1,
        ),
        text.replacen(
            &format!("\"version\": {}", ghpkg::retention::PLAN_VERSION),
            "\"version\": 1",
            1,
        ),
        text.replacen("\"org\": \"acme\"", "\"org\": \"globex\"", 1),
        text.replacen("\"name\": \"left-pad\"", "\"name\": \"right-pad\"", 1),
        String::new(),
        "[]".into(),
    ];
    for (n, bad) in bad_plans.iter().enumerate() {
        assert_ne!(bad, &text, "plan {n} is edited");
        let path = dir.path().join(format!("bad-{n}.json"));
        std::fs::write(&path, bad).unwrap();
        let output = emulator
            .ghpkg(TOKEN, &["apply", path.to_str().unwrap(), "--yes"])
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(1),
            "plan {n}: {}",
            printed(&output)
        );
    }
    assert!(
        emulator.server().changes().is_empty(),
        "no bad plan deleted anything"
    );

    let journal = dir.path().join("journal.jsonl");
    let line = r#"{"journal":1,"at":"2026-01-01T00:00:00Z","plan":"abc","host":"HOST","owner":{"org":"acme"},"package_type":"npm","package":"left-pad","version_id":400001,"name":"1.0.0","tags":[],"outcome":"deleted","reason":"delete:older-than"}"#;
    let host = emulator.url().trim_start_matches("http://").to_string();
    let line = line.replace("HOST", &host);
    // A line of another package of another plan.
    let foreign = line
        .replace("left-pad", "other")
        .replace("\"plan\":\"abc\"", "\"plan\":\"def\"");
    for (n, bad) in [
        format!("{line}\n{}\n", &line[..40]),
        format!("{{garbage\n{line}\n"),
        format!("{line}\n{foreign}\n"),
        line.replace("\"journal\":1", "\"journal\":7") + "\n",
    ]
    .iter()
    .enumerate()
    {
        std::fs::write(&journal, bad).unwrap();
        let output = emulator
            .ghpkg(TOKEN, &["restore", "--from-log", journal.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(1),
            "journal {n}: {}",
            printed(&output)
        );
    }
    assert!(
        emulator.server().changes().is_empty(),
        "no bad journal restored anything"
    );
}
