//! Every rule and reason code, on packages without an interesting graph.

mod support;

use ghpkg_retention::{
    Age, NoteKind, OrderBy, PlanError, ReasonCode, RulesError, TagSelection, plan,
};
use support::*;

fn age(text: &str) -> Option<Age> {
    Some(Age::parse(text).unwrap())
}

#[test]
fn a_tagged_version_is_deleted_only_when_every_tag_is_selected() {
    let package = Package::container("web/app")
        .image(1, &["pr-1"], 10)
        .image(2, &["pr-2", "main"], 10)
        .image(3, &["v1"], 1)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.include_tags = patterns(&["pr-*"])),
    );
    assert_eq!(reason(&plan, 1), ReasonCode::TagMatch);
    assert_eq!(reason(&plan, 2), ReasonCode::PartialTagMatch);
    assert!(
        detail(&plan, 2).contains("`main` do not"),
        "{}",
        detail(&plan, 2)
    );
    assert_eq!(reason(&plan, 3), ReasonCode::NotSelected);
    assert_eq!(deleted(&plan), [1]);
}

#[test]
fn a_protected_tag_keeps_a_version_whose_other_tags_are_selected() {
    let package = Package::container("web/app")
        .image(1, &["pr-1", "latest"], 10)
        .image(2, &["pr-2", "stable"], 10)
        .image(3, &["pr-3"], 5)
        .build();
    let rules = rules(|r| {
        r.include_tags = patterns(&["pr-*"]);
        r.protected_tags = patterns(&["latest", "re:stable|prod"]);
    });
    let plan = plan_ok(&container(), vec![package], &rules);
    assert_eq!(reason(&plan, 1), ReasonCode::ProtectedTag);
    assert_eq!(reason(&plan, 2), ReasonCode::ProtectedTag);
    assert!(detail(&plan, 2).contains("`re:stable|prod`"));
    assert_eq!(reason(&plan, 3), ReasonCode::TagMatch);
}

#[test]
fn protected_versions_match_ids_and_digests() {
    let package = Package::container("web/app")
        .image(1, &[], 10)
        .image(2, &[], 10)
        .image(3, &[], 10)
        .image(4, &["v4"], 1)
        .build();
    let rules = rules(|r| {
        r.tag_selection = Some(TagSelection::Untagged);
        r.protected_versions = vec!["1".into(), digest(2)];
    });
    let plan = plan_ok(&container(), vec![package], &rules);
    assert_eq!(reason(&plan, 1), ReasonCode::ProtectedVersion);
    assert_eq!(reason(&plan, 2), ReasonCode::ProtectedVersion);
    assert_eq!(reason(&plan, 3), ReasonCode::Untagged);
    assert_eq!(reason(&plan, 4), ReasonCode::NotSelected);
    assert_eq!(deleted(&plan), [3]);
}

#[test]
fn an_excluded_tag_keeps_the_version() {
    let package = Package::container("web/app")
        .image(1, &["v1"], 10)
        .image(2, &["dev-1"], 10)
        .image(3, &["v2", "dev-2"], 10)
        .image(4, &["v9"], 0)
        .build();
    let rules = rules(|r| {
        r.tag_selection = Some(TagSelection::Tagged);
        r.exclude_tags = patterns(&["v*"]);
    });
    let plan = plan_ok(&container(), vec![package], &rules);
    assert_eq!(reason(&plan, 1), ReasonCode::ExcludedTag);
    assert_eq!(reason(&plan, 2), ReasonCode::TagMatch);
    assert_eq!(reason(&plan, 3), ReasonCode::ExcludedTag);
    assert!(detail(&plan, 3).contains("`v2` matches exclude_tags pattern `v*`"));
}

#[test]
fn include_patterns_alone_never_select_untagged_versions() {
    let package = Package::container("web/app")
        .image(1, &["pr-1"], 10)
        .image(2, &[], 10)
        .image(3, &["v1"], 1)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.include_tags = patterns(&["pr-*"])),
    );
    assert_eq!(reason(&plan, 2), ReasonCode::NotSelected);
    assert!(detail(&plan, 2).contains("include_tags imply tag_selection: tagged"));
    assert_eq!(deleted(&plan), [1]);
}

