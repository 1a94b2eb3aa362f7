//! Named container-image situations, each with what the plan must do.

mod support;

use std::collections::BTreeMap;

use ghpkg_retention::{
    Age, ChildRef, GraphRole, ManifestFacts, ManifestKind, ManifestStatus, NoteKind, Plan,
    ReasonCode, TagSelection,
};
use support::*;

/// Every deletion comes after the deletions of all its parents (index before children, subject
/// before referrers), using the links the plan itself shows.
fn assert_parents_first(plan: &Plan) {
    let position: BTreeMap<u64, usize> = plan
        .deletions
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id, i))
        .collect();
    for decision in plan.packages.iter().flat_map(|p| &p.decisions) {
        let (Some(&at), Some(graph)) = (position.get(&decision.id), &decision.graph) else {
            continue;
        };
        for parent in &graph.parents {
            let parent_at = position.get(parent);
            assert!(
                parent_at.is_some_and(|&p| p < at),
                "{} is deleted before its parent {parent} (or its parent is kept)",
                decision.id
            );
        }
    }
}

fn links(plan: &Plan, id: u64) -> ghpkg_retention::GraphLinks {
    plan.packages
        .iter()
        .flat_map(|p| &p.decisions)
        .find(|d| d.id == id)
        .and_then(|d| d.graph.as_deref().cloned())
        .expect("graph links")
}

fn keep_newest_tagged(n: usize) -> ghpkg_retention::Rules {
    rules(|r| {
        r.keep_newest = Some(n);
        r.tag_selection = Some(TagSelection::Tagged);
    })
}

#[test]
fn multi_arch_index_with_platform_children_and_buildx_attestations() {
    let package = Package::container("web/app")
        .index_of(
            10,
            &["v1"],
            40,
            vec![
                entry(11, Some("linux/amd64")),
                entry(12, Some("linux/arm64")),
                attestation(13, 11),
                attestation(14, 12),
            ],
        )
        .version(11, &[], 40)
        .version(12, &[], 40)
        .version(13, &[], 40)
        .version(14, &[], 40)
        .index_of(
            20,
            &["v2"],
            1,
            vec![
                entry(21, Some("linux/amd64")),
                entry(22, Some("linux/arm64")),
                attestation(23, 21),
                attestation(24, 22),
            ],
        )
        .version(21, &[], 1)
        .version(22, &[], 1)
        .version(23, &[], 1)
        .version(24, &[], 1)
        .build();
    let plan = plan_ok(&container(), vec![package], &keep_newest_tagged(1));
    assert_eq!(reason(&plan, 20), ReasonCode::NewestN);
    for child in [21, 22, 23, 24] {
        assert_eq!(reason(&plan, child), ReasonCode::ChildOfKept, "{child}");
    }
    assert_eq!(reason(&plan, 10), ReasonCode::BeyondNewestN);
    for child in [11, 12, 13, 14] {
        assert_eq!(reason(&plan, child), ReasonCode::ChildOfDeleted, "{child}");
    }
    assert_eq!(deleted(&plan), [10, 11, 12, 13, 14]);
    assert_parents_first(&plan);

    let index = links(&plan, 10);
    assert_eq!(index.role, GraphRole::Root);
    assert_eq!(index.carries, [11, 12, 13, 14]);
    let attestation = links(&plan, 13);
    assert_eq!(attestation.role, GraphRole::Child);
    assert_eq!(
        attestation.parents,
        [10],
        "an attestation is its index's child, not a referrer of the image it describes"
    );
    assert_eq!(attestation.manifest, ManifestStatus::Read);
    assert!(
        links(&plan, 11).carries.is_empty(),
        "the image an attestation describes does not carry it"
    );
}

