//! Everything around the operations: rate limits, latency, faults, the Enterprise prefix, the
//! stats endpoint and the binary.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{client, demo, demo_options, failure, link, start_time};
use futures::StreamExt;
use ghpkg_api::operations::{Action, OwnerFamily};
use ghpkg_api::types::PackageType;
use ghpkg_mock::fixture::demo::*;
use ghpkg_mock::{Faults, MockServer, RateLimits, Stats, messages, tokens};

fn version_url(server: &MockServer, id: i64) -> String {
    format!(
        "{}/orgs/acme/packages/container/web%2Fapp/versions/{id}",
        server.base_url()
    )
}

#[tokio::test]
async fn the_enterprise_prefix_serves_the_same_state() {
    let server = demo().await;
    let enterprise =
        ghpkg_api::Client::with_base_url(&server.enterprise_base_url(), Some(tokens::OCTOCAT_ALL));
    let page = enterprise
        .packages_get_all_package_versions_for_package_owned_by_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(WEB_APP)
        .per_page(50)
        .send()
        .await
        .unwrap();
    assert!(page[0].url.starts_with(&server.enterprise_base_url()));
    let next = link(page.headers(), "next").unwrap();
    assert!(
        next.starts_with(&format!(
            "{}/orgs/acme/packages/container/web%2Fapp/versions?",
            server.enterprise_base_url()
        )),
        "{next}"
    );
    let second = enterprise
        .get_page::<Vec<ghpkg_api::types::PackageVersion>>(
            &next,
            Action::ListVersions.spec(OwnerFamily::Org),
        )
        .await
        .unwrap();
    assert_eq!(second.len(), 50);
    enterprise
        .packages_delete_package_version_for_org()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(WEB_APP)
        .package_version_id(WEB_APP_OLDEST_VERSION_ID)
        .send()
        .await
        .unwrap();
    let github = client(&server, tokens::OCTOCAT_ALL)
        .packages_get_package_for_organization()
        .org(ACME)
        .package_type(PackageType::Container)
        .package_name(WEB_APP)
        .send()
        .await
        .unwrap();
    assert_eq!(github.version_count, 2_999);
}

/// The `Link` header and the absolute URLs of a raw answer.
fn urls_of(answer: &str) -> (String, Vec<String>) {
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let link = head
        .lines()
        .find_map(|line| line.strip_prefix("link: "))
        .unwrap_or_else(|| panic!("no Link header in {head}"))
        .to_owned();
    let versions: Vec<serde_json::Value> = serde_json::from_str(body).unwrap();
    let urls = versions
        .iter()
        .flat_map(|v| [&v["url"], &v["html_url"], &v["package_html_url"]])
        .map(|url| url.as_str().unwrap().to_owned())
        .collect();
    (link, urls)
}

#[tokio::test]
async fn link_and_body_urls_use_the_servers_own_address_whatever_the_host_header_says() {
    let server = demo().await;
    for prefix in ["", "/api/v3"] {
        let request = format!(
            "GET {prefix}/orgs/acme/packages/container/web%2Fapp/versions?per_page=2 HTTP/1.1\r\n\
             Host: evil.example\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            tokens::OCTOCAT_ALL
        );
        let answer = common::raw_exchange(&server, &request).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let (link, urls) = urls_of(&answer);
        assert!(!link.contains("evil.example"), "{link}");
        let api_root = format!("{}{prefix}", server.base_url());
        assert!(
            link.starts_with(&format!(
                "<{api_root}/orgs/acme/packages/container/web%2Fapp/versions?per_page=2&page=2>"
            )),
            "{link}"
        );
        assert_eq!(urls.len(), 6);
        for url in urls {
            assert!(url.starts_with(&server.base_url()), "{url}");
            assert!(!url.contains("evil.example"), "{url}");
        }
    }
}