#[test]
fn an_explicit_both_selection_with_include_patterns_also_selects_untagged() {
    let package = Package::container("web/app")
        .image(1, &["pr-1"], 10)
        .image(2, &[], 10)
        .image(3, &["v1"], 1)
        .build();
    let rules = rules(|r| {
        r.include_tags = patterns(&["pr-*"]);
        r.tag_selection = Some(TagSelection::Both);
    });
    let plan = plan_ok(&container(), vec![package], &rules);
    assert_eq!(reason(&plan, 1), ReasonCode::TagMatch);
    assert_eq!(reason(&plan, 2), ReasonCode::Untagged);
    assert_eq!(reason(&plan, 3), ReasonCode::NotSelected);
}

#[test]
fn an_untagged_selection_keeps_tagged_versions() {
    let package = Package::container("web/app")
        .image(1, &["v1"], 10)
        .image(2, &[], 10)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.tag_selection = Some(TagSelection::Untagged)),
    );
    assert_eq!(reason(&plan, 1), ReasonCode::NotSelected);
    assert!(detail(&plan, 1).contains("only untagged versions are selected"));
    assert_eq!(reason(&plan, 2), ReasonCode::Untagged);
}

#[test]
fn a_version_with_no_included_tag_is_not_selected() {
    let package = Package::container("web/app")
        .image(1, &["main"], 10)
        .image(2, &["pr-2"], 10)
        .build();
    let rules = rules(|r| r.include_tags = patterns(&["pr-*", "re:feat-\\d+"]));
    let plan = plan_ok(&container(), vec![package], &rules);
    assert_eq!(reason(&plan, 1), ReasonCode::NotSelected);
    assert!(
        detail(&plan, 1).contains("`pr-*`, `re:feat-\\d+`"),
        "{}",
        detail(&plan, 1)
    );
}

#[test]
fn keep_newest_keeps_the_newest_selected_versions_whatever_their_age() {
    let package = Package::plain("lib")
        .version(1, &[], 400)
        .version(2, &[], 300)
        .version(3, &[], 200)
        .version(4, &[], 100)
        .build();
    let rules = rules(|r| {
        r.keep_newest = Some(2);
        r.older_than = age("30d");
    });
    let plan = plan_ok(&npm(), vec![package], &rules);
    assert_eq!(reason(&plan, 4), ReasonCode::NewestN);
    assert_eq!(reason(&plan, 3), ReasonCode::NewestN);
    assert!(
        detail(&plan, 3).starts_with("2nd newest of 4 selected"),
        "{}",
        detail(&plan, 3)
    );
    assert_eq!(reason(&plan, 2), ReasonCode::OlderThan);
    assert_eq!(reason(&plan, 1), ReasonCode::OlderThan);
    assert_eq!(deleted(&plan), [1, 2], "oldest first");
}

#[test]
fn keep_newest_breaks_timestamp_ties_by_the_larger_id() {
    let package = Package::plain("lib")
        .version(7, &[], 10)
        .version(9, &[], 10)
        .version(8, &[], 10)
        .build();
    let plan = plan_ok(&npm(), vec![package], &rules(|r| r.keep_newest = Some(1)));
    assert_eq!(reason(&plan, 9), ReasonCode::NewestN);
    assert_eq!(reason(&plan, 8), ReasonCode::BeyondNewestN);
    assert_eq!(reason(&plan, 7), ReasonCode::BeyondNewestN);
}

#[test]
fn keep_newest_counts_only_selected_versions() {
    let package = Package::container("web/app")
        .image(1, &["pr-1"], 30)
        .image(2, &["pr-2"], 20)
        .image(3, &["main"], 1)
        .image(4, &[], 0)
        .build();
    let rules = rules(|r| {
        r.include_tags = patterns(&["pr-*"]);
        r.keep_newest = Some(1);
    });
    let plan = plan_ok(&container(), vec![package], &rules);
    assert_eq!(reason(&plan, 2), ReasonCode::NewestN);
    assert_eq!(reason(&plan, 1), ReasonCode::BeyondNewestN);
}