#[test]
fn a_child_shared_by_a_kept_and_a_deleted_index_is_kept() {
    let package = Package::container("web/app")
        .index(1, &["old"], 40, &[3, 4])
        .index(2, &["new"], 1, &[3, 5])
        .version(3, &[], 40)
        .version(4, &[], 40)
        .version(5, &[], 1)
        .build();
    let plan = plan_ok(&container(), vec![package], &keep_newest_tagged(1));
    assert_eq!(reason(&plan, 1), ReasonCode::BeyondNewestN);
    assert_eq!(reason(&plan, 3), ReasonCode::ChildOfKept);
    assert_eq!(detail(&plan, 3), "listed by kept 2 (new)");
    assert_eq!(links(&plan, 3).parents, [1, 2]);
    assert_eq!(reason(&plan, 4), ReasonCode::ChildOfDeleted);
    assert_eq!(reason(&plan, 5), ReasonCode::ChildOfKept);
    assert_eq!(deleted(&plan), [1, 4]);
    assert_eq!(
        links(&plan, 1).carries,
        [4],
        "3 is kept, so 1 does not carry it"
    );
}

#[test]
fn one_image_with_several_tags_some_selected_is_kept_whole() {
    let package = Package::container("web/app")
        .index(1, &["pr-7", "main"], 40, &[2, 3])
        .version(2, &[], 40)
        .version(3, &[], 40)
        .index(4, &["pr-8"], 40, &[5])
        .version(5, &[], 40)
        .image(6, &["v1"], 1)
        .build();
    let rules = rules(|r| r.include_tags = patterns(&["pr-*"]));
    let plan = plan_ok(&container(), vec![package], &rules);
    assert_eq!(reason(&plan, 1), ReasonCode::PartialTagMatch);
    assert_eq!(reason(&plan, 2), ReasonCode::ChildOfKept);
    assert_eq!(reason(&plan, 3), ReasonCode::ChildOfKept);
    assert_eq!(reason(&plan, 4), ReasonCode::TagMatch);
    assert_eq!(deleted(&plan), [4, 5]);
}

#[test]
fn cosign_signatures_and_attestations_follow_their_image() {
    let package = Package::container("web/app")
        .image(1, &["v1"], 1)
        .signature(2, 1, 1)
        .image(3, &[&sig_tag(1, ".att")], 1)
        .image(4, &["pr-4"], 30)
        .signature(5, 4, 30)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package.clone()],
        &rules(|r| r.include_tags = patterns(&["pr-*"])),
    );
    assert_eq!(reason(&plan, 1), ReasonCode::NotSelected);
    assert_eq!(reason(&plan, 2), ReasonCode::ReferrerOfKept);
    assert_eq!(reason(&plan, 3), ReasonCode::ReferrerOfKept);
    assert_eq!(links(&plan, 2).role, GraphRole::Referrer);
    assert_eq!(reason(&plan, 4), ReasonCode::TagMatch);
    assert_eq!(reason(&plan, 5), ReasonCode::ReferrerOfDeleted);
    assert_eq!(deleted(&plan), [4, 5], "the image before its signature");

    // Signature tags are not tags: they are neither selected nor counted by keep_newest.
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| {
            r.keep_newest = Some(1);
            r.tag_selection = Some(TagSelection::Both);
        }),
    );
    assert_eq!(reason(&plan, 1), ReasonCode::NewestN);
    assert!(
        detail(&plan, 1).starts_with("1st newest of 2 selected"),
        "{}",
        detail(&plan, 1)
    );
    assert_eq!(reason(&plan, 4), ReasonCode::BeyondNewestN);
    assert_eq!(deleted(&plan), [4, 5]);
}

#[test]
fn an_oci_referrer_found_only_through_its_subject_field_follows_the_subject() {
    let package = Package::container("web/app")
        .image(1, &["latest"], 30)
        .referrer(2, 1, 30)
        .image(3, &["pr-3"], 30)
        .referrer(4, 3, 30)
        .referrer(5, 4, 30)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.include_tags = patterns(&["pr-*"])),
    );
    assert_eq!(reason(&plan, 1), ReasonCode::ProtectedTag);
    assert_eq!(reason(&plan, 2), ReasonCode::ReferrerOfKept);
    assert_eq!(reason(&plan, 3), ReasonCode::TagMatch);
    assert_eq!(reason(&plan, 4), ReasonCode::ReferrerOfDeleted);
    assert_eq!(
        reason(&plan, 5),
        ReasonCode::ReferrerOfDeleted,
        "a signature of the SBOM"
    );
    assert_eq!(deleted(&plan), [3, 4, 5]);
    assert_parents_first(&plan);
}

