//! Policies of several named rules: each rule kind, keep over delete, and the names of the rules
//! on every decision.

mod support;

use ghpkg_retention::{
    Age, Decision, NoteKind, Plan, PlanError, Policy, PolicyError, PolicyRule, ReasonCode,
    RuleAction, RuleProblem, Rules, TagSelection, Target, plan_policy,
};
use support::*;

/// A rule of `action` over every package of `package_type`, changed by `change`.
fn rule(
    name: &str,
    action: RuleAction,
    package_type: &str,
    change: impl FnOnce(&mut PolicyRule),
) -> PolicyRule {
    let mut rule = PolicyRule::new(name, action, package_type);
    change(&mut rule);
    rule
}

fn policy(rules: Vec<PolicyRule>) -> Policy {
    Policy {
        rules,
        ..Policy::default()
    }
}

fn age(text: &str) -> Option<Age> {
    Some(Age::parse(text).unwrap())
}

fn plan_of(target: &Target, packages: Vec<ghpkg_retention::PackageFacts>, policy: &Policy) -> Plan {
    plan_policy(target, packages, policy, now()).expect("the plan is made")
}

/// The rule that decided version `id`, and the one it overruled.
fn deciding(plan: &Plan, id: u64) -> (Option<String>, Option<String>) {
    let decision = plan
        .packages
        .iter()
        .flat_map(|p| &p.decisions)
        .find(|d| d.id == id)
        .expect("a decision");
    match &decision.policy {
        Some(rule) => (Some(rule.rule.clone()), rule.overruled.clone()),
        None => (None, None),
    }
}

fn app() -> ghpkg_retention::PackageFacts {
    Package::container("web/app")
        .image(1, &["pr-1"], 20)
        .image(2, &["pr-2"], 3)
        .image(3, &["v1.0.0"], 40)
        .image(4, &["v1.1.0"], 30)
        .image(5, &[], 15)
        .image(6, &[], 1)
        .image(7, &["latest"], 1)
        .build()
}

#[test]
fn each_delete_rule_deletes_what_it_selects_and_names_itself() {
    let policy = policy(vec![
        rule("old pull requests", RuleAction::Delete, "container", |r| {
            r.include_tags = patterns(&["pr-*"]);
            r.older_than = age("7d");
        }),
        rule("untagged", RuleAction::Delete, "container", |r| {
            r.tag_selection = Some(TagSelection::Untagged);
            r.older_than = age("7d");
        }),
    ]);
    let plan = plan_of(&container(), vec![app()], &policy);
    assert_eq!(deleted(&plan), [1, 5]);
    assert_eq!(reason(&plan, 1), ReasonCode::OlderThan);
    assert_eq!(deciding(&plan, 1).0.as_deref(), Some("old pull requests"));
    assert_eq!(reason(&plan, 5), ReasonCode::OlderThan);
    assert_eq!(deciding(&plan, 5).0.as_deref(), Some("untagged"));
    // Too new for one rule, not selected by the other: the first rule that keeps it says why.
    assert_eq!(reason(&plan, 2), ReasonCode::TooNew);
    assert_eq!(deciding(&plan, 2).0.as_deref(), Some("old pull requests"));
    assert_eq!(reason(&plan, 7), ReasonCode::ProtectedTag);
    assert_eq!(
        deciding(&plan, 7),
        (None, None),
        "protections are the policy's"
    );
}

#[test]
fn keep_wins_over_delete_and_both_rules_are_named() {
    let policy = policy(vec![
        rule("everything old", RuleAction::Delete, "container", |r| {
            r.older_than = age("10d");
        }),
        rule("releases", RuleAction::Keep, "container", |r| {
            r.include_tags = patterns(&["v*"]);
        }),
    ]);
    let plan = plan_of(&container(), vec![app()], &policy);
    for id in [3, 4] {
        assert_eq!(reason(&plan, id), ReasonCode::KeptByRule);
        assert_eq!(
            deciding(&plan, id),
            (Some("releases".into()), Some("everything old".into()))
        );
        assert!(detail(&plan, id).contains("keep wins over rule `everything old`"));
    }
    assert_eq!(deleted(&plan), [1, 5]);
}