#[test]
fn keep_newest_counts_a_protected_tag_among_its_places() {
    // `--include 'v1.*' --keep 2` with `latest` on the newest release keeps two releases.
    let package = Package::container("web/app")
        .image(4, &["v1.3", "latest"], 10)
        .image(3, &["v1.2"], 20)
        .image(2, &["v1.1"], 30)
        .image(1, &["v1.0"], 40)
        .build();
    let rules = rules(|r| {
        r.include_tags = patterns(&["v1.*"]);
        r.keep_newest = Some(2);
    });
    let plan = plan_ok(&container(), vec![package], &rules);
    assert_eq!(reason(&plan, 4), ReasonCode::ProtectedTag);
    assert_eq!(
        detail(&plan, 4),
        "tag `latest` matches protected_tags pattern `latest`; 1st newest of 4 selected, so it takes one of the keep_newest 2 places"
    );
    assert_eq!(reason(&plan, 3), ReasonCode::NewestN);
    assert!(
        detail(&plan, 3).starts_with("2nd newest of 4 selected"),
        "{}",
        detail(&plan, 3)
    );
    assert_eq!(reason(&plan, 2), ReasonCode::BeyondNewestN);
    assert_eq!(reason(&plan, 1), ReasonCode::BeyondNewestN);
    assert_eq!(kept(&plan), [4, 3]);
}

#[test]
fn keep_newest_counts_a_protected_version_and_keeps_it_whatever_its_rank() {
    let package = Package::plain("lib")
        .version(4, &[], 10)
        .version(3, &[], 20)
        .version(2, &[], 30)
        .version(1, &[], 40)
        .build();
    let rules = rules(|r| {
        r.keep_newest = Some(2);
        r.protected_versions = vec!["4".into(), "1".into()];
    });
    let plan = plan_ok(&npm(), vec![package], &rules);
    assert_eq!(reason(&plan, 4), ReasonCode::ProtectedVersion);
    assert_eq!(reason(&plan, 3), ReasonCode::NewestN);
    assert_eq!(reason(&plan, 2), ReasonCode::BeyondNewestN);
    assert_eq!(reason(&plan, 1), ReasonCode::ProtectedVersion);
    assert_eq!(
        detail(&plan, 1),
        "protected_versions lists `1`; 4th newest of 4 selected, beyond keep_newest 2, but protected"
    );
    assert_eq!(deleted(&plan), [2]);
}

#[test]
fn a_version_tagged_only_with_protected_tags_takes_no_place_of_an_include_pattern() {
    let package = Package::container("web/app")
        .image(3, &["latest"], 10)
        .image(2, &["v1.1"], 20)
        .image(1, &["v1.0"], 30)
        .build();
    let rules = rules(|r| {
        r.include_tags = patterns(&["v1.*"]);
        r.keep_newest = Some(1);
    });
    let plan = plan_ok(&container(), vec![package], &rules);
    assert_eq!(reason(&plan, 3), ReasonCode::ProtectedTag);
    assert_eq!(reason(&plan, 2), ReasonCode::NewestN);
    assert_eq!(deleted(&plan), [1]);
}

#[test]
fn older_than_deletes_only_what_is_strictly_before_the_cut_off() {
    let package = Package::plain("lib")
        .version(1, &[], 31)
        .version(2, &[], 30)
        .version(3, &[], 29)
        .build();
    let plan = plan_ok(&npm(), vec![package], &rules(|r| r.older_than = age("30d")));
    assert_eq!(reason(&plan, 1), ReasonCode::OlderThan);
    assert_eq!(
        reason(&plan, 2),
        ReasonCode::TooNew,
        "exactly at the cut-off"
    );
    assert_eq!(reason(&plan, 3), ReasonCode::TooNew);
    assert_eq!(plan.inputs.cutoff, Some(days_ago(30)));
}

#[test]
fn older_than_in_months_counts_calendar_months() {
    // now is 2024-06-30; one month before is 2024-05-30, 31 days earlier (May has 31 days).
    let package = Package::plain("lib")
        .version(1, &[], 32)
        .version(2, &[], 31)
        .version(3, &[], 1)
        .build();
    let plan = plan_ok(
        &npm(),
        vec![package.clone()],
        &rules(|r| r.older_than = age("1 month")),
    );
    assert_eq!(reason(&plan, 1), ReasonCode::OlderThan);
    assert_eq!(
        reason(&plan, 2),
        ReasonCode::TooNew,
        "exactly one calendar month old"
    );
    let plan = plan_ok(&npm(), vec![package], &rules(|r| r.older_than = age("30d")));
    assert_eq!(
        reason(&plan, 2),
        ReasonCode::OlderThan,
        "31 days is older than 30d"
    );
}