#[test]
fn a_referrer_listed_only_by_the_referrers_api_follows_the_subject() {
    let package = Package::container("web/app")
        .image(1, &["v1"], 30)
        .image(2, &[], 30)
        .listed_referrer(1, 2)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.tag_selection = Some(TagSelection::Untagged)),
    );
    assert_eq!(reason(&plan, 2), ReasonCode::ReferrerOfKept);
    assert_eq!(links(&plan, 2).parents, [1]);
    assert!(deleted(&plan).is_empty());
}

#[test]
fn a_fallback_index_without_platforms_protects_its_entries() {
    let package = Package::container("web/app")
        .index_of(1, &["v1"], 30, vec![entry(2, None), entry(3, None)])
        .version(2, &[], 30)
        .version(3, &[], 30)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.tag_selection = Some(TagSelection::Untagged)),
    );
    assert_eq!(reason(&plan, 2), ReasonCode::ChildOfKept);
    assert_eq!(reason(&plan, 3), ReasonCode::ChildOfKept);
    assert!(deleted(&plan).is_empty());
}

#[test]
fn a_nested_index_goes_with_its_parent_and_before_its_entries() {
    let package = Package::container("web/app")
        .index_of(1, &["v1"], 30, vec![nested(2)])
        .index(2, &[], 30, &[3, 4])
        .version(3, &[], 30)
        .version(4, &[], 30)
        .index_of(5, &["v2"], 1, vec![nested(6)])
        .index(6, &[], 1, &[7])
        .version(7, &[], 1)
        .build();
    let plan = plan_ok(&container(), vec![package], &keep_newest_tagged(1));
    assert_eq!(reason(&plan, 5), ReasonCode::NewestN);
    assert_eq!(reason(&plan, 6), ReasonCode::ChildOfKept);
    assert_eq!(reason(&plan, 7), ReasonCode::ChildOfKept);
    assert_eq!(reason(&plan, 1), ReasonCode::BeyondNewestN);
    assert_eq!(reason(&plan, 2), ReasonCode::ChildOfDeleted);
    assert_eq!(reason(&plan, 3), ReasonCode::ChildOfDeleted);
    assert_eq!(deleted(&plan), [1, 2, 3, 4]);
    assert_parents_first(&plan);
}

#[test]
fn a_nested_index_that_was_not_read_in_a_kept_graph_fails_closed() {
    let package = Package::container("web/app")
        .index_of(1, &["v1"], 1, vec![nested(2)])
        .unread(2, &[], 1)
        .image(3, &["pr-3"], 30)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.include_tags = patterns(&["pr-*"])),
    );
    assert!(deleted(&plan).is_empty());
    assert_eq!(reason(&plan, 3), ReasonCode::UnreadableGraph);
    assert!(
        detail(&plan, 3).contains("not read"),
        "{}",
        detail(&plan, 3)
    );
    assert_eq!(links(&plan, 2).manifest, ManifestStatus::NotRead);
}

#[test]
fn platform_images_whose_index_is_gone_are_ordinary_untagged_roots() {
    let package = Package::container("web/app")
        .image(1, &[], 60)
        .image(2, &[], 60)
        .index(3, &["v1"], 60, &[4])
        .version(4, &[], 60)
        .build();
    let include = rules(|r| r.include_tags = patterns(&["pr-*"]));
    let plan = plan_ok(&container(), vec![package.clone()], &include);
    assert_eq!(reason(&plan, 1), ReasonCode::NotSelected);

    let old_untagged = rules(|r| {
        r.tag_selection = Some(TagSelection::Untagged);
        r.older_than = Some(Age::parse("30d").unwrap());
    });
    let plan = plan_ok(&container(), vec![package.clone()], &old_untagged);
    assert_eq!(reason(&plan, 1), ReasonCode::OlderThan);
    assert_eq!(reason(&plan, 2), ReasonCode::OlderThan);
    assert_eq!(
        reason(&plan, 4),
        ReasonCode::ChildOfKept,
        "its index is still there"
    );
    assert_eq!(deleted(&plan), [1, 2]);

    let orphans = rules(|r| r.orphans = true);
    let plan = plan_ok(&container(), vec![package], &orphans);
    assert_eq!(
        reason(&plan, 1),
        ReasonCode::NotSelected,
        "nothing in them says they are orphans"
    );
}

