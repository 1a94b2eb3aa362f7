//! The composite action at the repository root: every input is one `ghpkg prune` flag (or one
//! of its positional arguments, the token, or one of the action's own), every flag worth setting
//! in a workflow is an input, and a rehearsal runs the action's steps as a runner would
//! (`action_runner`): the install script against a local release server (download, a tampered
//! binary refused, a source build when there is no release), then the prune against the
//! emulator, its outputs, its summary and the files the artifact step uploads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_norway::Value;

use crate::action_runner::{ActionRun, Runner, action, repository, runner_platform};
use crate::support::{Emulator, SYNTHETIC_ORG, SYNTHETIC_TOKEN, ghpkg_path};

/// Flags of `ghpkg prune` that are deliberately not inputs, and why.
const NOT_INPUTS: &[(&str, &str)] = &[
    ("help", "not for workflows"),
    ("version", "not for workflows"),
    ("json", "outputs go to GITHUB_OUTPUT; the log is for people"),
    (
        "quiet",
        "progress is hidden on a runner anyway (no terminal)",
    ),
    ("with-token", "the token input is passed as GH_TOKEN"),
    (
        "demo",
        "the embedded emulator is for trying ghpkg, not for workflows",
    ),
    ("now", "hidden, for reproducible tests"),
    (
        "insecure-skip-tls-verify",
        "a workflow must never send its token over unverified TLS",
    ),
    (
        "time-scale",
        "for rehearsals against a loopback emulator, not workflows",
    ),
];

/// Inputs of the action itself, not of `ghpkg prune`, and what they are for.
const ACTION_INPUTS: &[(&str, &str)] = &[
    ("install", "how the install step gets ghpkg"),
    (
        "release-url",
        "where the install step downloads releases from",
    ),
    ("artifact-name", "the plan and journal artifact's name"),
    ("artifact-retention-days", "how long the artifact is kept"),
];

/// The prune step's script.
fn prune_script() -> String {
    std::fs::read_to_string(repository().join("action/run.sh")).unwrap()
}

fn prune_command() -> clap::Command {
    let mut command = ghpkg_cli::cli::command();
    command.build();
    command.find_subcommand("prune").unwrap().clone()
}

fn inputs(action: &Value) -> BTreeMap<String, Value> {
    action["inputs"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(name, input)| (name.as_str().unwrap().to_string(), input.clone()))
        .collect()
}

fn prune_step(action: &Value) -> &Value {
    action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|step| step["id"].as_str() == Some("prune"))
        .expect("a step with id prune")
}

#[test]
fn every_action_input_names_a_prune_flag_or_argument() {
    let action = action();
    let prune = prune_command();
    let script = prune_script();
    for name in inputs(&action).keys() {
        if ACTION_INPUTS.iter().any(|(input, _)| input == name) {
            continue;
        }
        if name == "token" {
            assert_eq!(
                prune_step(&action)["env"]["GH_TOKEN"].as_str(),
                Some("${{ inputs.token }}")
            );
            continue;
        }
        let id = name.replace('-', "_");
        let argument = prune.get_arguments().find(|arg| {
            arg.get_long() == Some(name.as_str())
                || (arg.is_positional() && arg.get_id().as_str() == id)
        });
        let argument = argument
            .unwrap_or_else(|| panic!("input {name} is no flag or argument of ghpkg prune"));
        let variable = format!("INPUT_{}", id.to_uppercase());
        assert_eq!(
            prune_step(&action)["env"][variable.as_str()].as_str(),
            Some(format!("${{{{ inputs.{name} }}}}").as_str()),
            "input {name} reaches the script as {variable}"
        );
        if !argument.is_positional() {
            assert!(
                script.contains(&format!("--{name} \"${{{variable}:-")),
                "the script passes --{name}"
            );
        }
    }
}

#[test]
fn every_prune_flag_worth_setting_is_an_action_input() {
    let inputs = inputs(&action());
    for argument in prune_command().get_arguments() {
        let Some(long) = argument.get_long() else {
            continue;
        };
        if NOT_INPUTS.iter().any(|(flag, _)| *flag == long) {
            continue;
        }
        assert!(
            inputs.contains_key(long),
            "--{long} has no input in action.yml"
        );
    }
}