#[test]
fn order_by_updated_at_orders_and_dates_by_the_update() {
    let mut package = Package::plain("lib")
        .version(1, &[], 100)
        .version(2, &[], 50)
        .build();
    package.versions[0].updated_at = days_ago(1);
    let by_update = rules(|r| {
        r.keep_newest = Some(1);
        r.order_by = OrderBy::UpdatedAt;
    });
    let plan = plan_ok(&npm(), vec![package.clone()], &by_update);
    assert_eq!(reason(&plan, 1), ReasonCode::NewestN);
    assert_eq!(reason(&plan, 2), ReasonCode::BeyondNewestN);
    let by_creation = rules(|r| r.keep_newest = Some(1));
    let plan = plan_ok(&npm(), vec![package], &by_creation);
    assert_eq!(reason(&plan, 2), ReasonCode::NewestN);
}

#[test]
fn without_keep_or_age_the_selection_itself_deletes() {
    let package = Package::container("web/app")
        .image(1, &["pr-1"], 1)
        .image(2, &[], 1)
        .image(3, &["v1"], 1)
        .build();
    let rules = rules(|r| {
        r.tag_selection = Some(TagSelection::Both);
        r.exclude_tags = patterns(&["v*"]);
    });
    let plan = plan_ok(&container(), vec![package], &rules);
    assert_eq!(reason(&plan, 1), ReasonCode::TagMatch);
    assert_eq!(reason(&plan, 2), ReasonCode::Untagged);
    assert_eq!(reason(&plan, 3), ReasonCode::ExcludedTag);
}

#[test]
fn only_orphans_selected_keeps_every_other_version() {
    let package = Package::container("web/app")
        .image(1, &["v1"], 100)
        .image(2, &[], 100)
        .referrer(3, 99, 100)
        .build();
    let plan = plan_ok(&container(), vec![package], &rules(|r| r.orphans = true));
    assert_eq!(reason(&plan, 1), ReasonCode::NotSelected);
    assert_eq!(reason(&plan, 2), ReasonCode::NotSelected);
    assert!(detail(&plan, 2).contains("only orphans are selected"));
    assert_eq!(reason(&plan, 3), ReasonCode::Orphan);
}

#[test]
fn a_fresh_orphan_waits_for_older_than() {
    let package = Package::container("web/app")
        .image(1, &["v1"], 100)
        .referrer(2, 99, 1)
        .referrer(3, 98, 60)
        .build();
    let rules = rules(|r| {
        r.orphans = true;
        r.older_than = age("7d");
        r.tag_selection = Some(TagSelection::Untagged);
    });
    let plan = plan_ok(&container(), vec![package], &rules);
    assert_eq!(reason(&plan, 2), ReasonCode::TooNew);
    assert!(detail(&plan, 2).contains("push in progress"));
    assert_eq!(reason(&plan, 3), ReasonCode::Orphan);
}

#[test]
fn github_refuses_to_delete_the_last_tagged_container_version() {
    let package = Package::container("web/app")
        .image(1, &["pr-1"], 30)
        .image(2, &["pr-2"], 20)
        .image(3, &[], 10)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.include_tags = patterns(&["pr-*"])),
    );
    assert_eq!(reason(&plan, 2), ReasonCode::GithubRefusesLastTagged);
    assert!(detail(&plan, 2).contains("the rules said delete:tag-match"));
    assert_eq!(reason(&plan, 1), ReasonCode::TagMatch);
    assert!(plan.notes.iter().any(|n| n.kind == NoteKind::GithubRefusal));
}

#[test]
fn signature_tags_do_not_count_as_tagged_but_github_counts_them() {
    // Every user-tagged version is kept; the untagged roots and an orphaned signature are
    // deleted... except that GitHub counts the signature's tag, so one tagged version must stay.
    let package = Package::container("web/app")
        .image(1, &[], 30)
        .signature(2, 77, 20)
        .build();
    let rules = rules(|r| {
        r.tag_selection = Some(TagSelection::Untagged);
        r.orphans = true;
    });
    let plan = plan_ok(&container(), vec![package], &rules);
    assert_eq!(reason(&plan, 2), ReasonCode::GithubRefusesLastTagged);
    assert_eq!(reason(&plan, 1), ReasonCode::Untagged);
}

