//! ghpkg's benchmark, run by `cargo xtask bench` (release build).
//!
//! The emulator runs as a separate `ghpkg-mock serve` process with latency and GitHub's limits on,
//! so that the client's measurements exclude it. Each scenario reports the measured figure, its
//! theoretical floor and their ratio; the table goes to stdout and the JSON to `--out`.
//!
//! - `ghpkg-bench run --mock PATH --ghpkg PATH --out DIR`: all scenarios (`--ghpkg`: the
//!   release binary, for the Action's scenario).
//! - `ghpkg-bench emulator-scale --mock PATH`: scenario 10 alone.
//! - `ghpkg-bench policy-scale --mock PATH --ghpkg PATH [--out DIR]`: scenario 11 alone.
//! - `ghpkg-bench container-scale --mock PATH --ghpkg PATH [--out DIR]`: scenario 12 alone.
//! - `ghpkg-bench probe …`: scenario 3's child process (lists versions, reports its own
//!   CPU time and peak memory), so that its figures are the client's alone.
//! - `ghpkg-bench probe-prune …`: scenario 4's child (a dry-run prune, its CPU time).

mod action;
mod container_scale;
mod emulator;
mod emulator_scale;
mod policy_scale;
mod report;
mod retention;
mod scale;
mod scenarios;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = match args.first().map(String::as_str) {
        Some("run") => {
            let mock = flag(&args, "--mock").map(PathBuf::from);
            let ghpkg = flag(&args, "--ghpkg").map(PathBuf::from);
            let out =
                flag(&args, "--out").map_or_else(|| PathBuf::from("target/bench"), PathBuf::from);
            match (mock, ghpkg) {
                (Some(mock), Some(ghpkg)) => {
                    runtime.block_on(scenarios::run_all(&mock, &ghpkg, &out))
                }
                _ => Err(anyhow::anyhow!("run needs --mock PATH and --ghpkg PATH")),
            }
        }
        Some("emulator-scale") => match flag(&args, "--mock") {
            Some(mock) => runtime.block_on(async {
                let figures = emulator_scale::run(std::path::Path::new(&mock)).await?;
                report::print_table(&figures);
                Ok(())
            }),
            None => Err(anyhow::anyhow!("emulator-scale needs --mock PATH")),
        },
        Some(command @ ("policy-scale" | "container-scale")) => {
            let out =
                flag(&args, "--out").map_or_else(|| PathBuf::from("target/bench"), PathBuf::from);
            match (flag(&args, "--mock"), flag(&args, "--ghpkg")) {
                (Some(mock), Some(ghpkg)) => runtime.block_on(async {
                    let (mock, ghpkg) = (std::path::Path::new(&mock), std::path::Path::new(&ghpkg));
                    std::fs::create_dir_all(&out)?;
                    let figures = if command == "policy-scale" {
                        policy_scale::run(mock, ghpkg, &out).await?
                    } else {
                        container_scale::run(mock, ghpkg, &out).await?
                    };
                    report::print_table(&figures);
                    Ok(())
                }),
                _ => Err(anyhow::anyhow!(
                    "{command} needs --mock PATH and --ghpkg PATH"
                )),
            }
        }
        Some("probe") => runtime.block_on(scenarios::probe(&args)),
        Some("probe-prune") => runtime.block_on(retention::probe_prune(&args)),
        _ => Err(anyhow::anyhow!(
            "usage: ghpkg-bench run --mock PATH --ghpkg PATH [--out DIR] (or let `cargo xtask bench` run it)"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The value after `name` in `args`.
pub(crate) fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}
