//! `ghpkg apply PLAN`: runs a saved plan through `ghpkg::apply::apply` (which re-lists each
//! package first and skips, with a reason, every version that changed since the plan), with a
//! journal that makes a rerun of the same plan resume. Also the run that `prune --apply` shares.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ghpkg::ErrorKind;
use ghpkg::apply::{ApplyErrorKind, ApplyOptions, Event, journal_scope};
use ghpkg::journal::{Journal, JournalEntry};
use ghpkg::retention::{MAX_PLAN_BYTES, NoteKind, Owner, Plan, Target};

use crate::cli::{ApplyArgs, RegistryArgs};
use crate::connection::{self, Connection};
use crate::exit::Exit;
use crate::failure::Failure;
use crate::github_actions::GithubActions;
use crate::progress::Progress;
use crate::render::report::short_sha;
use crate::render::time::{count, counted};
use crate::render::{self, HEADING, styled};
use crate::shapes::{OutcomeCounts, RateLimitInfo, RunEntry, RunReport};

use super::Context;
use super::confirm::confirm;

/// Runs `ghpkg apply`.
pub async fn run(context: &Context<'_>, args: &ApplyArgs) -> Result<Exit, Failure> {
    let plan = load_plan(&args.plan)?;
    if let Some(expected) = &args.expect {
        plan.verify_expected(expected)?;
    }
    check_owner_flags(context, &plan.inputs.target)?;
    let connection = context.connect().await?;
    check_planned_user(&connection, &plan.inputs.target).await?;
    if plan.is_refused() {
        return Err(over_budget(&plan));
    }
    if plan.deletions.is_empty() {
        context
            .out
            .note("The plan deletes nothing; there is nothing to apply.");
        let report = empty_report(&plan);
        if context.out.json {
            context.out.json(&report);
        }
        return Ok(Exit::Success);
    }
    if !context.out.json {
        context.out.text(&plan_overview(&plan));
    }
    confirm(
        &format!(
            "Delete {} of {}",
            counted(plan.deletions.len(), "version"),
            plan.inputs.target
        ),
        &format!("delete {}", counted(plan.deletions.len(), "version")),
        args.yes,
    )?;
    let journal = args
        .journal
        .clone()
        .unwrap_or_else(|| default_journal_path(Some(&args.plan), &plan.sha256));
    let report = execute(context, &connection, &plan, &journal, &args.registry).await?;
    print_report(context, &report);
    report_to_actions(context, &report, Some(&args.plan));
    Ok(exit_of(&report))
}

/// A plan made for the authenticated user names its login: applying it with another user's
/// token would aim at that user's packages, so it is refused.
async fn check_planned_user(connection: &Connection, target: &Target) -> Result<(), Failure> {
    let Owner::AuthenticatedUser(Some(planned)) = &target.owner else {
        return Ok(());
    };
    match connection.authenticated_login().await {
        Some(login) if !login.eq_ignore_ascii_case(planned) => Err(Failure::new(
            ErrorKind::InvalidInput,
            Exit::Failure,
            format!(
                "the plan is for the packages of {planned}, but the token is {login}'s; \
                 apply it with {planned}'s token, or make a new plan"
            ),
        )),
        _ => Ok(()),
    }
}

/// Reads and checks a plan file (its size before reading, then `Plan::from_json`).
pub fn load_plan(path: &Path) -> Result<Plan, Failure> {
    let size = std::fs::metadata(path)
        .map_err(|error| Failure::io("read the plan", path, &error))?
        .len();
    if size > MAX_PLAN_BYTES as u64 {
        return Err(Failure::from(ghpkg::retention::PlanLoadError::TooLarge {
            bytes: usize::try_from(size).unwrap_or(usize::MAX),
            limit: MAX_PLAN_BYTES,
        }));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|error| Failure::io("read the plan", path, &error))?;
    Ok(Plan::from_json(&text)?)
}

/// `--org`/`--user` given with a plan or journal must name its owner: the owner comes from
/// the file, and a flag that says otherwise is a mistake worth stopping for.
pub fn check_owner_flags(context: &Context<'_>, target: &Target) -> Result<(), Failure> {
    if context.global.org.is_none() && context.global.user.is_none() {
        return Ok(());
    }
    let given = connection::owner(context.global);
    if given.addresses_same(&target.owner) {
        return Ok(());
    }
    Err(Failure::usage(format!(
        "the file is for {}, but the command line names {given}",
        target
    ))
    .with_hint("Drop --org/--user: apply and restore take the owner from the plan or journal."))
}