#[test]
fn a_signature_whose_image_is_gone_is_an_orphan() {
    let package = Package::container("web/app")
        .image(1, &["v1"], 60)
        .signature(2, 99, 60)
        .referrer(3, 98, 60)
        .image(4, &[], 60)
        .listed_referrer(97, 4)
        .build();
    let plan = plan_ok(&container(), vec![package], &rules(|r| r.orphans = true));
    for orphan in [2, 3, 4] {
        assert_eq!(reason(&plan, orphan), ReasonCode::Orphan, "{orphan}");
        assert_eq!(links(&plan, orphan).role, GraphRole::Orphan);
    }
    assert!(
        detail(&plan, 2).contains("its tag `sha256-"),
        "{}",
        detail(&plan, 2)
    );
    assert!(detail(&plan, 3).contains("its manifest's subject"));
    assert!(detail(&plan, 4).contains("referrer of"));
    assert_eq!(reason(&plan, 1), ReasonCode::NotSelected);
}

#[test]
fn a_broken_index_with_a_missing_child_is_noted_and_still_planned() {
    let package = Package::container("web/app")
        .index(1, &["v1"], 30, &[2, 99])
        .version(2, &[], 30)
        .index(3, &["v2"], 1, &[4])
        .version(4, &[], 1)
        .build();
    let plan = plan_ok(&container(), vec![package], &keep_newest_tagged(1));
    assert_eq!(plan.packages[0].missing_children.len(), 1);
    assert_eq!(plan.packages[0].missing_children[0].parent, 1);
    assert_eq!(plan.packages[0].missing_children[0].digest, digest(99));
    assert!(
        plan.notes
            .iter()
            .any(|n| n.kind == NoteKind::MissingChildren)
    );
    assert_eq!(deleted(&plan), [1, 2]);
}

#[test]
fn a_docker_v2_manifest_list_is_an_index_like_any_other() {
    let list =
        ManifestKind::from_media_type("application/vnd.docker.distribution.manifest.list.v2+json");
    let image =
        ManifestKind::from_media_type("application/vnd.docker.distribution.manifest.v2+json");
    let child = |id| ChildRef {
        digest: digest(id),
        kind: image.clone(),
        platform: Some("linux/amd64".into()),
        attestation_for: None,
    };
    let package = Package::container("web/app")
        .version(1, &["v1"], 30)
        .manifest(1, read(list.clone(), vec![child(2)], None))
        .version(2, &[], 30)
        .version(3, &["v2"], 1)
        .manifest(3, read(list, vec![child(4)], None))
        .version(4, &[], 1)
        .build();
    let plan = plan_ok(&container(), vec![package], &keep_newest_tagged(1));
    assert_eq!(reason(&plan, 4), ReasonCode::ChildOfKept);
    assert_eq!(reason(&plan, 2), ReasonCode::ChildOfDeleted);
    assert_eq!(deleted(&plan), [1, 2]);
}

#[test]
fn a_tag_moved_to_a_new_digest_leaves_the_old_image_untagged_and_its_shared_child_kept() {
    // `latest` moved from index 1 to index 4; the amd64 image 2 did not change.
    let package = Package::container("web/app")
        .index(1, &[], 10, &[2, 3])
        .version(2, &[], 10)
        .version(3, &[], 10)
        .index(4, &["latest"], 1, &[2, 5])
        .version(5, &[], 1)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.tag_selection = Some(TagSelection::Untagged)),
    );
    assert_eq!(reason(&plan, 1), ReasonCode::Untagged);
    assert_eq!(reason(&plan, 3), ReasonCode::ChildOfDeleted);
    assert_eq!(reason(&plan, 2), ReasonCode::ChildOfKept);
    assert_eq!(reason(&plan, 5), ReasonCode::ChildOfKept);
    assert_eq!(deleted(&plan), [1, 3]);
}

