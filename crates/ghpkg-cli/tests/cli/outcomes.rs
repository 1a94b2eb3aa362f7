//! Every package ends as pruned, nothing to do, or not done with a reason, and the run says so
//! the same way everywhere a scheduled job looks: the exit code (7), `--json`, the GitHub
//! Actions outputs, `::error::` annotations and the step summary. A registry behind an
//! untrusted certificate names the certificate and the flag. A rerun of an interrupted
//! `prune --plan-out … --apply` refuses to overwrite the plan and says to run `ghpkg apply`.

use std::collections::BTreeMap;
use std::sync::Arc;

use ghpkg_mock::MockOptions;
use ghpkg_mock::fixture::graphs::{self, OWNER, registry_error};
use serde_json::Value;

use crate::support::{Emulator, json_of, printed};

const TOKEN: &str = ghpkg_mock::tokens::OCTOCAT_ALL;

fn flaky_registry() -> Emulator {
    Emulator::start(MockOptions {
        fixture: graphs::all(),
        ..MockOptions::default()
    })
}

#[test]
fn a_package_held_back_in_github_actions_exits_7_with_its_outputs_annotation_and_summary() {
    let emulator = flaky_registry();
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("outputs");
    let summary = dir.path().join("summary.md");
    for apply in [false, true] {
        let mut args = vec![
            "--org",
            OWNER,
            "prune",
            "container",
            registry_error::PACKAGE,
            "--untagged",
        ];
        if apply {
            args.extend(["--apply", "--yes"]);
        }
        let _ = std::fs::remove_file(&outputs);
        let _ = std::fs::remove_file(&summary);
        let output = emulator
            .ghpkg(TOKEN, &args)
            .current_dir(dir.path())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &outputs)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .output()
            .unwrap();
        let shown = printed(&output);
        assert_eq!(output.status.code(), Some(7), "apply {apply}: {shown}");
        assert!(
            !shown.contains("Nothing to delete."),
            "a held-back package is not 'nothing to delete': {shown}"
        );

        let written = std::fs::read_to_string(&outputs).unwrap();
        let values: BTreeMap<&str, &str> = written
            .lines()
            .filter_map(|line| line.split_once('='))
            .collect();
        assert_eq!(
            (values["planned"], values["deleted"], values["not-done"]),
            ("0", "0", "1"),
            "{written}"
        );
        let outcomes: Value = serde_json::from_str(values["outcomes"]).unwrap();
        assert_eq!(
            outcomes,
            serde_json::json!([{
                "package": registry_error::PACKAGE,
                "outcome": "not-done",
                "reason": "unreadable-graph",
            }])
        );

        let stdout = String::from_utf8_lossy(&output.stdout);
        let annotation = stdout
            .lines()
            .find(|line| line.starts_with("::error "))
            .unwrap_or_else(|| panic!("an ::error:: annotation on stdout: {stdout}"));
        assert!(
            annotation.starts_with(&format!(
                "::error title=ghpkg%3A {} not done (unreadable-graph)::",
                registry_error::PACKAGE
            )),
            "{annotation}"
        );
        assert!(
            annotation.contains("the registry answered 500"),
            "{annotation}"
        );
        assert!(stdout.contains("Not done: 1 package of 1"), "{stdout}");

        let summary = std::fs::read_to_string(&summary).unwrap();
        assert!(
            summary.contains("**Not done: 1 of 1 packages** (exit 7)"),
            "{summary}"
        );
        assert!(
            summary.contains(&format!(
                "| {} | `unreadable-graph` |",
                registry_error::PACKAGE
            )),
            "{summary}"
        );
        assert!(
            summary.contains("Nothing is deleted in a package until every manifest"),
            "the summary says what to do: {summary}"
        );
    }
    assert_eq!(emulator.server().changes(), [], "nothing was deleted");
}

#[test]
fn a_held_back_package_is_not_done_in_json_with_what_to_do() {
    let emulator = flaky_registry();
    let dir = tempfile::tempdir().unwrap();
    let output = emulator
        .ghpkg(
            TOKEN,
            &[
                "--org",
                OWNER,
                "prune",
                "container",
                registry_error::PACKAGE,
                graphs::multi_arch::PACKAGE,
                "--untagged",
                "--plan-out",
                "plan.json",
                "--json",
            ],
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(7), "{}", printed(&output));
    let result = json_of(&output, "prune.schema.json");
    let packages = result["packages"].as_array().unwrap();
    let outcome = |package: &str| {
        packages
            .iter()
            .find(|p| p["package"] == package)
            .unwrap_or_else(|| panic!("{package}: {result}"))
            .clone()
    };
    let held = outcome(registry_error::PACKAGE);
    assert_eq!(
        (held["outcome"].as_str(), held["reason"].as_str()),
        (Some("not-done"), Some("unreadable-graph"))
    );
    assert!(held["detail"].as_str().unwrap().contains("500"), "{held}");
    assert!(held["what_to_do"].is_string(), "{held}");
    let fine = outcome(graphs::multi_arch::PACKAGE);
    assert_eq!(fine["reason"], Value::Null, "{fine}");
    assert_ne!(fine["outcome"], "not-done", "{fine}");

    // Applying that plan later says the same, though it deletes nothing.
    let applied = emulator
        .ghpkg(TOKEN, &["apply", "plan.json", "--yes", "--json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(applied.status.code(), Some(7), "{}", printed(&applied));
    let report = json_of(&applied, "run-report.schema.json");
    let held = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["package"] == registry_error::PACKAGE)
        .unwrap_or_else(|| panic!("{report}"))
        .clone();
    assert_eq!(held["reason"], "unreadable-graph", "{held}");
}

/// An HTTPS server on 127.0.0.1 with the self-signed certificate of `tests/tests/tls/`,
/// answering every request with `404`; its address is returned, and it serves while `runtime`
/// runs.
fn untrusted_registry(runtime: &tokio::runtime::Runtime) -> String {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let certificate =
        CertificateDer::pem_slice_iter(include_bytes!("../../../../tests/tests/tls/cert.pem"))
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("../../../../tests/tests/tls/key.pem"))
        .unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certificate, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address = listener.local_addr().unwrap();
    runtime.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut buffer = [0u8; 4096];
                let _ = tls.read(&mut buffer).await;
                let _ = tls
                    .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    format!("https://127.0.0.1:{}", address.port())
}

