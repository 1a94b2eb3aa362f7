//! `ghpkg restore --from-log JOURNAL`: restores what a journal records as deleted by its own
//! runs, through `ghpkg::apply::restore_from_journal`, against the API the journal records,
//! and records each restore in the same journal.

use std::sync::Mutex;

use ghpkg::Client;
use ghpkg::apply::{ApplyErrorKind, Event, RestoreOptions};
use ghpkg::journal::Journal;
use ghpkg::retention::Target;

use crate::cli::RestoreArgs;
use crate::connection::Connection;
use crate::exit::Exit;
use crate::failure::Failure;
use crate::progress::Progress;
use crate::render::time::counted;

use super::Context;
use super::apply::{
    check_owner_flags, exit_of, print_report, record, report_to_actions, run_report,
};

/// Runs `ghpkg restore`.
pub async fn run(context: &Context<'_>, args: &RestoreArgs) -> Result<Exit, Failure> {
    let path = &args.from_log;
    let state = Journal::read(path, None)?;
    let Some(first) = state.entries.first() else {
        return Err(Failure::new(
            ApplyErrorKind::Journal,
            Exit::Failure,
            format!("the journal {} records nothing", path.display()),
        )
        .with_hint("Pass the journal an apply wrote (apply and prune --apply print its path)."));
    };
    let target = Target {
        host: first.host.clone(),
        owner: first.owner.clone(),
        package_type: first.package_type.clone(),
    };
    check_owner_flags(context, &target)?;
    let plan_sha256 = first.plan.clone();
    let restorable = state
        .latest
        .keys()
        .filter(|(package, id)| state.is_restorable(package, *id))
        .count();
    // Undo goes where the run went: the journal's API root (a format 1 journal names only the
    // host), unless a flag names another.
    let recorded = state.header.as_ref().map_or_else(
        || Client::api_url_for_host(&target.host),
        |header| header.api_url.clone(),
    );
    let connection =
        Connection::open_over_recorded(context.global, context.global.now, Some(&recorded)).await?;
    let other_host = connection.client.host() != target.host;
    if other_host {
        context.out.warn(&format!(
            "the journal records {} ({recorded}), but {} names {}: restoring there",
            target.host,
            connection.endpoint.source,
            connection.client.base_url()
        ));
    }
    context.out.note(&format!(
        "Restoring {} that {} records as deleted by its runs, through {}",
        counted(restorable, "version"),
        path.display(),
        connection.client.base_url()
    ));
    let progress = Progress::writing(
        context.out,
        "restoring",
        restorable as u64,
        connection.client.pacing(),
    );
    let entries = Mutex::new(Vec::new());
    let on_event = |event: Event<'_>| record(&progress, &entries, event);
    let options = RestoreOptions::new().allow_other_host(other_host);
    let result =
        ghpkg::apply::restore_from_journal(&connection.client, path, &options, &on_event).await;
    progress.finish();
    let report = run_report(
        "restore",
        plan_sha256,
        Some(path),
        target,
        &result?,
        entries.into_inner().unwrap_or_default(),
    );
    print_report(context, &report);
    report_to_actions(context, &report, None);
    Ok(exit_of(&report))
}
