//! The commands, one module each. Each takes its parsed arguments, does its work through the
//! library, prints its result (its `--json` shape, or text for people) and returns how it
//! ended; a [`Failure`] is printed by the caller.

use chrono::{DateTime, Utc};

use crate::cli::{Cli, Command, GlobalArgs};
use crate::connection::Connection;
use crate::exit::Exit;
use crate::failure::Failure;
use crate::render::Output;

pub mod apply;
pub mod auth;
pub mod completions;
pub mod confirm;
pub mod conflicts;
pub mod packages;
pub mod policy;
pub mod prune;
pub mod restore;
pub mod verify;
pub mod versions;

/// What every command gets: the global flags, how to print, and "now".
pub struct Context<'a> {
    /// The global flags.
    pub global: &'a GlobalArgs,
    /// How to print.
    pub out: &'a Output,
    /// "Now": `--now` when given, else the clock.
    pub now: DateTime<Utc>,
}

impl Context<'_> {
    /// Opens the connection the global flags describe.
    pub async fn connect(&self) -> Result<Connection, Failure> {
        Connection::open(self.global, self.global.now).await
    }
}

/// Runs the command `cli` names.
pub async fn run(cli: &Cli, out: &Output) -> Result<Exit, Failure> {
    let context = Context {
        global: &cli.global,
        out,
        now: out.now,
    };
    match &cli.command {
        Command::Packages { command } => packages::run(&context, command).await,
        Command::Versions { command } => versions::run(&context, command).await,
        Command::Conflicts => conflicts::run(&context).await,
        Command::Auth { command } => auth::run(&context, command).await,
        Command::Prune(args) => prune::run(&context, args).await,
        Command::Apply(args) => apply::run(&context, args).await,
        Command::Restore(args) => restore::run(&context, args).await,
        Command::Verify(args) => verify::run(&context, args).await,
        Command::Policy { command } => policy::run(&context, command).await,
        Command::Completions(args) => completions::run(&context, args),
    }
}