/// The failure for a plan over its budget, with the engine's own note.
pub fn over_budget(plan: &Plan) -> Failure {
    let message = plan
        .notes
        .iter()
        .find(|note| note.kind == NoteKind::OverBudget)
        .map(|note| note.message.clone())
        .unwrap_or_else(|| {
            "the plan is over its deletion budget, so it must not be applied".into()
        });
    Failure::new(ApplyErrorKind::OverBudget, Exit::OverBudget, message)
        .with_hint("Narrow the rules, or raise --max-deletions/--max-percent, and make a new plan.")
}

/// The journal used when none is given: `PLAN.journal.jsonl` beside a plan file (`plan.json`
/// → `plan.journal.jsonl`), else `ghpkg-<first 12 of the sha256>.journal.jsonl` in the current
/// directory. Either way, the same plan gets the same journal, so a rerun resumes.
pub fn default_journal_path(plan_file: Option<&Path>, sha256: &str) -> PathBuf {
    match plan_file {
        Some(plan_file) => {
            let stem = match plan_file.extension() {
                Some(extension) if extension == "json" => plan_file.with_extension(""),
                _ => plan_file.to_path_buf(),
            };
            let mut name = stem.into_os_string();
            name.push(".journal.jsonl");
            PathBuf::from(name)
        }
        None => PathBuf::from(format!("ghpkg-{}.journal.jsonl", short_sha(sha256))),
    }
}

/// Applies `plan` with the journal at `journal_path`, showing progress, and reports what
/// happened. The journal is created if needed; one left empty by a refusal is removed again.
pub async fn execute(
    context: &Context<'_>,
    connection: &Connection,
    plan: &Plan,
    journal_path: &Path,
    registry: &RegistryArgs,
) -> Result<RunReport, Failure> {
    let registry = connection.registry(registry)?;
    let existed = journal_path.exists();
    let mut journal = Journal::open(journal_path, &journal_scope(plan))?;
    context
        .out
        .note(&format!("Journal: {}", journal_path.display()));
    let pending = plan
        .deletions
        .iter()
        .filter(|deletion| {
            !journal
                .state()
                .outcome(&deletion.package, deletion.id)
                .is_some_and(|outcome| outcome.is_final_for_apply())
        })
        .count();
    let progress = Progress::writing(
        context.out,
        "deleting",
        pending as u64,
        connection.client.pacing(),
    );
    let entries = Mutex::new(Vec::new());
    let on_event = |event: Event<'_>| record(&progress, &entries, event);
    let options = ApplyOptions::new().registry(&registry);
    let result =
        ghpkg::apply::apply(&connection.client, plan, &mut journal, &options, &on_event).await;
    progress.finish();
    drop(journal);
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            if !existed {
                remove_if_empty(journal_path);
            }
            return Err(error.into());
        }
    };
    Ok(run_report(
        "apply",
        plan.sha256.clone(),
        Some(journal_path),
        plan.inputs.target.clone(),
        &report,
        entries.into_inner().unwrap_or_default(),
    ))
}

/// Moves the progress bar and keeps the outcome for the report.
pub fn record(progress: &Progress, entries: &Mutex<Vec<RunEntry>>, event: Event<'_>) {
    match event {
        Event::Listed { package, .. } => progress.message(package),
        Event::Outcome(entry) => {
            progress.advance();
            if let Ok(mut entries) = entries.lock() {
                entries.push(RunEntry::from(entry as &JournalEntry));
            }
        }
        _ => {}
    }
}

fn remove_if_empty(path: &Path) {
    if std::fs::metadata(path).is_ok_and(|metadata| metadata.len() == 0) {
        let _ = std::fs::remove_file(path);
    }
}