#[test]
fn github_refuses_to_delete_the_last_version_of_any_package() {
    let package = Package::plain("lib")
        .version(1, &[], 30)
        .version(2, &[], 20)
        .build();
    let plan = plan_ok(&npm(), vec![package], &rules(|r| r.older_than = age("1d")));
    assert_eq!(reason(&plan, 2), ReasonCode::GithubRefusesLastVersion);
    assert_eq!(deleted(&plan), [1]);
}

#[test]
fn a_container_package_whose_manifests_were_not_read_deletes_nothing() {
    let package = Package::plain("web/app")
        .version(1, &["pr-1"], 30)
        .version(2, &[], 30)
        .version(3, &["v1"], 1)
        .build();
    let rules = rules(|r| r.tag_selection = Some(TagSelection::Both));
    let plan = plan_ok(&container(), vec![package], &rules);
    assert!(deleted(&plan).is_empty());
    assert_eq!(reason(&plan, 1), ReasonCode::GraphNotRead);
    assert!(detail(&plan, 1).starts_with("delete:tag-match would delete it"));
    assert_eq!(reason(&plan, 2), ReasonCode::GraphNotRead);
    assert!(plan.packages[0].fail_closed.is_some());
    assert!(plan.notes.iter().any(|n| n.kind == NoteKind::GraphNotRead));
}

#[test]
fn a_plan_over_max_deletions_is_complete_but_refused() {
    let package = Package::plain("lib")
        .version(1, &[], 30)
        .version(2, &[], 30)
        .version(3, &[], 30)
        .version(4, &[], 1)
        .build();
    let rules = rules(|r| {
        r.older_than = age("7d");
        r.max_deletions = Some(1);
    });
    let plan = plan_ok(&npm(), vec![package], &rules);
    assert_eq!(deleted(&plan).len(), 3);
    assert!(plan.is_refused());
    assert_eq!(plan.budget.over_by_count, Some(2));
    let note = plan
        .notes
        .iter()
        .find(|n| n.kind == NoteKind::OverBudget)
        .unwrap();
    assert!(
        note.message
            .contains("3 deletions exceed max_deletions 1 by 2"),
        "{}",
        note.message
    );
}

#[test]
fn a_plan_over_max_percent_says_which_package_and_by_how_much() {
    let small = Package::plain("small")
        .version(1, &[], 30)
        .version(2, &[], 30)
        .version(3, &[], 1)
        .build();
    let large = Package::plain("large")
        .version(11, &[], 30)
        .version(12, &[], 1)
        .version(13, &[], 1)
        .version(14, &[], 1)
        .build();
    let rules = rules(|r| {
        r.older_than = age("7d");
        r.max_percent = Some(50.0);
    });
    let plan = plan_ok(&npm(), vec![small, large], &rules);
    assert!(plan.is_refused());
    assert_eq!(plan.budget.over_by_count, None);
    let budgets: Vec<_> = plan
        .budget
        .packages
        .iter()
        .map(|p| (p.package.as_str(), p.percent, p.over_by_percent))
        .collect();
    assert_eq!(
        budgets,
        [("large", 25.0, None), ("small", 66.67, Some(16.67))]
    );
}

#[test]
fn a_plan_within_budget_is_not_refused() {
    let package = Package::plain("lib")
        .version(1, &[], 30)
        .version(2, &[], 1)
        .build();
    let rules = rules(|r| {
        r.older_than = age("7d");
        r.max_deletions = Some(1);
        r.max_percent = Some(50.0);
    });
    let plan = plan_ok(&npm(), vec![package], &rules);
    assert!(!plan.is_refused());
    assert!(!plan.notes.iter().any(|n| n.kind == NoteKind::OverBudget));
}