#[test]
fn a_keep_rule_keeps_its_newest_or_what_is_newer_than_its_age() {
    let releases = |change: fn(&mut PolicyRule)| {
        policy(vec![
            rule("all", RuleAction::Delete, "container", |r| {
                r.tag_selection = Some(TagSelection::Tagged);
            }),
            rule("releases", RuleAction::Keep, "container", |r| {
                r.include_tags = patterns(&["v*"]);
                change(r);
            }),
        ])
    };
    let newest = plan_of(
        &container(),
        vec![app()],
        &releases(|r| r.keep_newest = Some(1)),
    );
    assert_eq!(reason(&newest, 4), ReasonCode::KeptByRule);
    assert_eq!(reason(&newest, 3), ReasonCode::TagMatch);
    let recent = plan_of(
        &container(),
        vec![app()],
        &releases(|r| r.newer_than = age("35d")),
    );
    assert_eq!(reason(&recent, 4), ReasonCode::KeptByRule);
    assert_eq!(reason(&recent, 3), ReasonCode::TagMatch);
}

#[test]
fn rules_select_packages_by_type_and_name() {
    let policy = policy(vec![
        rule("web", RuleAction::Delete, "container", |r| {
            r.packages = patterns(&["web/*"]);
            r.exclude_packages = patterns(&["web/legacy"]);
            r.tag_selection = Some(TagSelection::Untagged);
        }),
        rule("npm", RuleAction::Delete, "npm", |r| {
            r.keep_newest = Some(1)
        }),
    ]);
    let api = Package::container("api").image(1, &[], 10).build();
    let refused = plan_policy(&container(), vec![app(), api], &policy, now()).unwrap_err();
    assert_eq!(
        refused,
        PlanError::NotSelected {
            package_type: "container".into(),
            name: "api".into()
        }
    );
    assert!(
        refused
            .to_string()
            .contains("no rule of the policy selects")
    );
    let plan = plan_of(&container(), vec![app()], &policy);
    assert_eq!(deleted(&plan), [5, 6]);
    assert_eq!(plan.inputs.policy.as_ref(), Some(&policy));
}

#[test]
fn a_package_only_keep_rules_select_keeps_everything() {
    let policy = policy(vec![rule("releases", RuleAction::Keep, "container", |r| {
        r.include_tags = patterns(&["v*"]);
    })]);
    let plan = plan_of(&container(), vec![app()], &policy);
    assert!(deleted(&plan).is_empty());
    assert_eq!(reason(&plan, 3), ReasonCode::KeptByRule);
    assert_eq!(reason(&plan, 1), ReasonCode::NotSelected);
}

#[test]
fn a_kept_index_keeps_its_children_whatever_a_delete_rule_says() {
    let package = Package::container("web/app")
        .index(10, &["v2"], 30, &[11, 12])
        .image(11, &[], 30)
        .image(12, &[], 30)
        .image(13, &[], 30)
        .image(14, &["main"], 1)
        .build();
    let policy = policy(vec![
        rule("untagged", RuleAction::Delete, "container", |r| {
            r.tag_selection = Some(TagSelection::Untagged);
        }),
        rule("old", RuleAction::Delete, "container", |r| {
            r.older_than = age("7d");
        }),
        rule("releases", RuleAction::Keep, "container", |r| {
            r.include_tags = patterns(&["v*"]);
        }),
    ]);
    let plan = plan_of(&container(), vec![package], &policy);
    assert_eq!(reason(&plan, 10), ReasonCode::KeptByRule);
    assert_eq!(reason(&plan, 11), ReasonCode::ChildOfKept);
    assert_eq!(reason(&plan, 12), ReasonCode::ChildOfKept);
    assert_eq!(deleted(&plan), [13]);
    assert_eq!(deciding(&plan, 13).0.as_deref(), Some("untagged"));
}

