//! Security: TLS is verified unless explicitly turned off, and an untrusted certificate is named
//! as such. (That the token never reaches a log line is `token_in_logs.rs`, a process of its own.)

use std::sync::Arc;

use ghpkg::{Client, ErrorKind, PackageType};
use ghpkg_mock::fixture::demo;
use ghpkg_mock::{MockOptions, MockServer, tokens};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An HTTPS server on 127.0.0.1 with a self-signed certificate (`tests/tls/`), answering every
/// request with an empty JSON list.
async fn self_signed_server() -> String {
    let certificate = CertificateDer::pem_slice_iter(include_bytes!("tls/cert.pem"))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("tls/key.pem")).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certificate, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut buffer = [0u8; 4096];
                let _ = tls.read(&mut buffer).await;
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n[]",
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://127.0.0.1:{}", address.port())
}

#[tokio::test]
async fn tls_is_verified_by_default_and_skipping_it_takes_an_explicit_setting() {
    let base = self_signed_server().await;
    let verified = Client::builder()
        .base_url(&base)
        .token("ghp_secret_over_tls")
        .build()
        .unwrap();
    let error = verified.org("acme").docker_conflicts().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");

    let unverified = Client::builder()
        .base_url(&base)
        .token("ghp_secret_over_tls")
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let conflicts = unverified.org("acme").docker_conflicts().await.unwrap();
    assert!(conflicts.is_empty());
}

#[tokio::test]
async fn an_untrusted_certificate_is_named_as_such_by_the_api_and_the_registry() {
    let base = self_signed_server().await;
    let client = Client::builder()
        .base_url(&base)
        .token("ghp_secret_over_tls")
        .build()
        .unwrap();
    let error = client.org("acme").docker_conflicts().await.unwrap_err();
    assert!(
        error.summary().contains("TLS certificate is not trusted")
            && error.summary().contains("CaUsedAsEndEntity"),
        "{error}"
    );
    assert!(
        error.hint().contains("danger_accept_invalid_certs"),
        "{}",
        error.hint()
    );
    assert_eq!(client.requests_sent(), 1, "a certificate is not retried");

    // The registry behind an untrusted certificate, the API the emulator's.
    let server = MockServer::start(MockOptions::default()).await.unwrap();
    let api = Client::builder()
        .base_url(server.base_url())
        .token(tokens::OCTOCAT_ALL)
        .build()
        .unwrap();
    let registry = ghpkg::registry::Registry::new(
        &api,
        ghpkg::registry::RegistryOptions {
            url: Some(base),
            ..Default::default()
        },
    )
    .unwrap();
    let scope = api.org(demo::ACME);
    let target = scope.target(&PackageType::Container, None);
    let rules = ghpkg::retention::Rules {
        tag_selection: Some(ghpkg::retention::TagSelection::Untagged),
        ..Default::default()
    };
    scope
        .package(PackageType::Container, demo::GATEWAY)
        .facts_for_plan(&registry, &target, &rules, chrono::Utc::now(), &|_| {})
        .await
        .unwrap();
    let problem = registry
        .last_problem()
        .expect("the registry's problem is kept");
    assert_eq!(
        problem.kind,
        ghpkg::registry::RegistryProblemKind::Untrusted
    );
    assert!(
        problem
            .message
            .contains("the registry's TLS certificate is not trusted: it is not accepted"),
        "{}",
        problem.message
    );
    server.stop().await;
}
