//! `ghpkg` at a terminal, driven through a pseudo-terminal as a person would drive it: the
//! confirmation prompt, Ctrl-C in the middle of the deletions, and the command it prints to
//! resume, which then finishes the run.

use std::time::Duration;

use ghpkg_mock::MockOptions;
use rexpect::process::WaitStatus;

use crate::support::{
    Emulator, SYNTHETIC_ORG, SYNTHETIC_TOKEN, ghpkg_path, ghpkg_process, printed, synthetic_fixture,
};

/// Waits for the terminal's output, failing with what was seen if it does not come.
const TERMINAL_TIMEOUT_MS: u64 = 60_000;

#[test]
fn at_a_terminal_ctrl_c_stops_the_apply_and_the_command_it_prints_finishes_it() {
    // Every answer 300 ms late: an apply of 38 deletions, 8 at a time, takes seconds.
    let emulator = Emulator::start(MockOptions {
        fixture: synthetic_fixture(40),
        latency: Duration::from_millis(300),
        ..MockOptions::default()
    });
    let url = emulator.url();
    let dir = tempfile::tempdir().unwrap();
    let mut command = ghpkg_process(
        SYNTHETIC_TOKEN,
        &[
            "--api-url",
            &url,
            "--org",
            SYNTHETIC_ORG,
            "prune",
            "npm",
            "pkg-0",
            "--keep",
            "2",
            "--plan-out",
            "plan.json",
            "--apply",
        ],
    );
    command
        .current_dir(dir.path())
        .env("TERM", "dumb")
        .env("NO_COLOR", "1");
    let mut terminal = rexpect::session::spawn_command(command, Some(TERMINAL_TIMEOUT_MS))
        .unwrap_or_else(|error| {
            panic!(
                "this test drives ghpkg through a pseudo-terminal, and none could be opened on \
                 this machine ({error}); it needs /dev/ptmx and a devpts mount"
            )
        });

    // The prompt, answered as a person would.
    terminal
        .exp_string("Delete 38 versions of ")
        .expect("the confirmation prompt");
    terminal.exp_string("? [y/N] ").expect("the question");
    terminal.send_line("y").unwrap();

    // Ctrl-C once the first deletions are journaled (their outcome lines, not the header or
    // the intent lines written before each DELETE).
    let journal = dir.path().join("plan.journal.jsonl");
    let outcomes = |outcome: &str| {
        std::fs::read_to_string(&journal).map_or(0, |text| {
            text.lines()
                .filter(|line| line.contains(&format!("\"outcome\":\"{outcome}\"")))
                .count()
        })
    };
    let mut waited = 0;
    while outcomes("deleted") == 0 {
        assert!(waited < 6_000, "no deletion was journaled");
        std::thread::sleep(Duration::from_millis(10));
        waited += 1;
    }
    terminal.send_control('c').unwrap();
    terminal
        .exp_string("interrupted: finishing the deletions in flight")
        .expect("Ctrl-C is acknowledged");
    let report = terminal
        .exp_string("Resume with: ")
        .expect("the resume line");
    let resume = terminal.read_line().unwrap();
    let rest = terminal.exp_eof().unwrap();
    let status = terminal.process().wait().unwrap();
    assert!(
        matches!(status, WaitStatus::Exited(_, 130)),
        "an interrupted apply exits 130: {status:?}\n{report}{resume}\n{rest}"
    );
    assert!(report.contains("Applied plan"), "what was done: {report}");
    assert!(
        report.contains("pkg-0: not-attempted"),
        "the package is not done: {report}"
    );

    // What was sent is what the journal says was done: the deletions in flight finished.
    let deleted_so_far = emulator.server().changes().len();
    let journaled = outcomes("deleted");
    assert!(
        deleted_so_far > 0 && deleted_so_far < 38,
        "interrupted part-way: {deleted_so_far}"
    );
    assert_eq!(
        journaled, deleted_so_far,
        "every deletion sent is journaled"
    );

    // The command it printed, run as printed (with --yes, as a script would), finishes it.
    let resume = resume.trim();
    assert_eq!(resume, format!("ghpkg --api-url {url} apply plan.json"));
    let words: Vec<&str> = resume.split_whitespace().skip(1).collect();
    let output = assert_cmd::Command::new(ghpkg_path())
        .args(&words)
        .arg("--yes")
        .env("GH_TOKEN", SYNTHETIC_TOKEN)
        .env_remove("GITHUB_ACTIONS")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", printed(&output));
    let changes = emulator.server().changes();
    let mut ids: Vec<i64> = changes.iter().filter_map(|c| c.version_id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(changes.len(), 38, "each planned version deleted once");
    assert_eq!(ids.len(), 38);
}
