//! `ghpkg restore --from-log JOURNAL`: restores what a journal records as deleted, through
//! `ghpkg::apply::restore_from_journal`, and records each restore in the same journal.

use std::sync::Mutex;

use ghpkg::apply::{ApplyErrorKind, Event, RestoreOptions};
use ghpkg::journal::Journal;
use ghpkg::retention::Target;

use crate::cli::RestoreArgs;
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
    let deleted = state
        .latest
        .keys()
        .filter(|(package, id)| state.is_restorable(package, *id))
        .count();
    let connection = context.connect().await?;
    context.out.note(&format!(
        "Restoring {} that {} records as deleted by its runs",
        counted(deleted, "version"),
        path.display()
    ));
    let progress = Progress::writing(
        context.out,
        "restoring",
        deleted as u64,
        connection.client.pacing(),
    );
    let entries = Mutex::new(Vec::new());
    let on_event = |event: Event<'_>| record(&progress, &entries, event);
    let result = ghpkg::apply::restore_from_journal(
        &connection.client,
        path,
        &RestoreOptions::new(),
        &on_event,
    )
    .await;
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
