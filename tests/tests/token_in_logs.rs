//! The token (and GitHub's restore token) never reach a log line, even at trace level, an error
//! or a `Debug` output. Alone in its test binary: `tracing` caches per call site whether anyone
//! listens, so a test without a subscriber running beside it on another thread could leave this
//! one's call sites silent.

use std::io::Write;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use ghpkg::{Client, PackageType};
use ghpkg_mock::fixture::demo;
use ghpkg_mock::{MockOptions, MockServer, tokens};

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_token_never_reaches_trace_logs_errors_or_debug_output() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let restore_token = "pkg_restore_secret_123";
    let mut printed = String::new();
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let server = MockServer::start(MockOptions::default()).await.unwrap();
            let client = Client::builder()
                .base_url(server.base_url())
                .token(tokens::OCTOCAT_ALL)
                .build()
                .unwrap();
            let web_app = client
                .org(demo::ACME)
                .package(PackageType::Container, demo::WEB_APP);
            let _: Vec<_> = web_app.versions().stream().take(150).collect().await;
            let ids = [demo::WEB_APP_OLDEST_VERSION_ID as u64, 999_999_999];
            let outcomes: Vec<_> = web_app.delete_versions(ids).collect().await;
            printed.push_str(&format!("{outcomes:?}"));
            let missing = client
                .org(demo::ACME)
                .package(PackageType::Container, "no-such-image")
                .restore_with_token(restore_token)
                .await
                .unwrap_err();
            printed.push_str(&format!("{missing} {missing:?}"));
            let read_only = Client::builder()
                .base_url(server.base_url())
                .token(tokens::OCTOCAT_READ)
                .build()
                .unwrap();
            let refused = read_only
                .org(demo::ACME)
                .package(PackageType::Container, demo::WEB_APP)
                .delete()
                .await
                .unwrap_err();
            printed.push_str(&format!("{refused} {refused:?} {client:?} {read_only:?}"));
            server.stop().await;
        });
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.len() > 1000,
        "trace logging was captured ({} bytes)",
        logs.len()
    );
    for secret in [tokens::OCTOCAT_ALL, tokens::OCTOCAT_READ, restore_token] {
        assert!(!logs.contains(secret), "{secret} is in the trace logs");
        assert!(
            !printed.contains(secret),
            "{secret} is in an error or Debug output"
        );
    }
}
