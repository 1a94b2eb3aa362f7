//! `ghpkg`, the command line of the ghpkg toolkit: list, inspect, delete and restore GitHub
//! Packages and their versions in the three owner scopes, and prune them with retention plans
//! that are printed (and saved) before anything is deleted. It is the only crate of the
//! workspace that prints.
//!
//! This library holds the whole program, so that tests can introspect the command tree and the
//! JSON shapes; the `ghpkg` binary only calls [`main`]. The user's guide is the crate's
//! README.md.
//!
//! # Map
//!
//! - [`cli`]: the command tree (clap), with every flag and the examples `--help` shows.
//! - [`connection`]: where requests go and as whom — the API root, token and owner precedence,
//!   and the embedded emulator of `--demo`.
//! - [`commands`]: one module per command; each prints its result and returns its [`Exit`].
//! - [`shapes`]: the `--json` shapes and their committed schemas.
//! - [`render`]: everything printed for people (tables, relative times, plans, reports).
//! - [`failure`]: every error as one value with a kind, a message, a hint and an exit code.
//! - [`exit`]: the exit codes.
//! - [`outcomes`]: each package's outcome: what to do about it, and the exit code it makes.
//! - [`progress`]: progress bars with an ETA from the pacing budget.
//! - [`github_actions`]: step outputs and summaries inside GitHub Actions.

use std::ffi::OsString;
use std::process::ExitCode;

use chrono::Utc;
use clap::Parser;

pub mod cli;
pub mod commands;
pub mod connection;
pub mod demo;
pub mod exit;
pub mod failure;
pub mod github_actions;
pub mod outcomes;
pub mod progress;
pub mod render;
pub mod shapes;

pub use exit::Exit;

use crate::cli::Cli;
use crate::failure::Failure;
use crate::render::Output;

/// Runs `ghpkg` with the process's arguments and returns its exit code.
pub fn main() -> ExitCode {
    run(std::env::args_os().collect()).into()
}

/// Runs `ghpkg` with `args` (the program name first) and returns how it ended.
pub fn run(args: Vec<OsString>) -> Exit {
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) => return command_line_error(&args, error),
    };
    let out = Output {
        json: cli.global.json,
        quiet: cli.global.quiet,
        now: cli.global.now.unwrap_or_else(Utc::now),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let failure = Failure::new(
                failure::CliKind::Io,
                Exit::Failure,
                format!("cannot start: {error}"),
            );
            out.failure(&failure);
            return failure.exit;
        }
    };
    match runtime.block_on(commands::run(&cli, &out)) {
        Ok(exit) => exit,
        Err(failure) => {
            out.failure(&failure);
            failure.exit
        }
    }
}

/// A command line clap refused, or `--help`/`--version`: printed by clap, or as the JSON error
/// shape when `--json` is among the arguments.
fn command_line_error(args: &[OsString], error: clap::Error) -> Exit {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = error.print();
        return if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            Exit::Usage
        } else {
            Exit::Success
        };
    }
    if args.iter().any(|arg| arg == "--json") {
        let message = error.render().to_string();
        let message = message
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_string();
        let failure =
            Failure::usage(message).with_hint("Run `ghpkg --help` for the commands and flags.");
        Output {
            json: true,
            quiet: true,
            now: Utc::now(),
        }
        .failure(&failure);
        return Exit::Usage;
    }
    let _ = error.print();
    Exit::Usage
}
