//! Tests that keep the crate honest: the committed schema is fresh and the README documents
//! every reason code.

mod support;

use std::path::Path;

use ghpkg_retention::{Plan, Policy, ReasonCode, TagSelection, plan_policy};
use support::*;

/// Whether the committed `file` is `generated`; with `UPDATE_SCHEMA` set, writes it.
fn assert_committed(file: &str, generated: String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let generated = generated + "\n";
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("the schema is writable");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "crates/ghpkg-retention/{file} is stale: regenerate it with \
         `UPDATE_SCHEMA=1 cargo test -p ghpkg-retention` and commit it"
    );
}

#[test]
fn the_committed_plan_schema_is_fresh() {
    assert_committed("plan.schema.json", Plan::json_schema());
}

#[test]
fn the_committed_policy_schema_is_fresh() {
    assert_committed("policy.schema.json", Policy::json_schema());
}

#[test]
fn the_example_policy_is_valid() {
    let text = include_str!("../../../examples/policy.toml");
    let policy = Policy::from_toml(text).unwrap_or_else(|error| panic!("{error}"));
    assert!(policy.rules.len() > 1);
    assert!(text.starts_with("#:schema ../crates/ghpkg-retention/policy.schema.json"));
}

#[test]
fn the_schema_describes_every_field_of_a_plan() {
    let schema: serde_json::Value = serde_json::from_str(&Plan::json_schema()).unwrap();
    let package = Package::container("web/app")
        .image(1, &["pr-1"], 9)
        .image(2, &["v1"], 1)
        .build();
    // A policy's plan: its decisions name their rule.
    let flags = rules(|r| r.tag_selection = Some(TagSelection::Both));
    let plan = plan_policy(
        &container(),
        vec![package],
        &Policy::of_rules(&flags, "container"),
        now(),
    )
    .unwrap();
    let plan: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    let properties = |value: &serde_json::Value| -> Vec<String> {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(properties(&schema["properties"]), properties(&plan));
    // The newest is kept for GitHub (no rule decided it); the other names its rule.
    let decision = &plan["packages"][0]["decisions"][1];
    assert_eq!(
        properties(&schema["definitions"]["VersionDecision"]["properties"]),
        properties(decision)
    );
    let codes = schema["definitions"]["ReasonCode"]["enum"]
        .as_array()
        .unwrap();
    assert_eq!(codes.len(), ReasonCode::ALL.len());
}

#[test]
fn the_readme_lists_every_reason_code_with_its_description() {
    let readme = include_str!("../README.md");
    for code in ReasonCode::ALL {
        let row = format!("| `{}` | {} |", code.as_str(), code.description());
        assert!(readme.contains(&row), "README.md lacks the row {row}");
    }
}

#[test]
fn every_reason_code_is_asserted_by_a_test() {
    let tests = [
        include_str!("rules.rs"),
        include_str!("fixtures.rs"),
        include_str!("load.rs"),
        include_str!("policy.rs"),
    ]
    .concat();
    for code in ReasonCode::ALL {
        let name = format!("ReasonCode::{code:?}");
        assert!(
            tests.contains(&format!("{name})")) || tests.contains(&format!("{name},")),
            "no test asserts {name} ({code})"
        );
    }
}

/// The policies of a Markdown file: its TOML blocks with rules.
fn toml_blocks(markdown: &str) -> Vec<&str> {
    markdown
        .split("```toml\n")
        .skip(1)
        .filter_map(|block| block.split("\n```").next())
        .filter(|block| block.contains("[[rules]]"))
        .collect()
}

#[test]
fn every_policy_in_the_docs_is_valid() {
    let docs = [
        ("README.md", include_str!("../../../README.md")),
        (
            "docs/MIGRATION.md",
            include_str!("../../../docs/MIGRATION.md"),
        ),
    ];
    for (file, text) in docs {
        let blocks = toml_blocks(text);
        assert!(!blocks.is_empty(), "{file} has no policy example");
        for block in blocks {
            if let Err(error) = Policy::from_toml(block) {
                panic!("a policy in {file} is refused: {error}\n{block}");
            }
        }
    }
}