#[tokio::test]
async fn stats_count_answers_by_operation_and_status_and_are_served_as_json() {
    let server = demo().await;
    let octocat = client(&server, tokens::OCTOCAT_ALL);
    for _ in 0..3 {
        octocat
            .packages_get_package_for_authenticated_user()
            .package_type(PackageType::Container)
            .package_name(HELLO_DOCKER)
            .send()
            .await
            .unwrap();
    }
    let missing = octocat
        .packages_get_package_for_authenticated_user()
        .package_type(PackageType::Container)
        .package_name("missing")
        .send()
        .await;
    assert_eq!(failure(missing).await.0, 404);
    reqwest::get(format!("{}/nothing/here", server.base_url()))
        .await
        .unwrap();
    let stats = server.stats();
    assert_eq!(stats.total_requests, 5);
    assert_eq!(
        stats.count("packages/get-package-for-authenticated-user", 200),
        3
    );
    assert_eq!(
        stats.count("packages_get_package_for_authenticated_user", 404),
        1
    );
    assert_eq!(stats.count(ghpkg_mock::UNMATCHED_OPERATION, 404), 1);
    let served: Stats = reqwest::get(format!("{}/_mock/stats", server.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served, stats);
}

fn limited(rate_limits: RateLimits) -> ghpkg_mock::MockOptions {
    ghpkg_mock::MockOptions {
        rate_limits,
        ..demo_options()
    }
}

#[tokio::test]
async fn rate_limit_headers_describe_the_hourly_budget() {
    let server = MockServer::start(limited(RateLimits::github()))
        .await
        .unwrap();
    let response = client(&server, tokens::OCTOCAT_ALL)
        .packages_list_packages_for_authenticated_user()
        .package_type(PackageType::Container)
        .send()
        .await
        .unwrap();
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("x-ratelimit-limit"), "5000");
    assert_eq!(header("x-ratelimit-remaining"), "4999");
    assert_eq!(header("x-ratelimit-used"), "1");
    assert_eq!(header("x-ratelimit-resource"), "core");
    assert_eq!(
        header("x-ratelimit-reset"),
        (start_time().timestamp() + 3600).to_string()
    );
    let off = demo().await;
    let response = client(&off, tokens::OCTOCAT_ALL)
        .packages_list_packages_for_authenticated_user()
        .package_type(PackageType::Container)
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("x-ratelimit-limit").is_none());
}

#[tokio::test]
async fn an_exhausted_primary_budget_is_refused_until_the_hour_is_over() {
    let server = MockServer::start(limited(RateLimits {
        primary_per_hour: 5,
        ..RateLimits::github()
    }))
    .await
    .unwrap();
    let octocat = client(&server, tokens::OCTOCAT_READ);
    let get = || {
        octocat
            .packages_get_package_for_authenticated_user()
            .package_type(PackageType::Container)
            .package_name(HELLO_DOCKER)
            .send()
    };
    for remaining in (0..5).rev() {
        let response = get().await.unwrap();
        assert_eq!(
            response.headers()["x-ratelimit-remaining"],
            remaining.to_string().as_str()
        );
    }
    let refused = get().await.unwrap_err();
    let ghpkg_api::Error::ErrorResponse(response) = refused else {
        panic!("expected a 403 error response");
    };
    assert_eq!(response.status(), 403);
    assert_eq!(response.headers()["x-ratelimit-remaining"], "0");
    assert_eq!(
        response.into_inner().message.as_deref(),
        Some(format!("API rate limit exceeded for user ID {OCTOCAT_ID}.").as_str())
    );
    // Another token has its own budget.
    assert!(
        client(&server, tokens::OCTOCAT_ALL)
            .packages_get_package_for_authenticated_user()
            .package_type(PackageType::Container)
            .package_name(HELLO_DOCKER)
            .send()
            .await
            .is_ok()
    );
    server.clock().advance(Duration::from_secs(3600));
    assert!(get().await.is_ok());
    assert_eq!(server.stats().rate_limit_rejections.primary, 1);
}

