//! `ghpkg apply PLAN`: runs a saved plan through `ghpkg::apply::apply` (which re-lists each
//! package first and skips, with a reason, every version that changed since the plan), with a
//! journal that makes a rerun of the same plan resume. Also the run that `prune --apply` shares.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use ghpkg::ErrorKind;
use ghpkg::apply::{ApplyErrorKind, ApplyOptions, Event, journal_scope};
use ghpkg::journal::{Journal, JournalEntry, JournalReason, Outcome};
use ghpkg::outcome::{NotDoneReason, PackageResult};
use ghpkg::registry::RegistryProblem;
use ghpkg::retention::{MAX_PLAN_BYTES, NoteKind, Owner, Plan, Target};

use crate::cli::{ApplyArgs, RegistryArgs};
use crate::connection::{self, Connection};
use crate::exit::Exit;
use crate::failure::Failure;
use crate::github_actions::{self, GithubActions};
use crate::outcomes;
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
        let mut report = empty_report(&plan);
        // A plan that failed a package closed deletes nothing, and that package is not done.
        report.packages = outcomes::infos(&PackageResult::of_apply(
            &plan,
            &ghpkg::journal::JournalState::default(),
            &BTreeMap::new(),
        ));
        if context.out.json {
            context.out.json(&report);
        } else {
            context
                .out
                .note("The plan deletes nothing; there is nothing to apply.");
            context
                .out
                .text(&render::report::packages_not_done(&report.packages));
        }
        report_to_actions(context, &report, Some(&args.plan));
        return Ok(exit_of(&report));
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
    let run = Run {
        journal: &journal,
        plan_file: Some(&args.plan),
        registry: &args.registry,
        yes: args.yes,
        registry_problems: &BTreeMap::new(),
    };
    let report = execute(context, &connection, &plan, &run).await?;
    print_report(context, &report);
    if !context.out.json {
        context
            .out
            .text(&render::report::packages_not_done(&report.packages));
        context.out.text(&render::report::interruption(&report));
    }
    report_to_actions(context, &report, Some(&args.plan));
    Ok(exit_of(&report))
}

/// How to run a plan: where its journal is, and what the command that resumes it needs.
pub struct Run<'a> {
    /// The journal.
    pub journal: &'a Path,
    /// The plan file, if the plan was saved (`apply PLAN`, `prune --plan-out`).
    pub plan_file: Option<&'a Path>,
    /// The registry flags.
    pub registry: &'a RegistryArgs,
    /// Whether `--yes` was given.
    pub yes: bool,
    /// Registry problems planning met, by package (names why a package failed closed).
    pub registry_problems: &'a BTreeMap<String, RegistryProblem>,
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

/// Applies `plan` with the journal `run.journal`, showing progress, and reports what
/// happened, package by package. The journal is created if needed; one left empty by a refusal
/// is removed again.
///
/// Ctrl-C stops it: the deletions in flight finish and are journaled, nothing more is sent, and
/// the report says it was interrupted and how to resume (a second Ctrl-C abandons the
/// deletions in flight; a rerun of the plan finds out what became of them).
pub async fn execute(
    context: &Context<'_>,
    connection: &Connection,
    plan: &Plan,
    run: &Run<'_>,
) -> Result<RunReport, Failure> {
    let journal_path = run.journal;
    let registry = connection.registry(run.registry)?;
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
    let progress = Progress::deleting(context.out, "deleting", pending as u64, &connection.client);
    let entries = Mutex::new(Vec::new());
    let journaled = Mutex::new(Vec::new());
    let on_event = |event: Event<'_>| {
        if let Event::Outcome(entry) = &event
            && let Ok(mut journaled) = journaled.lock()
        {
            journaled.push((*entry).clone());
        }
        record(&progress, &entries, event)
    };
    let stop = AtomicBool::new(false);
    let options = ApplyOptions::new().registry(&registry).stop_when(&stop);
    let mut applying = Box::pin(ghpkg::apply::apply(
        &connection.client,
        plan,
        &mut journal,
        &options,
        &on_event,
    ));
    let interrupts = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // No handler could be installed: Ctrl-C stops the process as it always does.
            return std::future::pending().await;
        }
        stop.store(true, Ordering::SeqCst);
        progress.suspend(|| {
            render::alert(
                "interrupted: finishing the deletions in flight, sending no more (Ctrl-C again \
                 abandons them)",
            )
        });
        let _ = tokio::signal::ctrl_c().await;
    };
    let result = tokio::select! {
        result = &mut applying => Some(result),
        () = interrupts => None,
    };
    drop(applying);
    progress.finish();
    let interrupted = stop.load(Ordering::SeqCst);
    let abandoned = result.is_none();
    let report = match result {
        Some(Ok(report)) => report,
        Some(Err(error)) => {
            drop(journal);
            if !existed {
                remove_if_empty(journal_path);
            }
            return Err(error.into());
        }
        // Abandoned: what the journal holds is what is known.
        None => abandoned_report(&journaled.into_inner().unwrap_or_default()),
    };
    let state = journal.state().clone();
    drop(journal);
    // The journal on disk also has the lines of deletions abandoned in flight that finished.
    let state = if abandoned {
        Journal::read(journal_path, None).unwrap_or(state)
    } else {
        state
    };
    let packages = PackageResult::of_apply(plan, &state, run.registry_problems);
    let mut report = run_report(
        "apply",
        plan.sha256.clone(),
        Some(journal_path),
        plan.inputs.target.clone(),
        &report,
        entries.into_inner().unwrap_or_default(),
    );
    report.packages = outcomes::infos(&packages);
    report.interrupted = interrupted && !is_complete(&packages);
    if report.interrupted {
        report.resume = Some(resume_command(context, plan, run)?);
    }
    Ok(report)
}

