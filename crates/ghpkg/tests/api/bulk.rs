//! Bulk deletes report one outcome per version; running them again finds the versions gone.

use futures::{StreamExt, TryStreamExt};
use ghpkg::{BulkOutcome, BulkSummary, ItemResult, PackageType};

use crate::{client, demo, mock, tokens};

#[tokio::test]
async fn bulk_delete_reports_each_version_and_a_second_run_finds_them_gone() {
    let server = mock().await;
    let client = client(&server, tokens::OCTOCAT_ALL);
    let web_app = client
        .org(demo::ACME)
        .package(PackageType::Container, demo::WEB_APP);
    let untagged: Vec<u64> = web_app
        .versions()
        .stream()
        .try_filter(|version| std::future::ready(!version.is_tagged()))
        .map_ok(|version| version.id())
        .take(50)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(untagged.len(), 50);

    let first: Vec<BulkOutcome> = web_app.delete_versions(untagged.clone()).collect().await;
    assert_eq!(
        first.iter().map(|outcome| outcome.id).collect::<Vec<_>>(),
        untagged,
        "one outcome per id, in order"
    );
    assert!(
        first
            .iter()
            .all(|outcome| matches!(outcome.result, ItemResult::Deleted)),
        "{first:?}"
    );

    let second: Vec<BulkOutcome> = web_app.delete_versions(untagged.clone()).collect().await;
    let summary: BulkSummary = second.iter().collect();
    assert_eq!(summary.already_gone, 50, "{second:?}");
    assert!(second.iter().all(BulkOutcome::is_success));

    let remaining: usize = web_app
        .versions()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .len();
    assert_eq!(remaining, demo::WEB_APP_VERSION_COUNT - 50);

    let restored: BulkSummary = web_app
        .restore_versions(untagged)
        .collect::<Vec<_>>()
        .await
        .iter()
        .collect();
    assert_eq!(restored.restored, 50, "{restored:?}");
}

#[tokio::test]
async fn bulk_failures_are_per_item() {
    let server = mock().await;
    let client = client(&server, tokens::OCTOCAT_ALL);
    let api = client
        .org(demo::ACME)
        .package(PackageType::Container, demo::API);
    let outcomes: Vec<BulkOutcome> = api
        .delete_versions(
            [demo::API_UNTAGGED_VERSION_ID, demo::API_POPULAR_VERSION_ID].map(|id| id as u64),
        )
        .collect()
        .await;
    assert!(
        matches!(outcomes[0].result, ItemResult::Deleted),
        "{outcomes:?}"
    );
    assert!(
        matches!(
            outcomes[1].error(),
            Some(ghpkg::Error::Refused {
                reason: ghpkg::RefusalReason::TooManyDownloads,
                ..
            })
        ),
        "{outcomes:?}"
    );
}
