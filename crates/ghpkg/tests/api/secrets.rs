//! The token never shows: not in `Debug` or `Display` output, not in errors, not in logs.

use std::io::Write;
use std::sync::{Arc, Mutex};

use ghpkg::{Client, Pacing, PackageType};
use tracing_subscriber::layer::SubscriberExt;

use crate::{builder, demo, mock, tokens};

/// A log sink that keeps everything written to it.
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

fn assert_secret_free(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{what} shows a token: {text}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_token_never_appears_in_debug_display_errors_or_logs() {
    let logs = Captured::default();
    let sink = logs.clone();
    // ghpkg's own logs (the library and its generated client), at every level; the emulator
    // runs in this process too, but its logs are not what this test is about.
    let ours = tracing_subscriber::filter::filter_fn(|metadata| {
        let target = metadata.target();
        target == "ghpkg" || target.starts_with("ghpkg::") || target.starts_with("ghpkg_api")
    });
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish()
        .with(ours);
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = mock().await;
    let restore_token = "ghp_restore_secret_0123456789";
    let bogus = "ghp_bogus_secret_0123456789";
    let secrets = [tokens::OCTOCAT_READ, restore_token, bogus];

    let configured = builder(&server).token(tokens::OCTOCAT_READ);
    assert_secret_free("builder Debug", &format!("{configured:?}"), &secrets);
    let client = configured.build().unwrap();
    let package = client
        .org(demo::ACME)
        .package(PackageType::Npm, demo::LEFT_PAD);
    for (what, debug) in [
        ("client", format!("{client:?}")),
        ("api client", format!("{:?}", client.api())),
        ("scope", format!("{:?}", client.org(demo::ACME))),
        ("package handle", format!("{package:?}")),
        ("version handle", format!("{:?}", package.version(1))),
        ("listing", format!("{:?}", package.versions())),
    ] {
        assert_secret_free(what, &debug, &secrets);
    }

    let mut errors = Vec::new();
    package.get().await.unwrap();
    errors.push(
        package
            .version(demo::LEFT_PAD_VERSION_IDS[0] as u64)
            .delete()
            .await
            .unwrap_err(),
    );
    errors.push(package.restore_with_token(restore_token).await.unwrap_err());
    let unauthorized = builder(&server).token(bogus).build().unwrap();
    errors.push(
        unauthorized
            .org(demo::ACME)
            .package(PackageType::Npm, demo::LEFT_PAD)
            .get()
            .await
            .unwrap_err(),
    );

    // A transport error carries the request URL: the restore token in it must be redacted.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let unreachable = Client::builder()
        .base_url(format!("http://127.0.0.1:{closed}"))
        .token(tokens::OCTOCAT_READ)
        // Retries log each transport error: those logs must not carry the restore token either.
        .pacing(Pacing {
            max_retries: 2,
            backoff_base: std::time::Duration::from_millis(1),
            backoff_max: std::time::Duration::from_millis(5),
            ..Pacing::default()
        })
        .build()
        .unwrap();
    let transport = unreachable
        .org(demo::ACME)
        .package(PackageType::Npm, demo::LEFT_PAD)
        .restore_with_token(restore_token)
        .await
        .unwrap_err();
    assert!(
        matches!(transport, ghpkg::Error::Transport { .. }),
        "{transport:?}"
    );
    errors.push(transport);

    for error in &errors {
        assert_secret_free("error Display", &error.to_string(), &secrets);
        assert_secret_free("error Debug", &format!("{error:?}"), &secrets);
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            assert_secret_free("error source", &inner.to_string(), &secrets);
            source = inner.source();
        }
    }

    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(!logged.is_empty(), "nothing was logged");
    assert_secret_free("logs", &logged, &secrets);
}