#[test]
fn notes_name_the_rule_they_are_about() {
    let policy = policy(vec![rule("prs", RuleAction::Delete, "container", |r| {
        r.include_tags = patterns(&["pr-*", "feature-*"]);
    })]);
    let plan = plan_of(&container(), vec![app()], &policy);
    let note = plan
        .notes
        .iter()
        .find(|n| n.kind == NoteKind::SelectedNothing)
        .expect("a note");
    assert!(
        note.message
            .starts_with("rule `prs`: include pattern `feature-*` matched no tag"),
        "{}",
        note.message
    );
}

#[test]
fn the_policys_protections_and_budget_apply_to_every_rule() {
    let mut policy = policy(vec![
        rule("a", RuleAction::Delete, "container", |r| {
            r.tag_selection = Some(TagSelection::Untagged);
        }),
        rule("b", RuleAction::Delete, "container", |r| {
            r.include_tags = patterns(&["pr-*"]);
        }),
    ]);
    policy.protected_versions = vec!["6".into()];
    policy.protected_tags = patterns(&["latest", "pr-2"]);
    policy.max_deletions = Some(2);
    let plan = plan_of(&container(), vec![app()], &policy);
    assert_eq!(reason(&plan, 6), ReasonCode::ProtectedVersion);
    assert_eq!(reason(&plan, 2), ReasonCode::ProtectedTag);
    assert_eq!(deleted(&plan), [1, 5]);
    assert!(!plan.budget.refused);
    policy.max_deletions = Some(1);
    let over = plan_of(&container(), vec![app()], &policy);
    assert!(over.budget.refused);
}

#[test]
fn a_policy_of_the_flags_plans_what_the_flags_plan() {
    let flags = rules(|r| {
        r.keep_newest = Some(2);
        r.older_than = age("5d");
        r.exclude_tags = patterns(&["v1.0.0"]);
    });
    let from_flags = plan_ok(&container(), vec![app()], &flags);
    let from_policy = plan_of(
        &container(),
        vec![app()],
        &Policy::of_rules(&flags, "container"),
    );
    let decisions = |plan: &Plan| -> Vec<(u64, Decision, ReasonCode, String)> {
        plan.packages
            .iter()
            .flat_map(|p| &p.decisions)
            .map(|d| (d.id, d.decision, d.reason, d.detail.to_string()))
            .collect()
    };
    assert_eq!(decisions(&from_flags), decisions(&from_policy));
    assert_eq!(from_flags.deletions, from_policy.deletions);
}

#[test]
fn contradictory_rules_are_refused_with_the_key_at_fault() {
    let refused = |rule: PolicyRule| policy(vec![rule]).validate().unwrap_err();
    let keep_older = refused(rule("k", RuleAction::Keep, "container", |r| {
        r.older_than = age("7d");
    }));
    let PolicyError::Rule { problem, .. } = &keep_older else {
        panic!("{keep_older:?}")
    };
    assert_eq!(problem.key(), Some("older_than"));
    let nothing = refused(rule("d", RuleAction::Delete, "npm", |_| {}));
    assert!(matches!(
        nothing,
        PolicyError::Rule {
            problem: RuleProblem::Versions(_),
            ..
        }
    ));
    assert!(
        nothing
            .to_string()
            .starts_with("rule `d`: say which versions to delete"),
        "{nothing}"
    );
    let both = refused(rule("p", RuleAction::Delete, "npm", |r| {
        r.keep_newest = Some(1);
        r.packages = patterns(&["a"]);
        r.exclude_packages = patterns(&["a"]);
    }));
    assert!(
        both.to_string()
            .contains("both packages and exclude_packages")
    );
    let _ = Rules::default();
}
