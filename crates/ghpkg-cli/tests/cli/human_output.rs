//! What people read, pinned by snapshots: the demo's prune plans with a fixed "now". The
//! emulator's port and the plan's hash (which covers the host) differ per run and are masked.

use crate::support::ghpkg;

const NOW: &str = "2025-06-01T12:00:00Z";

fn demo(args: &[&str]) -> String {
    let output = ghpkg(&["--demo", "--now", NOW])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn masked(name: &str, text: &str) {
    insta::with_settings!({
        filters => vec![
            (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
            (r"\b[0-9a-f]{64}\b", "SHA256"),
        ],
    }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn the_demo_prune_of_an_npm_package_lists_each_deletion_with_its_reason() {
    masked(
        "prune_npm_left_pad",
        &demo(&["prune", "npm", "left-pad", "--keep", "1"]),
    );
}

#[test]
fn the_demo_prune_of_multi_arch_images_shows_what_each_index_carries() {
    masked(
        "prune_container_gateway",
        &demo(&[
            "prune",
            "container",
            "platform/gateway",
            "--keep",
            "2",
            "--no-manifest-cache",
        ]),
    );
}

#[test]
fn verbose_lists_every_kept_version_with_its_place_in_the_graph() {
    masked(
        "prune_container_gateway_verbose",
        &demo(&[
            "prune",
            "container",
            "platform/gateway",
            "--keep",
            "3",
            "--no-manifest-cache",
            "--verbose",
        ]),
    );
}

#[test]
fn a_dry_run_titles_its_deletions_as_to_be_done_not_done() {
    let text = demo(&["prune", "npm", "left-pad", "--keep", "1"]);
    assert!(text.contains("\n  To delete\n"), "{text}");
    assert!(!text.contains("Deleted"), "{text}");
}

#[test]
fn human_output_has_no_colour_when_not_on_a_terminal() {
    let text = demo(&["prune", "npm", "left-pad", "--keep", "1"]);
    assert!(!text.contains('\u{1b}'), "escape codes in piped output");
    let forced = ghpkg(&[
        "--demo", "--now", NOW, "prune", "npm", "left-pad", "--keep", "1",
    ])
    .env("CLICOLOR_FORCE", "1")
    .env("NO_COLOR", "1")
    .output()
    .unwrap();
    assert!(
        !String::from_utf8_lossy(&forced.stdout).contains('\u{1b}'),
        "NO_COLOR wins"
    );
    let coloured = ghpkg(&[
        "--demo", "--now", NOW, "prune", "npm", "left-pad", "--keep", "1",
    ])
    .env("CLICOLOR_FORCE", "1")
    .output()
    .unwrap();
    assert!(
        String::from_utf8_lossy(&coloured.stdout).contains('\u{1b}'),
        "CLICOLOR_FORCE forces colour"
    );
}

#[test]
fn an_apply_to_container_images_says_how_to_verify_them_and_one_to_npm_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.journal.jsonl");
    let journal = journal.to_str().unwrap();
    let images = demo(&[
        "prune",
        "container",
        "platform/gateway",
        "--untagged",
        "--apply",
        "--yes",
        "--journal",
        journal,
    ]);
    assert!(
        images.contains(
            "Check every tag still pulls whole: ghpkg --org acme verify container platform/gateway"
        ),
        "{images}"
    );
    std::fs::remove_file(journal).unwrap();
    let npm = demo(&[
        "prune",
        "npm",
        "left-pad",
        "--keep",
        "1",
        "--apply",
        "--yes",
        "--journal",
        journal,
    ]);
    assert!(npm.contains("Undo within 30 days"), "{npm}");
    assert!(!npm.contains("verify"), "{npm}");
}