#[test]
fn an_unreadable_manifest_in_a_kept_graph_deletes_nothing_in_the_package() {
    let package = Package::container("web/app")
        .index(1, &["latest"], 1, &[2, 3])
        .image(2, &[], 1)
        .version(3, &[], 1)
        .manifest(
            3,
            ManifestFacts::Unreadable {
                reason: "HTTP 500".into(),
            },
        )
        .image(4, &["pr-4"], 30)
        .build();
    let other = Package::container("web/api")
        .image(11, &["pr-1"], 30)
        .image(12, &["v1"], 1)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package, other],
        &rules(|r| r.include_tags = patterns(&["pr-*"])),
    );
    assert_eq!(reason(&plan, 4), ReasonCode::UnreadableGraph);
    assert!(
        detail(&plan, 4).starts_with("delete:tag-match would delete it, but version 3"),
        "{}",
        detail(&plan, 4)
    );
    assert!(detail(&plan, 4).contains("HTTP 500"));
    let app = plan.packages.iter().find(|p| p.name == "web/app").unwrap();
    assert!(app.fail_closed.as_deref().unwrap().contains("HTTP 500"));
    assert!(
        plan.notes
            .iter()
            .any(|n| n.kind == NoteKind::GraphDamaged && n.package.as_deref() == Some("web/app"))
    );
    assert_eq!(
        deleted(&plan),
        [11],
        "only the damaged package is held back"
    );
}

#[test]
fn an_unreadable_manifest_holds_the_package_back_even_when_the_rules_would_delete_it() {
    // An untagged OCI referrer of the kept image that the registry answers 503 for: unread, it
    // looks like any untagged root, but its `subject` makes it part of `v1`'s graph.
    let package = Package::container("web/app")
        .image(1, &["v1"], 1)
        .version(2, &[], 20)
        .manifest(
            2,
            ManifestFacts::Unreadable {
                reason: "the registry answered 503 Service Unavailable".into(),
            },
        )
        .image(3, &[], 30)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.tag_selection = Some(TagSelection::Untagged)),
    );
    assert!(deleted(&plan).is_empty(), "{:?}", deleted(&plan));
    assert_eq!(reason(&plan, 2), ReasonCode::UnreadableGraph);
    assert_eq!(reason(&plan, 3), ReasonCode::UnreadableGraph);
    assert!(detail(&plan, 3).contains("503"), "{}", detail(&plan, 3));
    assert_eq!(links(&plan, 2).manifest, ManifestStatus::Unreadable);
    assert!(plan.packages[0].fail_closed.is_some());
}

#[test]
fn a_graph_with_a_cycle_deletes_nothing_and_names_the_cycle() {
    let package = Package::container("web/app")
        .index_of(1, &["v1"], 30, vec![nested(2)])
        .index_of(2, &[], 30, vec![nested(1)])
        .image(3, &["pr-3"], 30)
        .image(4, &["v2"], 1)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.include_tags = patterns(&["pr-*"])),
    );
    assert!(deleted(&plan).is_empty());
    assert_eq!(reason(&plan, 3), ReasonCode::UnreadableGraph);
    let note = plan
        .notes
        .iter()
        .find(|n| n.kind == NoteKind::GraphDamaged)
        .unwrap();
    assert!(
        note.message.contains("cycle (1 → 2 → 1)"),
        "{}",
        note.message
    );
}

#[test]
fn an_index_that_lists_itself_deletes_nothing() {
    let package = Package::container("web/app")
        .index_of(1, &["pr-1"], 30, vec![nested(1)])
        .image(2, &["v2"], 1)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.include_tags = patterns(&["pr-*"])),
    );
    assert!(deleted(&plan).is_empty());
    assert_eq!(reason(&plan, 1), ReasonCode::UnreadableGraph);
}

