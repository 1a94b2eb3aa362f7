//! `ghpkg completions SHELL`: a completion script from the command tree.

use clap::Command;

use crate::cli::{CompletionsArgs, command};
use crate::exit::Exit;
use crate::failure::Failure;
use crate::shapes::Completions;

use super::Context;

/// Prints the script (or, with `--json`, the script inside [`Completions`]).
pub fn run(context: &Context<'_>, args: &CompletionsArgs) -> Result<Exit, Failure> {
    let script = script(args.shell);
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

/// The completion script for `shell`, offering every argument and command but the hidden ones.
fn script(shell: clap_complete::Shell) -> String {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut without_hidden(&command()), "ghpkg", &mut script);
    String::from_utf8_lossy(&script).into_owned()
}

/// A copy of `command` (not yet built) without its hidden arguments and subcommands: the
/// generators of `clap_complete` offer every argument they are given, hidden ones included. A
/// script is made of names, aliases, help texts and arguments, so those are what is copied.
/// Argument groups are not: they only constrain parsing.
fn without_hidden(command: &Command) -> Command {
    let mut copy = Command::new(command.get_name().to_owned())
        .visible_aliases(command.get_visible_aliases().map(str::to_owned))
        .subcommand_required(command.is_subcommand_required_set())
        .arg_required_else_help(command.is_arg_required_else_help_set())
        .propagate_version(command.is_propagate_version_set())
        .disable_help_subcommand(command.is_disable_help_subcommand_set())
        .args(
            command
                .get_arguments()
                .filter(|arg| !arg.is_hide_set())
                .cloned(),
        )
        .subcommands(
            command
                .get_subcommands()
                .filter(|subcommand| !subcommand.is_hide_set())
                .map(without_hidden),
        );
    if let Some(about) = command.get_about() {
        copy = copy.about(about.clone());
    }
    if let Some(about) = command.get_long_about() {
        copy = copy.long_about(about.clone());
    }
    if let Some(version) = command.get_version() {
        copy = copy.version(version.to_owned());
    }
    copy
}

#[cfg(test)]
mod tests {
    use clap_complete::Shell;

    use super::*;

    #[test]
    fn hidden_arguments_are_never_completed() {
        let hidden: Vec<String> = command()
            .get_arguments()
            .filter(|arg| arg.is_hide_set())
            .filter_map(|arg| arg.get_long().map(str::to_owned))
            .collect();
        assert!(hidden.contains(&"now".to_owned()), "{hidden:?}");
        for shell in [Shell::Bash, Shell::Zsh, Shell::PowerShell, Shell::Elvish] {
            let script = script(shell);
            for long in &hidden {
                assert!(
                    !script.contains(&format!("--{long}")),
                    "{shell} completes --{long}"
                );
            }
        }
        let fish = script(Shell::Fish);
        for long in &hidden {
            assert!(
                !fish.contains(&format!("-l {long} ")),
                "fish completes --{long}"
            );
            assert!(
                !fish.contains(&format!(" {long}=")),
                "fish completes --{long}"
            );
        }
    }

    #[test]
    fn everything_else_is_completed_as_the_command_tree_has_it() {
        // Fish writes one line per argument of each command: the copy's lines are the
        // original's, but for those of hidden arguments.
        let mut original = Vec::new();
        clap_complete::generate(Shell::Fish, &mut command(), "ghpkg", &mut original);
        let original = String::from_utf8(original).unwrap();
        let expected: Vec<String> = original
            .lines()
            .filter(|line| !line.contains("-l now "))
            .map(|line| line.replace(" now=", ""))
            .collect();
        let copied: Vec<String> = script(Shell::Fish).lines().map(str::to_owned).collect();
        assert_eq!(copied, expected);
    }
}