#[tokio::test]
async fn the_request_crossing_900_points_a_minute_is_refused_and_changes_nothing() {
    let server = MockServer::start(limited(RateLimits::github()))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = version_url(&server, WEB_APP_LATEST_VERSION_ID);
    // 896 points of GETs (1 point each), sent 16 at a time.
    let statuses: Vec<u16> = futures::stream::iter(0..896)
        .map(|_| {
            let request = http.get(&url).bearer_auth(tokens::OCTOCAT_ALL).send();
            async move { request.await.unwrap().status().as_u16() }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 200));
    // A DELETE costs 5: 896 + 5 crosses 900.
    let victim = version_url(&server, WEB_APP_OLDEST_VERSION_ID);
    let refused = http
        .delete(&victim)
        .bearer_auth(tokens::OCTOCAT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["message"], messages::SECONDARY_RATE_LIMIT);
    assert!(
        !server
            .state()
            .version(WEB_APP_OLDEST_VERSION_ID)
            .unwrap()
            .1
            .is_deleted()
    );
    // Four points are still free for GETs.
    for _ in 0..4 {
        let ok = http
            .get(&url)
            .bearer_auth(tokens::OCTOCAT_ALL)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
    }
    let over = http
        .get(&url)
        .bearer_auth(tokens::OCTOCAT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), 403);
    // After the minute, the DELETE goes through.
    server.clock().advance(Duration::from_secs(60));
    let accepted = http
        .delete(&victim)
        .bearer_auth(tokens::OCTOCAT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 204);
    assert_eq!(server.stats().rate_limit_rejections.secondary, 2);
}