#[test]
fn a_version_that_was_never_read_fails_closed_whether_kept_or_not() {
    let package = Package::container("web/app")
        .unread(1, &["v1"], 1)
        .image(2, &["pr-2"], 30)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package.clone()],
        &rules(|r| r.include_tags = patterns(&["pr-*"])),
    );
    assert!(deleted(&plan).is_empty());
    assert!(
        detail(&plan, 2).contains("not read"),
        "{}",
        detail(&plan, 2)
    );

    // Nor may an unread version be deleted: its own `subject` could make it part of a kept
    // image's graph (a signature, an SBOM), and only its manifest says.
    let rules = rules(|r| r.include_tags = patterns(&["v*"]));
    let package = Package::container("web/app")
        .unread(1, &["v1"], 30)
        .image(2, &["main"], 1)
        .build();
    let plan = plan_ok(&container(), vec![package], &rules);
    assert!(deleted(&plan).is_empty());
    assert_eq!(reason(&plan, 1), ReasonCode::UnreadableGraph);
}

#[test]
fn a_tagged_child_of_a_kept_index_is_kept_even_when_its_tag_is_selected() {
    // `docker buildx imagetools create` from staging tags: the index references tagged images.
    let package = Package::container("web/app")
        .index(1, &["5.0.2"], 1, &[2, 3])
        .image(2, &["abc-amd64"], 1)
        .image(3, &["abc-arm64"], 1)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.include_tags = patterns(&["*-amd64", "*-arm64"])),
    );
    assert_eq!(reason(&plan, 2), ReasonCode::ChildOfKept);
    assert_eq!(reason(&plan, 3), ReasonCode::ChildOfKept);
    assert!(deleted(&plan).is_empty());
}

// Regressions of issue 15: each situation a plan once got wrong.

#[test]
fn an_sbom_of_a_kept_platform_image_and_its_signature_are_kept() {
    // The SBOM names the untagged amd64 image of `v1` as its subject, and a signature names the
    // SBOM: both belong to `v1`'s graph though neither is listed or tagged.
    let package = Package::container("web/app")
        .index(1, &["v1"], 1, &[2])
        .image(2, &[], 1)
        .referrer(3, 2, 1)
        .referrer(4, 3, 1)
        .image(5, &[], 30)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.tag_selection = Some(TagSelection::Untagged)),
    );
    assert_eq!(reason(&plan, 3), ReasonCode::ReferrerOfKept);
    assert_eq!(reason(&plan, 4), ReasonCode::ReferrerOfKept);
    assert_eq!(deleted(&plan), [5]);
}

#[test]
fn an_entry_described_as_an_image_is_what_its_own_manifest_says() {
    // Index 1 describes entry 2 as an image, but 2 is an index of its own (listing 3), and a
    // signature refers to 2: what 2's manifest says keeps 3 and the signature.
    let package = Package::container("web/app")
        .index(1, &["v1"], 1, &[2])
        .index(2, &[], 1, &[3])
        .image(3, &[], 1)
        .referrer(4, 2, 1)
        .image(5, &[], 30)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.tag_selection = Some(TagSelection::Untagged)),
    );
    assert_eq!(reason(&plan, 3), ReasonCode::ChildOfKept);
    assert_eq!(reason(&plan, 4), ReasonCode::ReferrerOfKept);
    assert_eq!(deleted(&plan), [5]);
}

#[test]
fn a_kept_index_with_a_missing_child_deletes_nothing_in_its_package() {
    // `v1` already does not pull whole: deleting anything else in the package could only make
    // it worse, and the plan says what is missing.
    let package = Package::container("web/app")
        .index(1, &["v1"], 1, &[2, 99])
        .image(2, &[], 1)
        .image(3, &[], 30)
        .image(4, &[], 40)
        .build();
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.tag_selection = Some(TagSelection::Untagged)),
    );
    assert!(deleted(&plan).is_empty(), "{:?}", deleted(&plan));
    assert_eq!(reason(&plan, 3), ReasonCode::UnreadableGraph);
    assert!(
        detail(&plan, 3).contains(&digest(99)),
        "{}",
        detail(&plan, 3)
    );
    assert_eq!(plan.packages[0].missing_children[0].parent, 1);
}

