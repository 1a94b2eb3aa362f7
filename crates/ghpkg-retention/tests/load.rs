//! Loading plans back: what is accepted, and every refusal.

mod support;

use ghpkg_retention::{
    Decision, ExpectError, MAX_DECISIONS, MAX_PLAN_BYTES, Plan, PlanLoadError, ReasonCode,
    TagSelection,
};
use support::*;

/// A plan with one deletion, a refused budget and a float in it.
fn sample() -> Plan {
    let package = Package::container("web/app")
        .index(1, &[], 10, &[2, 3])
        .version(2, &[], 10)
        .version(3, &[], 10)
        .index(4, &["latest"], 1, &[2, 5])
        .version(5, &[], 1)
        .build();
    plan_ok(
        &container(),
        vec![package],
        &rules(|r| {
            r.tag_selection = Some(TagSelection::Untagged);
            r.max_percent = Some(0.1 + 0.2);
        }),
    )
}

/// Applies `edit` to the plan and stores the matching hash, as a forger would.
fn forged(edit: impl FnOnce(&mut Plan)) -> String {
    let mut plan = sample();
    edit(&mut plan);
    plan.sha256 = plan.sha256();
    plan.to_json()
}

fn load_error(text: &str) -> PlanLoadError {
    Plan::from_json(text).expect_err("the plan is refused")
}

#[test]
fn a_plan_loads_back_equal_to_itself() {
    let plan = sample();
    let loaded = Plan::from_json(&plan.to_json()).unwrap();
    assert_eq!(loaded, plan);
    assert_eq!(loaded.to_json(), plan.to_json());
    let compact = serde_json::to_string(&plan).unwrap();
    assert_eq!(Plan::from_json(&compact).unwrap(), plan);
}

#[test]
fn a_truncated_plan_is_refused_as_truncated() {
    let json = sample().to_json();
    for cut in [1, json.len() / 3, json.len() / 2, json.len() - 1] {
        let error = load_error(&json[..cut]);
        assert!(
            matches!(error, PlanLoadError::Truncated { .. }),
            "cut at {cut}: {error:?}"
        );
    }
    assert!(load_error("").to_string().contains("ends early"));
}

#[test]
fn text_that_is_not_json_is_refused_as_malformed() {
    assert!(matches!(
        load_error("plan: yes"),
        PlanLoadError::Malformed { .. }
    ));
    let json = sample().to_json() + "}";
    assert!(matches!(load_error(&json), PlanLoadError::Malformed { .. }));
}