#[test]
fn rules_that_select_nothing_say_so() {
    let package = Package::container("web/app")
        .image(1, &["main"], 3)
        .image(2, &["v1"], 2)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package.clone()],
        &rules(|r| {
            r.include_tags = patterns(&["pr-*"]);
            r.protected_versions = vec!["999".into()];
        }),
    );
    let messages = notes(&plan);
    assert!(
        messages.contains(&"include pattern `pr-*` matched no tag in web/app".to_owned()),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"the rules select no version".to_owned()),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|n| n.contains("`999` names no version")),
        "{messages:?}"
    );

    let plan = plan_ok(
        &container(),
        vec![package.clone()],
        &rules(|r| {
            r.keep_newest = Some(5);
            r.protected_tags.clear();
        }),
    );
    assert!(notes(&plan).contains(&"keep_newest 5 keeps all 2 selected versions".to_owned()));

    let plan = plan_ok(
        &container(),
        vec![package.clone()],
        &rules(|r| r.older_than = age("30d")),
    );
    assert!(
        notes(&plan)
            .iter()
            .any(|n| n.starts_with("older_than 30d: no selected version is older"))
    );

    let plan = plan_ok(&container(), vec![package], &rules(|r| r.orphans = true));
    assert!(notes(&plan).contains(&"orphans: no orphan found".to_owned()));
    let plan = plan_ok(
        &npm(),
        vec![Package::plain("lib").version(1, &[], 1).build()],
        &rules(|r| r.orphans = true),
    );
    assert!(notes(&plan).iter().any(|n| n.contains("no image graph")));
}

#[test]
fn planning_refuses_rules_that_do_not_validate() {
    let package = Package::plain("lib").version(1, &[], 1).build();
    let error = plan(&npm(), vec![package], &rules(|_| {}), now()).unwrap_err();
    assert_eq!(error, PlanError::Rules(RulesError::NothingSelected));
}

#[test]
fn planning_refuses_facts_that_are_not_from_github() {
    let select = rules(|r| r.keep_newest = Some(1));
    let twice = [
        Package::plain("lib").version(1, &[], 1).build(),
        Package::plain("lib").version(2, &[], 1).build(),
    ];
    assert_eq!(
        plan(&npm(), twice.to_vec(), &select, now()).unwrap_err(),
        PlanError::DuplicatePackage { name: "lib".into() }
    );
    let zero = Package::plain("lib").version(0, &[], 1).build();
    assert!(matches!(
        plan(&npm(), vec![zero], &select, now()),
        Err(PlanError::ZeroVersionId { .. })
    ));
    let same_id = Package::plain("lib")
        .version(1, &[], 1)
        .version(1, &[], 2)
        .build();
    assert!(matches!(
        plan(&npm(), vec![same_id], &select, now()),
        Err(PlanError::DuplicateVersionId { id: 1, .. })
    ));
    let mut same_name = Package::plain("lib")
        .version(1, &[], 1)
        .version(2, &[], 2)
        .build();
    same_name.versions[1].name = same_name.versions[0].name.clone();
    assert!(matches!(
        plan(&npm(), vec![same_name], &select, now()),
        Err(PlanError::DuplicateVersionName { .. })
    ));
}

#[test]
fn the_same_facts_in_any_order_give_the_same_bytes() {
    let a = Package::container("a")
        .image(1, &["pr-1"], 30)
        .image(2, &["pr-2"], 20)
        .image(3, &["v1"], 10)
        .build();
    let b = Package::plain("b").version(11, &[], 40).build();
    let rules = rules(|r| {
        r.include_tags = patterns(&["pr-*"]);
        r.older_than = age("7d");
    });
    let first = plan_ok(&container(), vec![a.clone(), b.clone()], &rules);
    let mut a_reversed = a;
    a_reversed.versions.reverse();
    let second = plan_ok(&container(), vec![b, a_reversed], &rules);
    assert_eq!(first.to_json(), second.to_json());
    assert_eq!(first.sha256, second.sha256);
    assert_eq!(first.sha256, first.sha256());
}

#[test]
fn the_summary_counts_decisions_and_reasons() {
    let package = Package::plain("lib")
        .version(1, &[], 30)
        .version(2, &[], 30)
        .version(3, &[], 1)
        .build();
    let plan = plan_ok(&npm(), vec![package], &rules(|r| r.older_than = age("7d")));
    assert_eq!(
        (
            plan.summary.versions,
            plan.summary.keep,
            plan.summary.delete
        ),
        (3, 1, 2)
    );
    assert_eq!(plan.summary.by_reason[&ReasonCode::OlderThan], 2);
    assert_eq!(plan.summary.by_reason[&ReasonCode::TooNew], 1);
    assert_eq!(plan.summary.by_reason.len(), 2);
}

