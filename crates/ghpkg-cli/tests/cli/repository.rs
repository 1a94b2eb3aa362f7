//! Tests that keep the crate honest: committed schemas are fresh, every command's help has
//! examples, the README's exit-code table is the code's.

use ghpkg_cli::Exit;
use ghpkg_cli::shapes::{SCHEMAS, schema_text};

use crate::support::{ghpkg, json_of, schemas_dir};

#[test]
fn committed_schemas_are_fresh() {
    let update = std::env::var_os("UPDATE_SCHEMA").is_some();
    let mut stale = Vec::new();
    for file in SCHEMAS {
        let path = schemas_dir().join(file.file);
        let expected = schema_text(file);
        if update {
            std::fs::create_dir_all(schemas_dir()).unwrap();
            std::fs::write(&path, &expected).unwrap();
            continue;
        }
        if std::fs::read_to_string(&path).ok().as_deref() != Some(expected.as_str()) {
            stale.push(file.file);
        }
    }
    assert!(
        stale.is_empty(),
        "stale schemas {stale:?}: run `UPDATE_SCHEMA=1 cargo test -p ghpkg-cli` and commit them"
    );
    let committed: Vec<String> = std::fs::read_dir(schemas_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for name in committed {
        assert!(
            SCHEMAS.iter().any(|file| file.file == name),
            "schemas/{name} belongs to no shape; delete it"
        );
    }
}

#[test]
fn every_command_has_help_with_examples() {
    fn walk(command: &clap::Command, path: String, missing: &mut Vec<String>) {
        let leaf = command.get_subcommands().next().is_none();
        if command.get_name() != "help" {
            let examples = command
                .get_after_help()
                .is_some_and(|help| help.to_string().contains("Examples:"));
            if !examples {
                missing.push(path.clone());
            }
        }
        if !leaf {
            for sub in command.get_subcommands() {
                walk(sub, format!("{path} {}", sub.get_name()), missing);
            }
        }
    }
    let mut missing = Vec::new();
    walk(&ghpkg_cli::cli::command(), "ghpkg".into(), &mut missing);
    assert!(missing.is_empty(), "no examples in the help of {missing:?}");
}

#[test]
fn the_readme_exit_code_table_is_the_code() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for exit in Exit::ALL {
        let row = format!("| {} | `{}` |", exit.code(), exit.name());
        assert!(
            readme.contains(&row),
            "README.md lacks the exit-code row `{row}`"
        );
    }
}

#[test]
fn the_readme_names_every_schema() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for file in SCHEMAS {
        assert!(
            readme.contains(file.file),
            "README.md does not document {}",
            file.file
        );
    }
}

#[test]
fn completions_are_scripts_and_their_json_matches_its_schema() {
    let output = ghpkg(&["completions", "bash"]).output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("_ghpkg"));
    let output = ghpkg(&["completions", "fish", "--json"]).output().unwrap();
    assert!(output.status.success());
    let json = json_of(&output, "completions.schema.json");
    assert_eq!(json["shell"], "fish");
    assert!(
        json["script"]
            .as_str()
            .unwrap()
            .contains("complete -c ghpkg")
    );
}