#[test]
fn a_registry_with_an_untrusted_certificate_is_named_with_the_flag_that_skips_the_check() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let registry = untrusted_registry(&runtime);
    let emulator = Emulator::demo();
    let dir = tempfile::tempdir().unwrap();
    let output = emulator
        .ghpkg(
            TOKEN,
            &[
                "--org",
                "acme",
                "prune",
                "container",
                "platform/gateway",
                "--untagged",
                "--registry-url",
                &registry,
                "--no-manifest-cache",
                "--json",
            ],
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(7), "{}", printed(&output));
    let result = json_of(&output, "prune.schema.json");
    let package = &result["packages"][0];
    assert_eq!(package["reason"], "tls", "{package}");
    let detail = package["detail"].as_str().unwrap();
    assert!(
        detail.contains("the registry's TLS certificate is not trusted"),
        "{detail}"
    );
    assert!(!detail.contains("could not reach the registry"), "{detail}");
    assert!(
        package["what_to_do"]
            .as_str()
            .unwrap()
            .contains("--insecure-skip-tls-verify"),
        "{package}"
    );
}

#[test]
fn rerunning_prune_over_a_plan_whose_run_did_not_finish_refuses_and_says_to_apply_it() {
    let emulator = Emulator::synthetic(8);
    let dir = tempfile::tempdir().unwrap();
    let prune = |extra: &[&str]| {
        let mut args = vec![
            "--org",
            crate::support::SYNTHETIC_ORG,
            "prune",
            "npm",
            "pkg-0",
            "--keep",
            "2",
            "--plan-out",
            "plan.json",
        ];
        args.extend_from_slice(extra);
        emulator
            .ghpkg(crate::support::SYNTHETIC_TOKEN, &args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let planned = prune(&[]);
    assert!(planned.status.success(), "{}", printed(&planned));
    let plan_path = dir.path().join("plan.json");
    let plan_text = std::fs::read_to_string(&plan_path).unwrap();
    let plan = ghpkg::retention::Plan::from_json(&plan_text).unwrap();
    assert_eq!(plan.deletions.len(), 6);

    // A run that stopped after its first deletion, as an interrupted one leaves its journal.
    let journal_path = dir.path().join("plan.journal.jsonl");
    let mut journal =
        ghpkg::journal::Journal::open(&journal_path, &ghpkg::apply::journal_scope(&plan)).unwrap();
    let first = &plan.deletions[0];
    let decision = plan.packages[0]
        .decisions
        .iter()
        .find(|d| d.id == first.id)
        .unwrap();
    journal
        .append(ghpkg::journal::JournalEntry {
            journal: ghpkg::journal::JOURNAL_VERSION,
            at: chrono::Utc::now(),
            plan: plan.sha256.clone(),
            host: plan.inputs.target.host.clone(),
            owner: plan.inputs.target.owner.clone(),
            package_type: plan.inputs.target.package_type.clone(),
            package: first.package.to_string(),
            version_id: first.id,
            name: first.name.to_string(),
            tags: decision.tags.clone(),
            outcome: ghpkg::journal::Outcome::Deleted,
            reason: ghpkg::journal::JournalReason::Plan(decision.reason),
            detail: None,
        })
        .unwrap();
    drop(journal);
    let requests = emulator.server().stats().total_requests;

    for extra in [&["--apply", "--yes"][..], &[][..]] {
        let again = prune(extra);
        let shown = printed(&again);
        assert_eq!(again.status.code(), Some(1), "{extra:?}: {shown}");
        assert!(shown.contains("whose run did not finish"), "{shown}");
        assert!(
            shown.contains("ghpkg apply plan.json"),
            "it says what finishes the run: {shown}"
        );
        assert_eq!(
            std::fs::read_to_string(&plan_path).unwrap(),
            plan_text,
            "plan.json is not overwritten"
        );
    }
    assert!(
        emulator.server().changes().is_empty(),
        "nothing was deleted by the refused runs"
    );
    assert!(emulator.server().stats().total_requests > requests);

    // What it says to do finishes the run.
    let applied = emulator
        .ghpkg(
            crate::support::SYNTHETIC_TOKEN,
            &["apply", "plan.json", "--yes", "--json"],
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(applied.status.success(), "{}", printed(&applied));
    let report = json_of(&applied, "run-report.schema.json");
    assert_eq!(report["resumed"], 1);
    assert_eq!(report["counts"]["deleted"], 5);
    assert_eq!(report["packages"][0]["outcome"], "pruned");
}
