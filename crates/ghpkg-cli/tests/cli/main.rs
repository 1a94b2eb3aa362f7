//! End-to-end tests of the `ghpkg` binary: each runs the real binary against an emulator
//! started in this process on 127.0.0.1, passing `--api-url` and the token in `GH_TOKEN`.

mod action;
mod action_runner;
mod adversarial;
mod crash;
mod exit_codes;
mod graphs;
mod hostile;
mod human_output;
mod outcomes;
mod policy;
mod real_registry;
mod repository;
mod resume;
mod retention;
mod runs;
mod scopes;
mod support;
#[cfg(unix)]
mod terminal;
