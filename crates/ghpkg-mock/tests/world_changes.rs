//! Changes to the world while the emulator runs: pushes, and changes armed to happen just
//! before a page of a versions listing is answered; and the adversarial cases they serve.

mod common;

use common::{client, registry_get, registry_token, serve, start_time};
use ghpkg_api::types::PackageType;
use ghpkg_mock::fixture::graphs::{self, OWNER, long_listing, push_between_plan_and_apply};
use ghpkg_mock::{MockServer, OnVersionsPage, Push, WorldChange, tokens};

/// The ids of one page (100 per page) of `package`'s active versions.
async fn page(server: &MockServer, package: &str, page: i64) -> Vec<i64> {
    client(server, tokens::OCTOCAT_ALL)
        .packages_get_all_package_versions_for_package_owned_by_org()
        .org(OWNER)
        .package_type(PackageType::Container)
        .package_name(package)
        .per_page(100)
        .page(page)
        .send()
        .await
        .unwrap()
        .into_inner()
        .iter()
        .map(|v| v.id)
        .collect()
}

#[tokio::test]
async fn a_pushed_index_is_a_new_newest_version_served_by_its_tag_and_reusing_a_platform_image() {
    use push_between_plan_and_apply::*;
    let server = serve(graphs::push_between_plan_and_apply()).await;
    let state = server.state();
    let platform = &state.version(PLATFORM).unwrap().1;
    let size = platform.manifest.as_ref().unwrap().bytes.len();
    let largest_id = state
        .packages
        .iter()
        .flat_map(|p| &p.versions)
        .map(|v| v.id)
        .max()
        .unwrap();
    let push = Push::version(OWNER, PACKAGE, pushed_index(&platform.name, size)).tag(PUSHED_TAG);
    let pushed = server.push(push).unwrap();
    let id = pushed.version_id.unwrap();
    assert!(id > largest_id, "a fresh id larger than all others");
    let state = server.state();
    let (_, version) = state.version(id).unwrap();
    assert_eq!(version.tags, [PUSHED_TAG]);
    assert_eq!(
        (version.created_at, version.updated_at),
        (start_time(), start_time())
    );
    assert_eq!(page(&server, PACKAGE, 1).await[0], id, "newest first");
    let repository = format!("{OWNER}/{PACKAGE}");
    let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), &repository).await;
    let response = registry_get(
        &server,
        &token,
        &format!("{repository}/manifests/{PUSHED_TAG}"),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["docker-content-digest"],
        pushed.digest.as_str()
    );
    assert_eq!(state.broken_tags(), [], "the pushed index pulls whole");
}

#[tokio::test]
async fn a_push_moves_its_tags_and_an_unlisted_push_is_served_but_not_listed() {
    use push_between_plan_and_apply::*;
    let server = serve(graphs::push_between_plan_and_apply()).await;
    let before = page(&server, PACKAGE, 1).await;
    let image = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                   "digest": format!("sha256:{}", "cd".repeat(32))},
        "layers": [],
    });
    let pushed = server
        .push(Push::unlisted(OWNER, PACKAGE, image).tag("v1"))
        .unwrap();
    assert_eq!(pushed.version_id, None);
    assert_eq!(page(&server, PACKAGE, 1).await, before, "not a version");
    let state = server.state();
    assert!(
        state.version(CURRENT).unwrap().1.tags.is_empty(),
        "v1 moved"
    );
    let repository = format!("{OWNER}/{PACKAGE}");
    let token = registry_token(&server, Some(tokens::OCTOCAT_ALL), &repository).await;
    let response = registry_get(&server, &token, &format!("{repository}/manifests/v1")).await;
    assert_eq!(
        response.headers()["docker-content-digest"],
        pushed.digest.as_str()
    );
    let refused = server.push(Push::version(OWNER, "no/such", serde_json::json!({})));
    assert!(refused.is_err());
}

#[tokio::test]
async fn a_change_armed_for_page_two_happens_before_page_two_is_answered() {
    use long_listing::*;
    let server = serve(graphs::long_listing()).await;
    server.arm(OnVersionsPage {
        owner: OWNER.into(),
        package: PACKAGE.into(),
        page: 2,
        change: WorldChange::delete_as("hubot", NEWEST),
    });
    let first = page(&server, PACKAGE, 1).await;
    assert_eq!(first.len(), 100);
    assert_eq!(server.armed(), 1, "page 1 does not fire it");
    let second = page(&server, PACKAGE, 2).await;
    assert_eq!(server.armed(), 0, "fired once");
    let expected: Vec<i64> = (110..VERSIONS as i64).map(|n| FIRST_ID + n).collect();
    assert_eq!(second, expected, "page 2 starts ten versions later");
    assert!(
        !first.contains(&INDEX) && !second.contains(&INDEX),
        "the index was never listed"
    );
    let changes = server.changes();
    assert_eq!(changes.len(), 10);
    assert!(changes.iter().all(|c| c.actor == "hubot"));
    assert_eq!(
        page(&server, PACKAGE, 2).await,
        expected,
        "and does not fire again"
    );
}

#[tokio::test]
async fn an_armed_push_happens_before_its_page_is_answered() {
    use push_between_plan_and_apply::*;
    let server = serve(graphs::push_between_plan_and_apply()).await;
    let platform = server.state().version(PLATFORM).unwrap().1.clone();
    let index = pushed_index(&platform.name, platform.manifest.unwrap().bytes.len());
    server.arm(OnVersionsPage {
        owner: OWNER.into(),
        package: PACKAGE.into(),
        page: 1,
        change: WorldChange::Push(Push::version(OWNER, PACKAGE, index).tag(PUSHED_TAG)),
    });
    let listed = page(&server, PACKAGE, 1).await;
    assert_eq!(listed.len(), 5);
    let newest = server.state().version(listed[0]).unwrap().1.tags.clone();
    assert_eq!(newest, [PUSHED_TAG]);
}

#[test]
fn the_adversarial_cases_load_and_only_the_missing_child_case_starts_broken() {
    let cases = [
        graphs::push_between_plan_and_apply(),
        graphs::unreadable_referrer(),
        graphs::referrer_chain(),
        graphs::disguised_index(),
        graphs::long_listing(),
    ];
    for fixture in cases {
        let state = snapshot(&fixture);
        assert_eq!(state.broken_tags(), [], "{}", fixture.packages[0].name);
    }
    let broken = snapshot(&graphs::missing_child()).broken_tags();
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert_eq!(broken[0].tag, "v1");
    let total: usize = graphs::disguised_index().packages[0].versions.len();
    assert_eq!(total, 11);
}

fn snapshot(fixture: &ghpkg_mock::Fixture) -> ghpkg_mock::StateSnapshot {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = serve(fixture.clone()).await;
        let state = server.state();
        server.stop().await;
        state
    })
}
