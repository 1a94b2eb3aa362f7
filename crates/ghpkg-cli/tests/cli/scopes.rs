//! Every command, in each of the three owner scopes, with `--json` output that matches its
//! schema, and the emulator back where it started once everything was restored.

use ghpkg_mock::tokens::OCTOCAT_ALL;
use serde_json::Value;

use crate::support::{Emulator, json_of};

/// One scope's world: the owner flags and the packages to work on.
struct World<'a> {
    owner: &'a [&'a str],
    owner_kind: &'a str,
    package_type: &'a str,
    package: &'a str,
    version_id: i64,
    conflict: &'a str,
    lists_deleted_versions: bool,
}

impl World<'_> {
    fn args<'b>(&'b self, args: &[&'b str]) -> Vec<&'b str> {
        let mut all: Vec<&str> = self.owner.to_vec();
        all.extend_from_slice(args);
        all.push("--json");
        all
    }
}

fn ok(emulator: &Emulator, args: &[&str], schema: &str) -> Value {
    let output = emulator.ghpkg(OCTOCAT_ALL, args).output().unwrap();
    assert!(
        output.status.success(),
        "ghpkg {args:?} exited {:?}:\n{}{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    json_of(&output, schema)
}

fn every_command_works_in(world: World<'_>) {
    let emulator = Emulator::demo();
    let before = emulator.server().state();
    let dir = tempfile::tempdir().unwrap();
    let id = world.version_id.to_string();
    let (t, p) = (world.package_type, world.package);

    let list = ok(
        &emulator,
        &world.args(&["packages", "list", "--type", t]),
        "package-list.schema.json",
    );
    assert_eq!(list["owner"]["kind"], world.owner_kind);
    assert!(
        list["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|package| package["name"] == p)
    );

    let package = ok(
        &emulator,
        &world.args(&["packages", "get", t, p]),
        "package.schema.json",
    );
    assert_eq!(package["name"], p);

    let versions = ok(
        &emulator,
        &world.args(&["versions", "list", t, p]),
        "version-list.schema.json",
    );
    assert_eq!(versions["versions"].as_array().unwrap().len(), 3);

    let version = ok(
        &emulator,
        &world.args(&["versions", "get", t, p, &id]),
        "version.schema.json",
    );
    assert_eq!(version["id"], world.version_id);

    let deleted = ok(
        &emulator,
        &world.args(&["versions", "delete", t, p, &id]),
        "change.schema.json",
    );
    assert_eq!(
        (deleted["action"].as_str(), deleted["version_id"].as_i64()),
        (Some("deleted"), Some(world.version_id))
    );
    assert!(
        emulator
            .server()
            .state()
            .version(world.version_id)
            .unwrap()
            .1
            .is_deleted()
    );

    if world.lists_deleted_versions {
        let listed = ok(
            &emulator,
            &world.args(&["versions", "list", t, p, "--state", "deleted"]),
            "version-list.schema.json",
        );
        assert!(
            listed["versions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["id"] == world.version_id)
        );
    } else {
        // GitHub's user-scope listing has no state filter: a usage error, nothing sent.
        let output = emulator
            .ghpkg(
                OCTOCAT_ALL,
                &world.args(&["versions", "list", t, p, "--state", "deleted"]),
            )
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(
            json_of(&output, "error.schema.json")["error"]["kind"],
            "invalid-input"
        );
    }

    let restored = ok(
        &emulator,
        &world.args(&["versions", "restore", t, p, &id]),
        "change.schema.json",
    );
    assert_eq!(restored["action"], "restored");
    assert!(
        !emulator
            .server()
            .state()
            .version(world.version_id)
            .unwrap()
            .1
            .is_deleted()
    );

    ok(
        &emulator,
        &world.args(&["packages", "delete", t, p, "--yes"]),
        "change.schema.json",
    );
    assert!(
        emulator
            .server()
            .state()
            .packages
            .iter()
            .any(|package| package.name == p && package.is_deleted())
    );
    ok(
        &emulator,
        &world.args(&["packages", "restore", t, p]),
        "change.schema.json",
    );

    let conflicts = ok(
        &emulator,
        &world.args(&["conflicts"]),
        "conflicts.schema.json",
    );
    assert!(
        conflicts["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|package| package["name"] == world.conflict)
    );

    let status = ok(
        &emulator,
        &world.args(&["auth", "status"]),
        "auth-status.schema.json",
    );
    assert_eq!(status["account"]["login"], "octocat");

    let changes_before = emulator.server().changes().len();
    let plan_file = dir.path().join("plan.json");
    let plan_arg = plan_file.to_str().unwrap();
    let pruned = ok(
        &emulator,
        &world.args(&["prune", t, p, "--keep", "1", "--plan-out", plan_arg]),
        "prune.schema.json",
    );
    assert_eq!(pruned["plan"]["deletions"].as_array().unwrap().len(), 2);
    assert!(pruned["apply"].is_null(), "a dry run applies nothing");
    assert_eq!(
        emulator.server().changes().len(),
        changes_before,
        "a dry run changes nothing"
    );

    let applied = ok(
        &emulator,
        &["apply", plan_arg, "--yes", "--json"],
        "run-report.schema.json",
    );
    assert_eq!(applied["counts"]["deleted"], 2);
    let journal = applied["journal"].as_str().unwrap().to_string();
    assert_eq!(
        journal,
        dir.path().join("plan.journal.jsonl").to_str().unwrap()
    );

    let undone = ok(
        &emulator,
        &["restore", "--from-log", &journal, "--json"],
        "run-report.schema.json",
    );
    assert_eq!(undone["counts"]["restored"], 2);

    assert_eq!(
        emulator.server().state(),
        before,
        "everything deleted was restored"
    );
}

#[test]
fn every_command_works_for_an_organization() {
    every_command_works_in(World {
        owner: &["--org", "acme"],
        owner_kind: "organization",
        package_type: "npm",
        package: "left-pad",
        version_id: 400_001,
        conflict: "legacy-image",
        lists_deleted_versions: true,
    });
}

#[test]
fn every_command_works_for_a_user() {
    every_command_works_in(World {
        owner: &["--user", "octocat"],
        owner_kind: "user",
        package_type: "rubygems",
        package: "octo-name",
        version_id: 500_101,
        conflict: "octo-legacy",
        lists_deleted_versions: false,
    });
}

#[test]
fn every_command_works_for_the_authenticated_user() {
    every_command_works_in(World {
        owner: &[],
        owner_kind: "authenticated-user",
        package_type: "rubygems",
        package: "octo-name",
        version_id: 500_101,
        conflict: "octo-legacy",
        lists_deleted_versions: true,
    });
}