#[test]
fn json_that_is_not_a_ghpkg_plan_is_refused() {
    for text in [
        r#"{"format": "kubectl-plan", "version": 1}"#,
        r#"{"version": 1}"#,
        r#"{"format": 7}"#,
        "[1, 2]",
        "\"ghpkg-plan\"",
        "null",
    ] {
        let error = load_error(text);
        assert!(
            matches!(error, PlanLoadError::NotAPlan { .. }),
            "{text}: {error:?}"
        );
    }
    let message = load_error(r#"{"format": "kubectl-plan"}"#).to_string();
    assert!(message.contains("\"kubectl-plan\""), "{message}");
}

#[test]
fn a_plan_from_the_future_asks_for_an_upgrade() {
    let json = sample()
        .to_json()
        .replacen("\"version\": 2", "\"version\": 3", 1);
    let error = load_error(&json);
    assert_eq!(error, PlanLoadError::FromTheFuture { version: 3 });
    assert!(error.to_string().contains("upgrade ghpkg"));
}

#[test]
fn a_plan_made_under_the_old_image_graph_rules_is_refused() {
    // Version 1 plans took an index's word for what its children are; they are not applied.
    let json = sample()
        .to_json()
        .replacen("\"version\": 2", "\"version\": 1", 1);
    let error = load_error(&json);
    assert_eq!(error, PlanLoadError::Outdated { version: 1 });
    assert!(error.to_string().contains("ghpkg prune"), "{error}");
}

#[test]
fn a_plan_without_a_version_no_ghpkg_writes_is_refused() {
    for version in ["0", "-1", "1.5", "\"1\"", "null"] {
        let json =
            sample()
                .to_json()
                .replacen("\"version\": 2", &format!("\"version\": {version}"), 1);
        assert!(
            matches!(load_error(&json), PlanLoadError::BadVersion { .. }),
            "{version}"
        );
    }
}

#[test]
fn an_edited_plan_is_refused_as_edited() {
    let plan = sample();
    let json = plan
        .to_json()
        .replacen("\"decision\": \"keep\"", "\"decision\": \"delete\"", 1);
    let error = load_error(&json);
    assert!(matches!(error, PlanLoadError::Edited { .. }), "{error:?}");
    assert!(error.to_string().contains("was edited"));

    let rules_edited = plan.to_json().replacen(
        "\"max_percent\": 0.30000000000000004",
        "\"max_percent\": 100.0",
        1,
    );
    assert_ne!(rules_edited, plan.to_json());
    assert!(matches!(
        load_error(&rules_edited),
        PlanLoadError::Edited { .. }
    ));
}

#[test]
fn a_plan_without_a_hash_is_refused() {
    let mut plan = sample();
    plan.sha256.clear();
    assert_eq!(load_error(&plan.to_json()), PlanLoadError::MissingHash);
}

#[test]
fn a_plan_with_fields_we_do_not_know_is_refused() {
    let json = sample().to_json().replacen("{", "{\n  \"force\": true,", 1);
    assert!(matches!(load_error(&json), PlanLoadError::Invalid { .. }));
}

#[test]
fn a_plan_over_the_size_limit_is_refused_before_parsing() {
    let huge = " ".repeat(MAX_PLAN_BYTES + 1);
    assert_eq!(
        load_error(&huge),
        PlanLoadError::TooLarge {
            bytes: MAX_PLAN_BYTES + 1,
            limit: MAX_PLAN_BYTES
        }
    );
}

#[test]
fn a_plan_with_too_many_decisions_is_refused_before_it_is_built() {
    let decisions = vec!["0"; MAX_DECISIONS + 1].join(",");
    let text = format!(
        r#"{{"format":"ghpkg-plan","version":2,"packages":[{{"decisions":[{decisions}]}}]}}"#
    );
    assert_eq!(
        load_error(&text),
        PlanLoadError::TooManyDecisions {
            count: MAX_DECISIONS + 1,
            limit: MAX_DECISIONS
        }
    );
}

#[test]
fn a_version_id_of_zero_is_refused() {
    let json = forged(|plan| plan.packages[0].decisions[0].id = 0);
    assert!(matches!(load_error(&json), PlanLoadError::ZeroId { .. }));
    let json = forged(|plan| plan.deletions[0].id = 0);
    assert!(matches!(load_error(&json), PlanLoadError::ZeroId { .. }));
}

#[test]
fn duplicates_are_refused() {
    let json = forged(|plan| {
        let copy = plan.packages[0].decisions[0].clone();
        plan.packages[0].decisions.push(copy);
    });
    assert!(matches!(load_error(&json), PlanLoadError::Duplicate { .. }));
    let json = forged(|plan| {
        let copy = plan.packages[0].clone();
        plan.packages.push(copy);
    });
    assert!(matches!(load_error(&json), PlanLoadError::Duplicate { .. }));
    let json = forged(|plan| {
        let copy = plan.deletions[0].clone();
        plan.deletions.push(copy);
    });
    assert!(matches!(load_error(&json), PlanLoadError::Duplicate { .. }));
}

#[test]
fn a_deletion_that_is_not_a_delete_decision_of_its_package_is_refused() {
    let kept = sample().packages[0]
        .decisions
        .iter()
        .find(|d| d.decision == Decision::Keep)
        .unwrap()
        .id;
    let json = forged(|plan| plan.deletions[0].id = kept);
    assert!(matches!(
        load_error(&json),
        PlanLoadError::DeletionNotDecided { .. }
    ));
    let json = forged(|plan| plan.deletions[0].package = "web/other".into());
    assert!(matches!(
        load_error(&json),
        PlanLoadError::DeletionNotDecided { .. }
    ));
}

#[test]
fn a_plan_that_contradicts_itself_is_refused() {
    let json = forged(|plan| {
        plan.deletions.pop();
    });
    assert!(matches!(
        load_error(&json),
        PlanLoadError::Inconsistent { .. }
    ));
    let json = forged(|plan| {
        let decision = &mut plan.packages[0].decisions[0];
        decision.decision = Decision::Delete;
        decision.reason = ReasonCode::NewestN;
    });
    assert!(matches!(
        load_error(&json),
        PlanLoadError::Inconsistent { .. }
    ));
}

#[test]
fn every_refusal_says_what_to_do_next() {
    let errors = [
        load_error(""),
        load_error("x"),
        load_error("{}"),
        load_error(&forged(|plan| plan.packages[0].decisions[0].id = 0)),
        load_error(
            &sample()
                .to_json()
                .replacen("\"version\": 2", "\"version\": 3", 1),
        ),
    ];
    for error in errors {
        let message = error.to_string();
        assert!(
            message.contains("ghpkg prune") || message.contains("upgrade ghpkg"),
            "{message}"
        );
    }
}

#[test]
fn verify_expected_accepts_only_the_plans_own_hash() {
    let plan = sample();
    assert_eq!(plan.verify_expected(&plan.sha256), Ok(()));
    assert_eq!(
        plan.verify_expected(&format!(" {} ", plan.sha256.to_uppercase())),
        Ok(())
    );
    let other = "0".repeat(64);
    assert!(matches!(
        plan.verify_expected(&other),
        Err(ExpectError::Mismatch { .. })
    ));
    assert!(matches!(
        plan.verify_expected("abc"),
        Err(ExpectError::NotAHash { .. })
    ));
    let mut changed = plan.clone();
    changed.deletions.clear();
    assert!(
        matches!(
            changed.verify_expected(&plan.sha256),
            Err(ExpectError::Mismatch { .. })
        ),
        "the hash is recomputed, not read from the field"
    );
}