/// Whether every package of an apply got as far as it could (nothing was left unsent).
fn is_complete(packages: &[PackageResult]) -> bool {
    !outcomes::reasons(packages).any(|reason| reason == NotDoneReason::NotAttempted)
}

/// The report of an apply abandoned in flight: what its events said.
fn abandoned_report(journaled: &[JournalEntry]) -> ghpkg::apply::Report {
    let mut report = ghpkg::apply::Report::default();
    for entry in journaled {
        *report.outcomes.entry(entry.outcome).or_default() += 1;
        match (entry.outcome, &entry.reason) {
            (Outcome::Skipped, JournalReason::Skipped(reason)) => {
                *report.skipped.entry(*reason).or_default() += 1
            }
            (Outcome::Refused | Outcome::Failed, reason) => {
                *report.not_done.entry(reason.clone()).or_default() += 1
            }
            _ => {}
        }
    }
    report
}

/// The command that resumes an interrupted apply of `plan`: `ghpkg … apply PLAN`, with the
/// connection, journal and registry flags the run had. A plan that was not saved
/// (`prune --apply` without `--plan-out`) is saved beside the journal first.
fn resume_command(context: &Context<'_>, plan: &Plan, run: &Run<'_>) -> Result<String, Failure> {
    let saved;
    let plan_file = match run.plan_file {
        Some(file) => file,
        None => {
            saved = run
                .journal
                .with_file_name(format!("ghpkg-{}.json", short_sha(&plan.sha256)));
            ghpkg::journal::write_atomically(&saved, plan.to_json().as_bytes())
                .map_err(|error| Failure::io("save the plan to", &saved, &error))?;
            &saved
        }
    };
    let global = context.global;
    let mut words: Vec<String> = vec!["ghpkg".into()];
    let mut flag = |name: &str, value: Option<&str>| {
        words.push(name.to_string());
        if let Some(value) = value {
            words.push(shell_word(value));
        }
    };
    if let Some(host) = &global.host {
        flag("--host", Some(host));
    }
    if let Some(url) = &global.api_url {
        flag("--api-url", Some(url));
    }
    if global.insecure_skip_tls_verify {
        flag("--insecure-skip-tls-verify", None);
    }
    if let Some(scale) = global.time_scale {
        flag("--time-scale", Some(&scale.to_string()));
    }
    flag("apply", None);
    flag(&shell_word(&plan_file.display().to_string()), None);
    if default_journal_path(Some(plan_file), &plan.sha256) != run.journal {
        flag("--journal", Some(&run.journal.display().to_string()));
    }
    if let Some(url) = &run.registry.registry_url {
        flag("--registry-url", Some(url));
    }
    if let Some(dir) = &run.registry.manifest_cache {
        flag("--manifest-cache", Some(&dir.display().to_string()));
    }
    if run.registry.no_manifest_cache {
        flag("--no-manifest-cache", None);
    }
    if run.yes {
        flag("--yes", None);
    }
    Ok(words.join(" "))
}

/// `word` as one shell word: as it is when it is plain, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
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
        packages: Vec::new(),
        interrupted: false,
        resume: None,
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

/// How a run ends: interrupted; not done when a package was held back; partly failed when
/// GitHub refused or failed some versions; else success.
pub fn exit_of(report: &RunReport) -> Exit {
    if report.interrupted {
        return Exit::Interrupted;
    }
    match outcomes::exit_of(report.packages.iter().filter_map(|package| package.reason)) {
        Exit::Success if report.counts.not_done() > 0 => Exit::PartlyFailed,
        exit => exit,
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
            .filter(|deletion| *deletion.package == *package.name)
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
    if !context.out.json {
        context
            .out
            .text(&github_actions::not_done_annotations(&report.packages));
    }
    let counts = &report.counts;
    let mut outputs = vec![
        ("deleted", counts.deleted.to_string()),
        ("restored", counts.restored.to_string()),
        ("failed", counts.not_done().to_string()),
        ("skipped", counts.skipped.to_string()),
        ("plan-sha256", report.plan_sha256.clone()),
        ("journal", report.journal.clone().unwrap_or_default()),
        ("not-done", github_actions::not_done_count(&report.packages)),
        (
            "outcomes",
            github_actions::outcomes_output(&report.packages),
        ),
    ];
    if let Some(file) = plan_file {
        outputs.push(("plan-file", file.display().to_string()));
    }
    let verb = if report.operation == "restore" {
        "restore"
    } else {
        "apply"
    };
    let mut markdown = format!(
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
    markdown.push_str(&github_actions::not_done_markdown(
        &report.packages,
        exit_of(report).code(),
    ));
    if let Some(resume) = &report.resume {
        markdown.push_str(&format!("Interrupted; resume with `{resume}`.\n\n"));
    }
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