#[test]
fn every_input_of_the_action_itself_is_read_by_a_step() {
    let action = action();
    let steps = action["runs"]["steps"].as_sequence().unwrap();
    for (input, purpose) in ACTION_INPUTS {
        let reference = format!("${{{{ inputs.{input} }}}}");
        let read = steps.iter().any(|step| {
            let env = serde_norway::to_string(&step["env"]).unwrap();
            let with = serde_norway::to_string(&step["with"]).unwrap();
            env.contains(&reference) || with.contains(&reference)
        });
        assert!(read, "input {input} ({purpose}) is read by no step");
        assert!(
            action["inputs"][*input]["description"].as_str().is_some(),
            "input {input} is described"
        );
    }
}

/// The version the release under test carries, and its tag.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The release asset for this machine, as the release workflow names it.
fn asset_name() -> String {
    let target = match runner_platform() {
        ("Linux", "X64") => "x86_64-unknown-linux-musl",
        ("Linux", "ARM64") => "aarch64-unknown-linux-musl",
        ("macOS", "X64") => "x86_64-apple-darwin",
        ("macOS", "ARM64") => "aarch64-apple-darwin",
        ("Windows", "X64") => "x86_64-pc-windows-msvc",
        other => panic!("no release for {other:?}"),
    };
    let exe = if cfg!(windows) { ".exe" } else { "" };
    format!("ghpkg-{target}{exe}")
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A release server on loopback: `/TAG/FILE` for the files given, 404 for anything else; it
/// counts the requests for each path.
struct ReleaseServer {
    url: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// Serves until dropped.
    _runtime: tokio::runtime::Runtime,
}

impl ReleaseServer {
    fn start(files: BTreeMap<String, Vec<u8>>) -> ReleaseServer {
        use axum::extract::{Path as UrlPath, State};
        use axum::http::StatusCode;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        type Shared = (
            std::sync::Arc<BTreeMap<String, Vec<u8>>>,
            std::sync::Arc<std::sync::Mutex<Vec<String>>>,
        );
        let state: Shared = (std::sync::Arc::new(files), requests.clone());
        let app = axum::Router::new()
            .route(
                "/{tag}/{file}",
                axum::routing::get(
                    |State((files, requests)): State<Shared>,
                     UrlPath((tag, file)): UrlPath<(String, String)>| async move {
                        let path = format!("{tag}/{file}");
                        requests.lock().unwrap().push(path.clone());
                        match files.get(&path) {
                            Some(bytes) => (StatusCode::OK, bytes.clone()),
                            None => (StatusCode::NOT_FOUND, b"Not Found".to_vec()),
                        }
                    },
                ),
            )
            .with_state(state);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(async move { axum::serve(listener, app).await });
        ReleaseServer {
            url,
            requests,
            _runtime: runtime,
        }
    }

    /// A release `tag` of `binary`, with its `SHA256SUMS` (computed over `listed`, which is the
    /// binary unless a test tampers with one of the two) and `SOURCE_COMMIT`.
    fn release(tag: &str, binary: Vec<u8>, listed: &[u8], commit: &str) -> ReleaseServer {
        let asset = asset_name();
        let sums = format!(
            "{}  ghpkg-some-other-target\n{}  {asset}\n",
            "0".repeat(64),
            sha256_hex(listed)
        );
        ReleaseServer::start(BTreeMap::from([
            (format!("{tag}/{asset}"), binary),
            (format!("{tag}/SHA256SUMS"), sums.into_bytes()),
            (
                format!("{tag}/SOURCE_COMMIT"),
                format!("{commit}\n").into_bytes(),
            ),
        ]))
    }

    fn requested(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn binary_under_test() -> Vec<u8> {
    std::fs::read(ghpkg_path()).unwrap()
}

/// A runner set up to prune `pkg-0` of the synthetic world (npm, keep 2, apply) with the
/// action at `reference`, downloading from `releases`.
fn rehearsal(root: &Path, emulator: &Emulator, releases: &str, reference: &str) -> Runner {
    let mut runner = Runner::new(root);
    runner
        .github
        .insert("action_ref".into(), reference.to_string());
    runner.inputs = BTreeMap::from([
        ("token".into(), SYNTHETIC_TOKEN.to_string()),
        ("package-type".into(), "npm".into()),
        ("packages".into(), "pkg-0\n".into()),
        ("org".into(), SYNTHETIC_ORG.into()),
        ("api-url".into(), emulator.url()),
        ("keep".into(), "2".into()),
        ("exclude".into(), " re:v\\d+ \n\n".into()),
        ("apply".into(), "true".into()),
        ("yes".into(), "true".into()),
        ("release-url".into(), releases.to_string()),
    ]);
    runner.uses = Box::new(|uses, _with| {
        if uses.starts_with("actions/upload-artifact@") {
            BTreeMap::from([(
                "artifact-url".to_string(),
                "https://github.com/acme/site/actions/runs/4242/artifacts/7".to_string(),
            )])
        } else {
            BTreeMap::new()
        }
    });
    runner
}

fn assert_succeeded(run: &ActionRun) {
    assert!(run.succeeded(), "the action failed:\n{}", run.logs());
}

/// The `with:` of the `uses:` step `id`, which must have run.
fn uses_step(run: &ActionRun, id: &str) -> BTreeMap<String, String> {
    let step = run.step(id);
    assert!(step.ran, "step {id} ran");
    step.uses.clone().expect("a uses: step").1
}

#[test]
#[cfg(unix)]
fn the_action_installs_its_release_by_download_verifies_it_and_prunes() {
    let emulator = Emulator::synthetic(5);
    let binary = binary_under_test();
    let tag = format!("v{VERSION}");
    let releases = ReleaseServer::release(&tag, binary.clone(), &binary, &"0".repeat(40));
    let root = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let run = rehearsal(root.path(), &emulator, &releases.url, &tag).run();
    let elapsed = started.elapsed();
    assert_succeeded(&run);
    eprintln!(
        "rehearsal: install (download and verify) to the plan applied in {:.2} s",
        elapsed.as_secs_f64()
    );

    // Installed by download, verified, without a build.
    let install = run.step("install");
    assert!(
        install.log.contains("(matches SHA256SUMS)"),
        "{}",
        install.log
    );
    assert_eq!(run.outputs["installed-from"], "release");
    assert!(!run.step("build").ran, "no source build");
    assert!(!run.step("Restore the build cache").ran);
    let installed = PathBuf::from(&install.outputs["ghpkg"]);
    assert_eq!(std::fs::read(&installed).unwrap(), binary);
    assert!(
        releases
            .requested()
            .contains(&format!("{tag}/{}", asset_name()))
    );
    assert!(
        !releases
            .requested()
            .iter()
            .any(|path| path.ends_with("SOURCE_COMMIT")),
        "a tag needs no commit check"
    );

    // The prune ran, wrote its outputs and summary, and the action passes them through.
    assert_eq!(run.outputs["planned"], "3");
    assert_eq!(run.outputs["deleted"], "3");
    assert_eq!(run.outputs["not-done"], "0");
    assert_eq!(
        run.outputs["outcomes"],
        r#"[{"outcome":"pruned","package":"pkg-0","reason":null}]"#
    );
    assert_eq!(emulator.server().changes().len(), 3);
    assert!(
        run.step("prune").log.contains("exclude re:v\\d+"),
        "the pattern arrived intact:\n{}",
        run.step("prune").log
    );
    // npm has no manifests: no manifest cache.
    assert!(!run.step("Restore the manifest cache").ran);
    assert!(!run.step("Save the manifest cache").ran);

    // The plan and journal are where the upload step takes them, and the outputs say so.
    let upload = uses_step(&run, "upload");
    let run_dir = PathBuf::from(&upload["path"]);
    assert!(run_dir.join("plan.json").is_file());
    let journal = run_dir.join("plan.journal.jsonl");
    assert!(journal.is_file(), "the journal is in {}", run_dir.display());
    assert_eq!(run.outputs["journal"], journal.display().to_string());
    assert_eq!(upload["name"], run.outputs["artifact-name"]);
    assert!(
        upload["name"].starts_with("ghpkg-prune-") && upload["name"].ends_with("-attempt-1"),
        "{}",
        upload["name"]
    );
    assert_eq!(upload["if-no-files-found"], "ignore");
    assert_eq!(
        run.outputs["artifact-url"],
        "https://github.com/acme/site/actions/runs/4242/artifacts/7"
    );
    // The summary: ghpkg's, then the artifact's link and the undo.
    assert!(run.summary.contains("pkg-0"), "{}", run.summary);
    assert!(
        run.summary
            .contains("(https://github.com/acme/site/actions/runs/4242/artifacts/7)"),
        "{}",
        run.summary
    );
    let undo = format!(
        "ghpkg restore --from-log {}/plan.journal.jsonl",
        upload["name"]
    );
    assert!(run.summary.contains(&undo), "{}", run.summary);

    // The undo the summary shows works on the uploaded journal.
    let restore = emulator
        .ghpkg(
            SYNTHETIC_TOKEN,
            &["restore", "--from-log", journal.to_str().unwrap()],
        )
        .output()
        .unwrap();
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
    assert_eq!(
        emulator.server().changes().len(),
        6,
        "3 deleted, 3 restored"
    );
}

#[test]
#[cfg(unix)]
fn a_policy_in_the_repository_takes_the_place_of_the_rule_inputs() {
    let emulator = Emulator::synthetic(5);
    let binary = binary_under_test();
    let tag = format!("v{VERSION}");
    let releases = ReleaseServer::release(&tag, binary.clone(), &binary, &"0".repeat(40));
    let root = tempfile::tempdir().unwrap();
    let mut runner = rehearsal(root.path(), &emulator, &releases.url, &tag);
    for flag_input in ["package-type", "packages", "keep", "exclude"] {
        runner.inputs.remove(flag_input);
    }
    // The same rules as the flag inputs, as a policy file checked into the repository.
    let policy = root.path().join("workspace/.github/ghpkg.toml");
    std::fs::create_dir_all(policy.parent().unwrap()).unwrap();
    std::fs::write(
        &policy,
        "[[rules]]\nname = \"trim pkg-0\"\naction = \"delete\"\ntype = \"npm\"\n\
         packages = [\"pkg-0\"]\nkeep_newest = 2\nexclude_tags = [\"re:v\\\\d+\"]\n",
    )
    .unwrap();
    runner
        .inputs
        .insert("policy".into(), ".github/ghpkg.toml".into());
    let run = runner.run();
    assert_succeeded(&run);
    let prune = run.step("prune");
    assert!(
        prune.log.contains("policy: 1 rule (delete `trim pkg-0`)"),
        "the plan is the policy's:\n{}",
        prune.log
    );
    assert_eq!(run.outputs["planned"], "3");
    assert_eq!(run.outputs["deleted"], "3");
    assert_eq!(run.outputs["not-done"], "0");
    assert_eq!(
        run.outputs["outcomes"],
        r#"[{"outcome":"pruned","package":"pkg-0","reason":null}]"#
    );
    assert_eq!(emulator.server().changes().len(), 3);
    assert!(
        !run.step("Restore the manifest cache").ran,
        "npm has no manifests"
    );
}

#[test]
#[cfg(unix)]
fn the_action_refuses_a_binary_that_does_not_match_sha256sums() {
    let emulator = Emulator::synthetic(5);
    let binary = binary_under_test();
    let mut tampered = binary.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x55;
    let tag = format!("v{VERSION}");
    let releases = ReleaseServer::release(&tag, tampered, &binary, &"0".repeat(40));
    let root = tempfile::tempdir().unwrap();
    let run = rehearsal(root.path(), &emulator, &releases.url, &tag).run();
    let install = run.step("install");
    assert!(!install.succeeded, "the install step fails");
    assert!(
        install.log.contains("does not match SHA256SUMS") && install.log.contains("refusing"),
        "{}",
        install.log
    );
    assert!(install.log.contains("::error"), "an error annotation");
    // Nothing was installed, no build was tried in its place, and nothing was pruned.
    assert!(!root.path().join("runner-temp/ghpkg/bin/ghpkg").exists());
    assert!(!run.step("build").ran, "a mismatch is never papered over");
    assert!(!run.step("prune").ran);
    assert!(emulator.server().changes().is_empty());
    assert!(!run.step("upload").ran, "nothing was prepared to upload");
}

#[test]
#[cfg(unix)]
fn a_pinned_commit_uses_the_release_built_from_it_and_only_that() {
    let emulator = Emulator::synthetic(5);
    let binary = binary_under_test();
    let tag = format!("v{VERSION}");
    let commit = "4f2c1d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e";
    let releases = ReleaseServer::release(&tag, binary.clone(), &binary, commit);
    let root = tempfile::tempdir().unwrap();

    let run = rehearsal(root.path(), &emulator, &releases.url, commit).run();
    assert_succeeded(&run);
    assert_eq!(run.outputs["installed-from"], "release");
    assert!(
        releases
            .requested()
            .contains(&format!("{tag}/SOURCE_COMMIT"))
    );

    // Another commit: the release is not its build, so the install step asks for a build.
    let other = tempfile::tempdir().unwrap();
    let mut runner = rehearsal(other.path(), &emulator, &releases.url, &"a".repeat(40));
    runner.inputs.insert("install".into(), "release".into());
    let run = runner.run();
    let install = run.step("install");
    assert!(!install.succeeded, "install: release never builds");
    assert!(
        install.log.contains(&format!("was built from {commit}")),
        "{}",
        install.log
    );
}

#[test]
#[cfg(unix)]
fn a_ref_without_a_release_is_built_from_the_actions_source_with_its_cache() {
    let emulator = Emulator::synthetic(5);
    // The release server has nothing: no ref's release exists.
    let releases = ReleaseServer::start(BTreeMap::new());
    let root = tempfile::tempdir().unwrap();
    let mut runner = rehearsal(
        root.path(),
        &emulator,
        &releases.url,
        &format!("v{VERSION}"),
    );
    runner.inputs.insert("apply".into(), "false".into());
    runner.inputs.insert("yes".into(), "false".into());
    // The build the action would do, in the dev profile (a runner builds release, cached) and
    // a target directory of its own: this build's would get a `ghpkg` without the demo feature
    // in place of the binary the other tests run.
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("action-source-build");
    runner
        .env
        .insert("GHPKG_BUILD_PROFILE".into(), "dev".into());
    runner.env.insert(
        "GHPKG_BUILD_TARGET_DIR".into(),
        target_dir.display().to_string(),
    );
    // The runner's home is the rehearsal's own; the toolchain is this machine's.
    let home = PathBuf::from(std::env::var("HOME").unwrap_or_default());
    for (variable, default) in [
        ("RUSTUP_HOME", home.join(".rustup")),
        ("CARGO_HOME", home.join(".cargo")),
    ] {
        let value = std::env::var_os(variable).map_or(default, PathBuf::from);
        runner
            .env
            .insert(variable.into(), value.display().to_string());
    }
    if let Ok(toolchain) = std::env::var("RUSTUP_TOOLCHAIN") {
        runner.env.insert("RUSTUP_TOOLCHAIN".into(), toolchain);
    }
    let run = runner.run();
    assert_succeeded(&run);
    let install = run.step("install");
    assert!(install.log.contains("no such release"), "{}", install.log);
    assert_eq!(install.outputs["build"], "true");
    // The cargo cache is restored for the build, keyed by the platform and the lock file.
    let cache = uses_step(&run, "Restore the build cache");
    let (os, arch) = runner_platform();
    assert!(
        cache["key"].starts_with(&format!("ghpkg-build-{os}-{arch}-")),
        "{}",
        cache["key"]
    );
    assert!(cache["path"].contains("~/.cargo/registry"));
    assert!(cache["path"].contains(&install.outputs["build-target-dir"]));
    assert!(run.step("build").ran);
    assert_eq!(run.outputs["installed-from"], "source");
    assert!(run.step("prune").ran);
    assert_eq!(run.outputs["planned"], "3");
    assert!(emulator.server().changes().is_empty(), "a dry run");
}

#[test]
#[cfg(unix)]
fn a_container_prune_restores_and_saves_the_manifest_cache_by_owner_and_registry() {
    // Only the steps before the prune matter here: the prepare step's cache names and the
    // cache steps that use them (with a missing release, the install step fails first when
    // install is `release`, so run with a release).
    let emulator = Emulator::synthetic(1);
    let binary = binary_under_test();
    let tag = format!("v{VERSION}");
    let releases = ReleaseServer::release(&tag, binary.clone(), &binary, &"0".repeat(40));
    let root = tempfile::tempdir().unwrap();
    let mut runner = rehearsal(root.path(), &emulator, &releases.url, &tag);
    runner
        .inputs
        .insert("package-type".into(), "container".into());
    runner.inputs.insert("apply".into(), "false".into());
    runner.inputs.insert("yes".into(), "false".into());
    let run = runner.run();
    let restore = uses_step(&run, "Restore the manifest cache");
    let save = uses_step(&run, "Save the manifest cache");
    let prefix = format!("ghpkg-manifests-{SYNTHETIC_ORG}-ghcr.io-");
    assert_eq!(restore["restore-keys"], prefix);
    assert_eq!(restore["key"], format!("{prefix}4242-1"));
    assert_eq!(save["key"], restore["key"]);
    assert_eq!(save["path"], restore["path"]);
    assert!(
        restore["path"].starts_with(&root.path().join("runner-temp").display().to_string()),
        "{}",
        restore["path"]
    );
    // The prune itself found no container package in the synthetic world, and says so; the
    // cache is saved even then.
    assert!(run.step("prune").ran);
    assert!(run.step("Save the manifest cache").ran);
}
