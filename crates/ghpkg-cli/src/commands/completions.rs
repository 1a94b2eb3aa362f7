//! `ghpkg completions SHELL`: a completion script from the command tree.

use crate::cli::{CompletionsArgs, command};
use crate::exit::Exit;
use crate::failure::Failure;
use crate::shapes::Completions;

use super::Context;

/// Prints the script (or, with `--json`, the script inside [`Completions`]).
pub fn run(context: &Context<'_>, args: &CompletionsArgs) -> Result<Exit, Failure> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command(), "ghpkg", &mut script);
    let script = String::from_utf8_lossy(&script).into_owned();
    if context.out.json {
        context.out.json(&Completions {
            shell: args.shell.to_string(),
            script,
        });
    } else {
        context.out.text(&script);
    }
    Ok(Exit::Success)
}