/// An npm package with these version names, the first the oldest, a day apart.
fn npm_versions(names: &[&str]) -> ghpkg_retention::PackageFacts {
    let mut package = Package::plain("lib").build();
    let count = names.len() as i64;
    for (at, name) in names.iter().enumerate() {
        let id = at as u64 + 1;
        package.versions.push(ghpkg_retention::VersionFacts {
            id,
            name: (*name).to_owned(),
            tags: vec![],
            created_at: days_ago(count - at as i64),
            updated_at: days_ago(count - at as i64),
        });
    }
    package
}

#[test]
fn version_match_and_exclude_versions_look_at_names() {
    let package = npm_versions(&["1.0.0", "1.1.0", "2.0.0-rc.1", "2.0.0"]);
    let plan = plan_ok(
        &npm(),
        vec![package],
        &rules(|r| {
            r.version_match = patterns(&["1.*", "re:2\\.0\\.0-.*"]);
            r.exclude_versions = patterns(&["1.1.0"]);
        }),
    );
    assert_eq!(deleted(&plan), [1, 3]);
    assert_eq!(reason(&plan, 2), ReasonCode::ExcludedVersion);
    assert_eq!(reason(&plan, 4), ReasonCode::NotSelected);
    assert!(detail(&plan, 4).contains("matches no version_match pattern"));
}

#[test]
fn prerelease_only_selects_pre_releases_and_never_names_that_are_not_versions() {
    let package = npm_versions(&["1.0.0-beta.1", "1.0.0", "nightly", "1.1.0-rc.1", "1.1.0"]);
    let plan = plan_ok(&npm(), vec![package], &rules(|r| r.prerelease_only = true));
    assert_eq!(deleted(&plan), [1, 4]);
    assert_eq!(reason(&plan, 2), ReasonCode::NotSelected);
    assert!(detail(&plan, 2).contains("a release"));
    assert_eq!(reason(&plan, 3), ReasonCode::NotSelected);
    assert_eq!(
        detail(&plan, 3),
        "`nightly` is not a semver version, so prerelease_only does not select it"
    );
}

#[test]
fn keep_per_major_and_minor_keep_the_greatest_of_each_line() {
    // Published out of order: 1.2.1 last. The greatest by version, not by date, are kept.
    let package = npm_versions(&["1.0.0", "1.1.0", "2.0.0", "1.2.0", "2.1.0", "1.2.1"]);
    let per_major = plan_ok(
        &npm(),
        vec![package.clone()],
        &rules(|r| r.keep_per_major = Some(1)),
    );
    assert_eq!(reason(&per_major, 6), ReasonCode::NewestPerMajor);
    assert_eq!(reason(&per_major, 5), ReasonCode::NewestPerMajor);
    assert!(detail(&per_major, 6).contains("1st greatest selected version of major version 1"));
    assert_eq!(deleted(&per_major), [1, 2, 3, 4]);
    assert_eq!(reason(&per_major, 1), ReasonCode::BeyondNewestN);
    assert!(detail(&per_major, 1).contains("keep_per_major 1 greatest of its major version"));
    let per_minor = plan_ok(
        &npm(),
        vec![package],
        &rules(|r| {
            r.keep_per_minor = Some(1);
            r.older_than = age("2d");
        }),
    );
    // Each minor line keeps its greatest; of the rest, only what is older than 2 days goes.
    assert_eq!(reason(&per_minor, 4), ReasonCode::OlderThan);
    assert_eq!(reason(&per_minor, 6), ReasonCode::NewestPerMinor);
    assert_eq!(deleted(&per_minor), [4]);
}

