//! Project chores, run as `cargo xtask <task>`.
//!
//! - `codegen`: regenerate `crates/ghpkg-api/src/generated.rs` from `spec/github-packages.json`.
//! - `codegen --check`: regenerate in memory and fail with a diff when the checked-in file is stale.
//! - `bench`: build the emulator and the benchmark in release mode and run every scenario.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod bench;
mod codegen;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["codegen"] => codegen::write(&workspace_root()),
        ["codegen", "--check"] => codegen::check(&workspace_root()),
        ["bench"] => bench::run(&workspace_root()),
        _ => {
            eprintln!("usage: cargo xtask codegen [--check] | cargo xtask bench");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}