#[test]
fn a_buildx_attestation_of_a_shared_image_goes_with_the_index_that_lists_it() {
    // Index 1 (untagged since `main` moved to 4) lists amd64 image 2, shared with index 4, and
    // attestation 3 describing 2. The attestation belongs to index 1 alone: it goes with it in
    // the first plan, so a second plan has nothing left to delete.
    let package = Package::container("web/app")
        .index_of(
            1,
            &[],
            10,
            vec![entry(2, Some("linux/amd64")), attestation(3, 2)],
        )
        .image(2, &[], 10)
        .image(3, &[], 10)
        .index_of(
            4,
            &["main", "v1.0.0"],
            1,
            vec![entry(2, Some("linux/amd64")), attestation(5, 2)],
        )
        .image(5, &[], 1)
        .build();
    let untagged = rules(|r| r.tag_selection = Some(TagSelection::Untagged));
    let plan = plan_ok(&container(), vec![package.clone()], &untagged);
    assert_eq!(deleted(&plan), [1, 3]);
    assert_eq!(reason(&plan, 3), ReasonCode::ChildOfDeleted);
    assert_eq!(reason(&plan, 2), ReasonCode::ChildOfKept);

    let mut after = package;
    after.versions.retain(|v| ![1, 3].contains(&v.id));
    let again = plan_ok(&container(), vec![after], &untagged);
    assert!(deleted(&again).is_empty(), "{:?}", deleted(&again));
}

#[test]
fn an_incomplete_listing_deletes_nothing_in_its_package() {
    let mut package = Package::container("web/app")
        .image(1, &["v1"], 1)
        .image(2, &[], 30)
        .build();
    package.incomplete_listing =
        Some("GitHub counted 3 versions before listing and 2 were listed".into());
    let plan = plan_ok(
        &container(),
        vec![package],
        &rules(|r| r.tag_selection = Some(TagSelection::Untagged)),
    );
    assert!(deleted(&plan).is_empty());
    assert_eq!(reason(&plan, 2), ReasonCode::IncompleteListing);
    assert!(
        detail(&plan, 2).contains("counted 3"),
        "{}",
        detail(&plan, 2)
    );
    assert!(plan.packages[0].fail_closed.is_some());
}

#[test]
fn a_protected_referrer_whose_subject_is_deleted_is_ranked_as_the_root_it_will_be() {
    // Version 4 refers to version 1; once 1 is deleted, 4 is a root that takes a place, so it
    // takes it now: planning again after applying the plan must delete nothing more.
    let package = Package::container("web/app")
        .image(3, &["v1.2"], 10)
        .image(2, &["v1.1"], 20)
        .image(1, &["v1.0"], 40)
        .version(4, &["v1.9", "latest"], 5)
        .manifest(4, read(ManifestKind::Image, vec![], Some(digest(1))))
        .build();
    let rules = rules(|r| {
        r.include_tags = patterns(&["v1.*"]);
        r.keep_newest = Some(1);
    });
    let first = plan_ok(&container(), vec![package.clone()], &rules);
    assert_eq!(reason(&first, 4), ReasonCode::ProtectedTag);
    assert!(
        detail(&first, 4).contains("stands alone; 1st newest of 4 selected"),
        "{}",
        detail(&first, 4)
    );
    assert_eq!(reason(&first, 3), ReasonCode::BeyondNewestN);
    assert_eq!(deleted(&first), [1, 2, 3]);

    let gone = deleted(&first);
    let mut applied = package;
    applied.versions.retain(|v| !gone.contains(&v.id));
    if let Some(graph) = &mut applied.graph {
        graph
            .manifests
            .retain(|name, _| !gone.iter().any(|&id| *name == digest(id)));
    }
    let second = plan_ok(&container(), vec![applied], &rules);
    assert_eq!(deleted(&second), [] as [u64; 0]);
}
