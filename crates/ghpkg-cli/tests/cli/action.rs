//! The composite action at the repository root: every input is one `ghpkg prune` flag (or one
//! of its positional arguments, or the token), every flag worth setting in a workflow is an
//! input, and the step's script, run for real against the emulator, builds the command line
//! and leaves its outputs in `GITHUB_OUTPUT`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_norway::Value;

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

fn action() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../action.yml");
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
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
    let script = prune_step(&action)["run"].as_str().unwrap().to_string();
    for name in inputs(&action).keys() {
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
                script.contains(&format!("--{name} \"${variable}\"")),
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
#[cfg(unix)]
fn the_actions_script_runs_prune_and_sets_its_outputs() {
    let emulator = Emulator::synthetic(5);
    let action = action();
    let step = prune_step(&action);
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("runner/ghpkg/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(ghpkg_path(), bin.join("ghpkg")).unwrap();
    let outputs = dir.path().join("outputs");
    let mut given: BTreeMap<&str, String> = BTreeMap::from([
        ("token", SYNTHETIC_TOKEN.to_string()),
        ("package-type", "npm".into()),
        ("packages", "pkg-0\n".into()),
        ("org", SYNTHETIC_ORG.into()),
        ("api-url", emulator.url()),
        ("keep", "2".into()),
        ("exclude", " re:v\\d+ \n\n".into()),
        ("apply", "true".into()),
        ("yes", "true".into()),
    ]);
    let mut bash = std::process::Command::new("bash");
    bash.arg("-c")
        .arg(step["run"].as_str().unwrap())
        .current_dir(dir.path());
    for (variable, value) in step["env"].as_mapping().unwrap() {
        let input = value
            .as_str()
            .unwrap()
            .trim_start_matches("${{ inputs.")
            .trim_end_matches(" }}");
        let value = given.remove(input).unwrap_or_else(|| {
            action["inputs"][input]["default"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        });
        bash.env(variable.as_str().unwrap(), value);
    }
    assert!(given.is_empty(), "inputs the step does not read: {given:?}");
    let output = bash
        .env("RUNNER_TEMP", dir.path().join("runner"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &outputs)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let written = std::fs::read_to_string(&outputs).unwrap();
    assert!(written.contains("deleted=3\n"), "{written}");
    assert!(written.contains("planned=3\n"), "{written}");
    assert!(written.contains("not-done=0\n"), "{written}");
    assert!(
        written.contains(r#"outcomes=[{"outcome":"pruned","package":"pkg-0","reason":null}]"#),
        "{written}"
    );
    // action.yml's outputs are exactly what the step writes, each passed through by name.
    let names: Vec<&str> = written
        .lines()
        .filter_map(|line| line.split_once('=').map(|(name, _)| name))
        .collect();
    let declared: Vec<String> = action["outputs"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(name, output)| {
            let name = name.as_str().unwrap();
            assert_eq!(
                output["value"].as_str(),
                Some(format!("${{{{ steps.prune.outputs.{name} }}}}").as_str()),
                "output {name}"
            );
            name.to_string()
        })
        .collect();
    assert_eq!(
        names, declared,
        "action.yml's outputs, in the order prune writes them"
    );
    assert_eq!(emulator.server().changes().len(), 3);
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(
        log.contains("exclude re:v\\d+"),
        "the pattern arrived intact:\n{log}"
    );
}