/// The `--json` report of a run.
pub fn run_report(
    operation: &str,
    plan_sha256: String,
    journal: Option<&Path>,
    target: Target,
    report: &ghpkg::apply::Report,
    entries: Vec<RunEntry>,
) -> RunReport {
    RunReport {
        operation: operation.to_string(),
        plan_sha256,
        journal: journal.map(|journal| journal.display().to_string()),
        target,
        counts: OutcomeCounts::of(&report.outcomes),
        skipped: report.skipped.clone(),
        not_done: report.not_done.clone(),
        resumed: report.resumed,
        recovered: report.recovered,
        elapsed_seconds: report.elapsed.as_secs_f64(),
        requests: report.requests,
        rate_limit: report.rate_limit.as_ref().map(RateLimitInfo::from),
        entries,
    }
}

/// The report of an apply that had nothing to do.
fn empty_report(plan: &Plan) -> RunReport {
    run_report(
        "apply",
        plan.sha256.clone(),
        None,
        plan.inputs.target.clone(),
        &ghpkg::apply::Report::default(),
        Vec::new(),
    )
}

/// How a run ends: partly failed when GitHub refused or failed some versions.
pub fn exit_of(report: &RunReport) -> Exit {
    if report.counts.not_done() > 0 {
        Exit::PartlyFailed
    } else {
        Exit::Success
    }
}

/// Prints a run's report, as JSON or for people.
pub fn print_report(context: &Context<'_>, report: &RunReport) {
    if context.out.json {
        context.out.json(report);
    } else {
        context.out.text(&render::report::report(report));
    }
}

/// The plan in a few lines: what it is for and how much it deletes, package by package.
fn plan_overview(plan: &Plan) -> String {
    let mut out = render::plan::heading(plan);
    for package in &plan.packages {
        let deletions = plan
            .deletions
            .iter()
            .filter(|deletion| deletion.package == package.name)
            .count();
        out.push_str(&format!(
            "  {}: delete {} of {}\n",
            styled(HEADING, &package.name),
            count(deletions as u64),
            counted(package.decisions.len(), "version")
        ));
    }
    out.push_str(&format!("  sha256 {}\n", plan.sha256));
    out
}

/// Step outputs and a summary, inside GitHub Actions.
pub fn report_to_actions(context: &Context<'_>, report: &RunReport, plan_file: Option<&Path>) {
    let Some(actions) = GithubActions::detect() else {
        return;
    };
    let counts = &report.counts;
    let mut outputs = vec![
        ("deleted", counts.deleted.to_string()),
        ("restored", counts.restored.to_string()),
        ("failed", counts.not_done().to_string()),
        ("skipped", counts.skipped.to_string()),
        ("plan-sha256", report.plan_sha256.clone()),
        ("journal", report.journal.clone().unwrap_or_default()),
    ];
    if let Some(file) = plan_file {
        outputs.push(("plan-file", file.display().to_string()));
    }
    let verb = if report.operation == "restore" {
        "restore"
    } else {
        "apply"
    };
    let markdown = format!(
        "### ghpkg {verb}: {}\n\n| outcome | versions |\n|---|---:|\n| deleted | {} |\n| \
         already gone | {} |\n| refused | {} |\n| failed | {} |\n| skipped | {} |\n| restored | \
         {} |\n| not restored | {} |\n\nPlan `{}`, journal `{}`.\n\n",
        crate::github_actions::markdown_cell(&report.target.to_string()),
        counts.deleted,
        counts.already_gone,
        counts.refused,
        counts.failed,
        counts.skipped,
        counts.restored,
        counts.not_restored,
        report.plan_sha256,
        crate::github_actions::markdown_cell(report.journal.as_deref().unwrap_or("-")),
    );
    if let Err(error) = actions
        .set_outputs(&outputs)
        .and_then(|()| actions.summarize(&markdown))
    {
        context
            .out
            .warn(&format!("cannot write the GitHub Actions outputs: {error}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_file_gets_its_journal_beside_it_and_a_bare_plan_one_named_by_its_hash() {
        let sha = "3f1c2a9b7d44".to_string() + &"0".repeat(52);
        assert_eq!(
            default_journal_path(Some(Path::new("out/plan.json")), &sha),
            PathBuf::from("out/plan.journal.jsonl")
        );
        assert_eq!(
            default_journal_path(Some(Path::new("plan")), &sha),
            PathBuf::from("plan.journal.jsonl")
        );
        assert_eq!(
            default_journal_path(None, &sha),
            PathBuf::from("ghpkg-3f1c2a9b7d44.journal.jsonl")
        );
    }
}