#[tokio::test]
async fn a_time_scale_shortens_the_secondary_window() {
    let server = MockServer::start(limited(RateLimits {
        secondary_points_per_minute: 10,
        time_scale: 60.0,
        ..RateLimits::github()
    }))
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let url = version_url(&server, WEB_APP_LATEST_VERSION_ID);
    for _ in 0..10 {
        let ok = http
            .get(&url)
            .bearer_auth(tokens::HUBOT_ALL)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
    }
    let refused = http
        .get(&url)
        .bearer_auth(tokens::HUBOT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.headers()["retry-after"], "1");
    server.clock().advance(Duration::from_secs(1));
    let ok = http
        .get(&url)
        .bearer_auth(tokens::HUBOT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn requests_beyond_the_concurrency_limit_are_refused() {
    let server = MockServer::start(ghpkg_mock::MockOptions {
        latency: Duration::from_millis(300),
        ..limited(RateLimits {
            max_concurrent: 4,
            ..RateLimits::github()
        })
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let url = version_url(&server, WEB_APP_LATEST_VERSION_ID);
    let requests = (0..6).map(|_| {
        let request = http.get(&url).bearer_auth(tokens::OCTOCAT_ALL).send();
        async move { request.await.unwrap().status().as_u16() }
    });
    let mut statuses = futures::future::join_all(requests).await;
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 200, 403, 403]);
    assert_eq!(server.stats().rate_limit_rejections.secondary, 2);
}

#[tokio::test]
async fn latency_and_jitter_delay_every_answer() {
    let server = MockServer::start(ghpkg_mock::MockOptions {
        latency: Duration::from_millis(80),
        jitter: Duration::from_millis(40),
        ..demo_options()
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let started = Instant::now();
    let response = http
        .get(version_url(&server, WEB_APP_LATEST_VERSION_ID))
        .bearer_auth(tokens::OCTOCAT_ALL)
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(response.status(), 200);
    assert!(elapsed >= Duration::from_millis(80), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1_000), "{elapsed:?}");
}

fn faulty(faults: &str, seed: u64) -> ghpkg_mock::MockOptions {
    ghpkg_mock::MockOptions {
        faults: faults.parse::<Faults>().unwrap(),
        seed,
        ..demo_options()
    }
}

async fn statuses(server: &MockServer, count: usize) -> Vec<u16> {
    let http = reqwest::Client::new();
    let url = version_url(server, WEB_APP_LATEST_VERSION_ID);
    let mut statuses = Vec::with_capacity(count);
    for _ in 0..count {
        let response = http.get(&url).bearer_auth(tokens::OCTOCAT_ALL).send().await;
        statuses.push(response.unwrap().status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn server_errors_appear_at_the_configured_rate_and_repeat_with_the_seed() {
    let server = MockServer::start(faulty("500=0.2", 7)).await.unwrap();
    let first = statuses(&server, 500).await;
    let errors = first.iter().filter(|s| **s >= 500).count();
    assert!((75..=125).contains(&errors), "{errors} errors in 500");
    assert!(first.iter().all(|s| [200, 500, 502, 503].contains(s)));
    for status in [500, 502, 503] {
        assert!(first.contains(&status), "no {status}");
    }
    let stats = server.stats();
    assert_eq!(stats.faults.errors, errors as u64);
    assert_eq!(stats.faults_injected(), errors as u64);

    let again = MockServer::start(faulty("500=0.2", 7)).await.unwrap();
    assert_eq!(statuses(&again, 500).await, first);
}

fn is_deleted(server: &MockServer, version_id: i64) -> bool {
    server.state().version(version_id).unwrap().1.is_deleted()
}

#[tokio::test]
async fn a_dropped_connection_answers_nothing_and_changes_nothing() {
    let server = MockServer::start(faulty("drop=1", 0)).await.unwrap();
    let http = reqwest::Client::new();
    let result = http
        .delete(version_url(&server, WEB_APP_OLDEST_VERSION_ID))
        .bearer_auth(tokens::OCTOCAT_ALL)
        .send()
        .await;
    let error = result.expect_err("the connection should be dropped");
    assert!(error.status().is_none(), "{error:?}");
    assert!(!is_deleted(&server, WEB_APP_OLDEST_VERSION_ID));
    assert!(server.changes().is_empty());
    let stats = server.stats();
    assert!(stats.faults.drops >= 1);
    assert_eq!(
        stats.count_operation("packages/delete-package-version-for-org"),
        0
    );
}

#[tokio::test]
async fn a_lost_answer_applies_the_change_and_then_closes_the_connection() {
    let server = MockServer::start(faulty("lost=1", 0)).await.unwrap();
    let http = reqwest::Client::builder()
        .retry(reqwest::retry::never())
        .build()
        .unwrap();
    let result = http
        .delete(version_url(&server, WEB_APP_OLDEST_VERSION_ID))
        .bearer_auth(tokens::OCTOCAT_ALL)
        .send()
        .await;
    let error = result.expect_err("the answer should be lost");
    assert!(error.status().is_none(), "{error:?}");
    assert!(is_deleted(&server, WEB_APP_OLDEST_VERSION_ID));
    let changes = server.changes();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].version_id, Some(WEB_APP_OLDEST_VERSION_ID));
    let stats = server.stats();
    assert_eq!(stats.faults.lost, 1);
    assert_eq!(stats.faults.drops, 0);
    assert_eq!(
        stats.count_operation("packages/delete-package-version-for-org"),
        0,
        "a lost answer has no status"
    );
}

#[tokio::test]
async fn a_truncated_read_breaks_off_its_body() {
    let server = MockServer::start(faulty("truncate=1", 0)).await.unwrap();
    let response = reqwest::Client::new()
        .get(version_url(&server, WEB_APP_LATEST_VERSION_ID))
        .bearer_auth(tokens::OCTOCAT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.is_err());
    assert_eq!(server.stats().faults.truncations, 1);
}

#[tokio::test]
async fn a_truncated_change_is_applied_and_its_answer_breaks_off() {
    let server = MockServer::start(faulty("truncate=1", 0)).await.unwrap();
    let http = reqwest::Client::builder()
        .retry(reqwest::retry::never())
        .build()
        .unwrap();
    let result = http
        .delete(version_url(&server, WEB_APP_OLDEST_VERSION_ID))
        .bearer_auth(tokens::OCTOCAT_ALL)
        .send()
        .await;
    let error = result.expect_err("a 204 cut short is no answer");
    assert!(error.status().is_none(), "{error:?}");
    assert!(is_deleted(&server, WEB_APP_OLDEST_VERSION_ID));
    assert_eq!(server.changes().len(), 1);
    // A change refused by the handler keeps its status; its body is cut.
    let refused = http
        .delete(version_url(&server, WEB_APP_OLDEST_VERSION_ID))
        .bearer_auth(tokens::OCTOCAT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
    assert!(refused.bytes().await.is_err());
    assert_eq!(server.changes().len(), 1);
    assert_eq!(server.stats().faults.truncations, 2);
}

#[tokio::test]
async fn the_raw_answer_of_a_truncated_change_stops_inside_the_status_line() {
    let server = MockServer::start(faulty("truncate=1", 0)).await.unwrap();
    let answer = common::raw_exchange(
        &server,
        &format!(
            "DELETE /orgs/acme/packages/container/web%2Fapp/versions/{WEB_APP_OLDEST_VERSION_ID} HTTP/1.1\r\n\
             Host: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\r\n",
            tokens::OCTOCAT_ALL
        ),
    )
    .await;
    assert_eq!(answer, "HTTP/1.1 204");
    assert!(is_deleted(&server, WEB_APP_OLDEST_VERSION_ID));
}

#[tokio::test]
async fn server_errors_take_only_the_configured_statuses() {
    let server = MockServer::start(faulty("5xx=1:502", 3)).await.unwrap();
    let statuses = statuses(&server, 50).await;
    assert!(statuses.iter().all(|s| *s == 502), "{statuses:?}");
    assert_eq!(server.stats().faults.errors, 50);
}

#[tokio::test]
async fn an_injected_secondary_limit_refuses_with_or_without_retry_after_and_changes_nothing() {
    for (spec, retry_after) in [
        ("secondary=1", Some("60")),
        ("secondary=1:15s", Some("15")),
        ("secondary=1:none", None),
    ] {
        let server = MockServer::start(faulty(spec, 0)).await.unwrap();
        let response = reqwest::Client::new()
            .delete(version_url(&server, WEB_APP_OLDEST_VERSION_ID))
            .bearer_auth(tokens::OCTOCAT_ALL)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{spec}");
        assert_eq!(
            response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap()),
            retry_after,
            "{spec}"
        );
        assert_eq!(
            response.headers()["x-accepted-oauth-scopes"],
            "delete:packages, read:packages"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["message"], messages::SECONDARY_RATE_LIMIT);
        assert!(!is_deleted(&server, WEB_APP_OLDEST_VERSION_ID), "{spec}");
        assert!(server.changes().is_empty(), "{spec}");
        let stats = server.stats();
        assert_eq!(stats.faults.secondary_limits, 1, "{spec}");
        assert_eq!(stats.rate_limit_rejections.secondary, 0, "{spec}");
    }
}

#[tokio::test]
async fn an_injected_429_refuses_and_changes_nothing() {
    let server = MockServer::start(faulty("429=1:2s", 0)).await.unwrap();
    let response = reqwest::Client::new()
        .delete(version_url(&server, WEB_APP_OLDEST_VERSION_ID))
        .bearer_auth(tokens::OCTOCAT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "2");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["message"], messages::SECONDARY_RATE_LIMIT);
    assert!(!is_deleted(&server, WEB_APP_OLDEST_VERSION_ID));
    assert!(server.changes().is_empty());
    assert_eq!(server.stats().faults.too_many_requests, 1);
    assert_eq!(server.stats().count_status(429), 1);
}

#[tokio::test]
async fn mixed_faults_repeat_with_the_seed() {
    let spec = "5xx=0.1:503,secondary=0.1:none,429=0.1,slow=0.1:1ms";
    let first = MockServer::start(faulty(spec, 11)).await.unwrap();
    let again = MockServer::start(faulty(spec, 11)).await.unwrap();
    let statuses_first = statuses(&first, 200).await;
    assert_eq!(statuses(&again, 200).await, statuses_first);
    for status in [200, 403, 429, 503] {
        assert!(statuses_first.contains(&status), "no {status}");
    }
    assert_eq!(first.stats().faults, again.stats().faults);
}

#[tokio::test]
async fn a_slow_fault_adds_its_delay() {
    let server = MockServer::start(faulty("slow=1:150ms", 0)).await.unwrap();
    let started = Instant::now();
    let statuses = statuses(&server, 2).await;
    assert_eq!(statuses, [200, 200]);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(server.stats().faults.slowdowns, 2);
}

#[tokio::test]
async fn an_inconsistent_fixture_or_fault_spec_is_refused_at_start() {
    let fixture = ghpkg_mock::Fixture {
        tokens: vec![ghpkg_mock::fixture::FixtureToken {
            token: "t".into(),
            user: "ghost".into(),
            scopes: vec![],
        }],
        ..Default::default()
    };
    let error = MockServer::start(ghpkg_mock::MockOptions {
        fixture,
        ..demo_options()
    })
    .await
    .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    let error = MockServer::start(ghpkg_mock::MockOptions {
        faults: Faults {
            error_rate: 3.0,
            ..Faults::none()
        },
        ..demo_options()
    })
    .await
    .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn stopping_the_server_closes_the_port() {
    let server = demo().await;
    let url = version_url(&server, WEB_APP_LATEST_VERSION_ID);
    server.stop().await;
    let result = reqwest::Client::new()
        .get(url)
        .bearer_auth(tokens::OCTOCAT_ALL)
        .send()
        .await;
    assert!(result.is_err());
}

/// Kills the child process however the test ends, so a failed assertion leaves no server behind.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_binary_prints_its_url_and_tokens_then_serves() {
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_ghpkg-mock"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--latency",
                "1ms",
                "--idle-timeout",
                "5s",
                "--max-connections",
                "16",
                "--faults",
                "5xx=0.01:502|503,lost=0.01",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .strip_prefix("ghpkg-mock listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    let rest: Vec<String> = lines.by_ref().take(12).map(Result::unwrap).collect();
    assert!(
        rest.iter().any(
            |l| l.contains("connections: at most 16, closed after 5s idle")
                && l.contains("faults: 5xx=0.01:502|503,lost=0.01")
        ),
        "{rest:#?}"
    );
    assert!(
        rest.iter()
            .any(|l| l.contains(tokens::OCTOCAT_NORESTORE) && l.contains("delete:packages"))
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let response = runtime.block_on(async {
        reqwest::Client::new()
            .get(format!("{base}/orgs/acme/packages?package_type=container"))
            .bearer_auth(tokens::OCTOCAT_ALL)
            .send()
            .await
            .unwrap()
    });
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-ratelimit-limit"], "5000");
}

#[test]
fn the_binary_prints_a_synthetic_fixture_that_loads() {
    let output = Command::new(env!("CARGO_BIN_EXE_ghpkg-mock"))
        .args([
            "fixture",
            "--synthetic",
            "--orgs",
            "1",
            "--users",
            "1",
            "--packages",
            "2",
            "--versions",
            "3",
            "--types",
            "container,npm",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let fixture =
        ghpkg_mock::Fixture::from_json(&String::from_utf8(output.stdout).unwrap()).unwrap();
    assert_eq!(fixture.packages.len(), 4);
    assert_eq!(fixture.packages[1].package_type, PackageType::Npm);
}
