//! Tests that keep the crate honest: the committed schema is fresh and the README documents
//! every reason code.

mod support;

use std::path::Path;

use ghpkg_retention::{Plan, ReasonCode, TagSelection};
use support::*;

#[test]
fn the_committed_plan_schema_is_fresh() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("plan.schema.json");
    let generated = Plan::json_schema() + "\n";
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("plan.schema.json is writable");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "crates/ghpkg-retention/plan.schema.json is stale: regenerate it with \
         `UPDATE_SCHEMA=1 cargo test -p ghpkg-retention` and commit it"
    );
}

#[test]
fn the_schema_describes_every_field_of_a_plan() {
    let schema: serde_json::Value = serde_json::from_str(&Plan::json_schema()).unwrap();
    let package = Package::container("web/app")
        .image(1, &["pr-1"], 9)
        .image(2, &["v1"], 1)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.tag_selection = Some(TagSelection::Both)),
    );
    let plan: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
    let properties = |value: &serde_json::Value| -> Vec<String> {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(properties(&schema["properties"]), properties(&plan));
    let decision = &plan["packages"][0]["decisions"][0];
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