#[test]
fn order_by_version_keeps_the_greatest_versions_whatever_their_dates() {
    // 1.10.0 was published first and 1.2.0 last (a backport); `nightly` is no version.
    let package = npm_versions(&["1.10.0", "1.9.0", "nightly", "1.2.0"]);
    let by_version = rules(|r| {
        r.keep_newest = Some(2);
        r.order_by = OrderBy::Version;
    });
    let plan = plan_ok(&npm(), vec![package.clone()], &by_version);
    assert_eq!(reason(&plan, 1), ReasonCode::NewestN);
    assert_eq!(
        detail(&plan, 1),
        "1st greatest version of 3 selected (keep_newest 2, order_by version)"
    );
    assert_eq!(reason(&plan, 2), ReasonCode::NewestN);
    assert_eq!(reason(&plan, 3), ReasonCode::NotSelected);
    assert_eq!(
        detail(&plan, 3),
        "`nightly` is not a semver version, so order_by version does not select it"
    );
    assert_eq!(deleted(&plan), [4]);
    // Ordered by creation, the two published last stay and the greatest goes.
    let plan = plan_ok(
        &npm(),
        vec![package.clone()],
        &rules(|r| r.keep_newest = Some(2)),
    );
    assert_eq!(deleted(&plan), [1, 2]);
    // Ages still come from the creation date: 1.9.0 and 1.2.0 are beyond the greatest one, but
    // not older than 3 days.
    let with_age = rules(|r| {
        r.keep_newest = Some(1);
        r.order_by = OrderBy::Version;
        r.older_than = age("3d");
    });
    let plan = plan_ok(&npm(), vec![package], &with_age);
    assert_eq!(reason(&plan, 2), ReasonCode::TooNew);
    assert_eq!(reason(&plan, 4), ReasonCode::TooNew);
    assert!(deleted(&plan).is_empty(), "{:?}", deleted(&plan));
}

#[test]
fn order_by_version_ranks_images_by_their_greatest_version_tag() {
    let package = Package::container("web/app")
        .image(1, &["v2.0.0"], 30)
        .image(2, &["v1.4.0", "stable-1"], 20)
        .image(3, &["v1.10.0"], 10)
        .image(4, &["main"], 5)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| {
            r.keep_newest = Some(2);
            r.order_by = OrderBy::Version;
        }),
    );
    assert_eq!(reason(&plan, 1), ReasonCode::NewestN);
    assert_eq!(reason(&plan, 3), ReasonCode::NewestN);
    assert_eq!(reason(&plan, 4), ReasonCode::NotSelected);
    assert!(detail(&plan, 4).contains("no tag is a semver version"));
    assert_eq!(deleted(&plan), [2]);
}

#[test]
fn maven_nuget_and_rubygems_versions_order_by_their_own_rules() {
    let target = |package_type: &str| ghpkg_retention::Target {
        package_type: package_type.into(),
        ..npm()
    };
    let cases: [(&str, &[&str], u64); 3] = [
        ("maven", &["1.0-SNAPSHOT", "1.0", "1.0-sp1", "1.0-rc1"], 3),
        ("nuget", &["1.0.0.1", "1.0.0", "1.0.0-ALPHA"], 1),
        ("rubygems", &["1.0.a", "1.0", "0.9"], 2),
    ];
    for (package_type, names, greatest) in cases {
        let plan = plan_ok(
            &target(package_type),
            vec![npm_versions(names)],
            &rules(|r| r.keep_per_major = Some(1)),
        );
        let kept_by_line: Vec<u64> = plan
            .packages
            .iter()
            .flat_map(|p| &p.decisions)
            .filter(|d| d.reason == ReasonCode::NewestPerMajor)
            .map(|d| d.id)
            .collect();
        assert!(
            kept_by_line.contains(&greatest),
            "{package_type}: {kept_by_line:?}"
        );
    }
}

#[test]
fn image_versions_are_read_from_their_semver_tags() {
    let package = Package::container("web/app")
        .image(1, &["v1.0.0"], 30)
        .image(2, &["v1.1.0-rc.1"], 20)
        .image(3, &["v1.1.0"], 10)
        .image(4, &["main"], 5)
        .image(5, &["v2.0.0"], 1)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.prerelease_only = true),
    );
    assert_eq!(deleted(&plan), [2]);
    assert!(detail(&plan, 4).contains("no tag is a semver version"));
}

#[test]
fn version_match_and_exclude_versions_may_not_share_a_pattern() {
    let both = rules(|r| {
        r.version_match = patterns(&["1.*"]);
        r.exclude_versions = patterns(&["1.*"]);
    });
    assert_eq!(
        both.validate(),
        Err(RulesError::VersionIncludedAndExcluded {
            pattern: "1.*".into()
        })
    );
}
