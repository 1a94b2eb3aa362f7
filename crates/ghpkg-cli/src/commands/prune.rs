//! `ghpkg prune TYPE NAME|GLOB… [rules]`: resolves the packages, lists each one once, plans
//! with the retention engine, prints the plan, saves it with `--plan-out`, and with `--apply`
//! deletes it after a confirmation (the run is `apply`'s).
//!
//! The dry run is lean: one listing of the owner's packages only when a glob is given, then one
//! paged listing of each package's versions with its version count before and after, and for
//! container images every manifest when the rules could delete anything
//! (`PackageHandle::facts_for_plan`: by digest, each at most once, none twice with
//! `--manifest-cache`); nothing else is sent.

use std::collections::BTreeMap;

use futures::StreamExt;
use std::path::PathBuf;

use ghpkg::apply::ApplyErrorKind;
use ghpkg::journal::Journal;
use ghpkg::outcome::{NotDoneReason, PackageResult};
use ghpkg::registry::RegistryProblem;
use ghpkg::retention::{PackageFacts, Plan, Policy, Rules, Target, plan_policy};
use ghpkg::{Action, ErrorKind, PackageType};

use crate::cli::PruneArgs;
use crate::connection::Connection;
use crate::exit::Exit;
use crate::failure::{CliKind, Failure};
use crate::github_actions::{self, GithubActions, markdown_cell};
use crate::outcomes;
use crate::progress::Progress;
use crate::render::report::short_sha;
use crate::render::time::counted;
use crate::render::{self, DIM, styled};
use crate::shapes::{ErrorInfo, PruneResult, RunReport};

use super::Context;
use super::apply::{
    Run, default_journal_path, execute, exit_of, load_plan, over_budget, print_report,
};
use super::confirm::confirm;
use super::policy;

/// How many packages without an image graph are listed at once.
const PACKAGES_AT_ONCE: usize = 4;

/// How many deletions the GitHub Actions step summary lists.
const SUMMARY_DELETIONS: usize = 100;

/// Runs `ghpkg prune`.
pub async fn run(context: &Context<'_>, args: &PruneArgs) -> Result<Exit, Failure> {
    let planner = Planner::of(args)?;
    let connection = context.connect().await?;
    let planning = make_plan(context, &connection, args, &planner).await?;
    let plan = planning.plan;
    refuse_to_orphan_a_journal(args, &plan)?;
    let plan_file = match &args.plan_out {
        Some(path) => {
            ghpkg::journal::write_atomically_with(path, |file| plan.write_json(file))
                .map_err(|error| Failure::io("write the plan to", path, &error))?;
            Some(path.display().to_string())
        }
        None => None,
    };
    if !context.out.json {
        render::plan::write_plan(
            &plan,
            context.now,
            args.verbose,
            &mut context.out.text_writer(),
        );
        if let Some(file) = &plan_file {
            context.out.text(&format!(
                "{}\n",
                styled(
                    DIM,
                    format!(
                        "Saved to {file}; apply it with: ghpkg apply {file} --expect {}",
                        plan.sha256
                    )
                )
            ));
        }
    }
    let mut packages = PackageResult::of_plan(&plan, &planning.registry_problems);
    packages.extend(planning.not_listed);
    let mut result = PruneResult {
        plan,
        plan_file,
        apply: None,
        not_applied: None,
        packages: Vec::new(),
    };
    let exit = settle(
        context,
        &connection,
        args,
        &mut result,
        packages,
        &planning.registry_problems,
    )
    .await?;
    if context.out.json {
        context.out.json(&result);
    } else {
        context
            .out
            .text(&render::report::packages_not_done(&result.packages));
        if let Some(report) = &result.apply {
            context.out.text(&render::report::interruption(report));
        }
    }
    prune_to_actions(context, &result, exit);
    Ok(exit)
}

/// What planning made: the plan, and what it knows about the packages it could not plan.
struct Planning {
    plan: Plan,
    /// The registry's problem, by package, when one kept its image graph from being read.
    registry_problems: BTreeMap<String, RegistryProblem>,
    /// Packages whose listing failed, so that they are not in the plan.
    not_listed: Vec<PackageResult>,
}

/// Refuses, before `--plan-out` is overwritten or anything is deleted, a journal that
/// belongs to another plan than this one: either the plan in `--plan-out` with deletions
/// still to do (overwriting it would leave that run impossible to finish; `ghpkg apply PLAN`
/// finishes it), or — with `--apply` — any other plan, whose journal this run could not use.
fn refuse_to_orphan_a_journal(args: &PruneArgs, plan: &Plan) -> Result<(), Failure> {
    if args.plan_out.is_none() && args.journal.is_none() {
        // The default journal is named by the plan's own SHA-256.
        return Ok(());
    }
    let journal = journal_path(args, plan);
    if std::fs::metadata(&journal).map_or(true, |metadata| metadata.len() == 0) {
        return Ok(());
    }
    let state = Journal::read(&journal, None)?;
    let Some(recorded) = state.entries.first().map(|entry| entry.plan.clone()) else {
        return Ok(());
    };
    if recorded == plan.sha256 {
        // The same plan again: its journal resumes it.
        return Ok(());
    }
    let saved = args
        .plan_out
        .as_deref()
        .and_then(|path| load_plan(path).ok().map(|saved| (path, saved)))
        .filter(|(_, saved)| saved.sha256 == recorded);
    if let Some((path, saved)) = saved {
        let unfinished = saved
            .deletions
            .iter()
            .filter(|deletion| {
                !state
                    .outcome(&deletion.package, deletion.id)
                    .is_some_and(|outcome| outcome.is_final_for_apply())
            })
            .count();
        if unfinished > 0 {
            return Err(Failure::new(
                ApplyErrorKind::Journal,
                Exit::Failure,
                format!(
                    "{} holds plan {} whose run did not finish ({unfinished} of {} deletions \
                     not done, journal {}); planning again would overwrite it, and that run \
                     could not be finished; nothing was written or deleted",
                    path.display(),
                    short_sha(&recorded),
                    saved.deletions.len(),
                    journal.display()
                ),
            )
            .with_hint(format!(
                "Finish it first with `ghpkg apply {}` (it resumes from the journal), then run \
                 prune again; or plan into another file with --plan-out.",
                path.display()
            )));
        }
    }
    if args.apply {
        return Err(Failure::new(
            ApplyErrorKind::Journal,
            Exit::Failure,
            format!(
                "the journal {} records another plan ({}), and a journal belongs to one plan; \
                 nothing was written or deleted",
                journal.display(),
                short_sha(&recorded)
            ),
        )
        .with_hint(format!(
            "Move it away first (it is what `ghpkg restore --from-log {}` undoes), or choose \
             new files with --journal or --plan-out.",
            journal.display()
        )));
    }
    Ok(())
}

/// The journal an apply of `plan` by this prune uses.
fn journal_path(args: &PruneArgs, plan: &Plan) -> PathBuf {
    args.journal
        .clone()
        .unwrap_or_else(|| default_journal_path(args.plan_out.as_deref(), &plan.sha256))
}

/// What prune plans by: the rule flags (a policy of one rule over the packages named), or a
/// policy file's rules for one package type.
enum Planner {
    Flags {
        package_type: PackageType,
        rules: Rules,
    },
    Policy {
        package_type: PackageType,
        policy: Policy,
    },
}

impl Planner {
    /// The planner `args` ask for, checked before anything is sent.
    fn of(args: &PruneArgs) -> Result<Planner, Failure> {
        let Some(path) = &args.policy else {
            let rules = args.rules.rules();
            rules.validate()?;
            let package_type = args.package_type.clone().ok_or_else(|| {
                Failure::new(CliKind::Usage, Exit::Usage, "give the package type")
            })?;
            return Ok(Planner::Flags {
                package_type,
                rules,
            });
        };
        let policy = policy::load(path)?;
        let types = policy.package_types();
        let package_type = match &args.package_type {
            Some(given) if types.contains(&given.to_string()) => given.clone(),
            Some(given) => {
                return Err(Failure::new(
                    CliKind::Usage,
                    Exit::Usage,
                    format!(
                        "no rule of {} is for {given} packages (its rules are for {})",
                        path.display(),
                        types.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            None if types.len() == 1 => {
                PackageType::from(types.first().map(String::as_str).unwrap_or_default())
            }
            None => {
                return Err(Failure::new(
                    CliKind::Usage,
                    Exit::Usage,
                    format!(
                        "the rules of {} are for several package types ({}), and a plan covers one",
                        path.display(),
                        types.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                )
                .with_hint(
                    "Name the type to plan: `ghpkg prune --policy FILE TYPE`, once per type.",
                ));
            }
        };
        Ok(Planner::Policy {
            package_type,
            policy,
        })
    }

    fn package_type(&self) -> &PackageType {
        match self {
            Planner::Flags { package_type, .. } | Planner::Policy { package_type, .. } => {
                package_type
            }
        }
    }

    /// What to resolve against the owner's packages: the names and globs given, or the policy's
    /// package patterns (every package of the type when a rule has none, or a regex).
    fn selectors(&self, args: &PruneArgs) -> Vec<String> {
        let Planner::Policy { policy, .. } = self else {
            return args.packages.clone();
        };
        let type_name = self.package_type().to_string();
        let mut selectors = Vec::new();
        for rule in policy
            .rules
            .iter()
            .filter(|rule| rule.package_type.eq_ignore_ascii_case(&type_name))
        {
            let literal_or_glob = |p: &ghpkg::retention::TagPattern| !p.as_str().starts_with("re:");
            if rule.packages.is_empty() || !rule.packages.iter().all(literal_or_glob) {
                return vec!["*".to_owned()];
            }
            selectors.extend(rule.packages.iter().map(|p| p.as_str().to_owned()));
        }
        selectors.sort();
        selectors.dedup();
        selectors
    }

    /// Whether the package `name` is planned: any named package with flags; with a policy, one
    /// that a rule of the type selects.
    fn selects(&self, name: &str) -> bool {
        match self {
            Planner::Flags { .. } => true,
            Planner::Policy {
                package_type,
                policy,
            } => policy
                .rules
                .iter()
                .any(|rule| rule.selects_package(&package_type.to_string(), name)),
        }
    }

    async fn facts(
        &self,
        package: &ghpkg::PackageHandle,
        registry: &ghpkg::registry::Registry,
        target: &Target,
        now: chrono::DateTime<chrono::Utc>,
        on_event: &(dyn Fn(ghpkg::PlanningEvent<'_>) + Send + Sync),
    ) -> ghpkg::Result<PackageFacts> {
        match self {
            Planner::Flags { rules, .. } => {
                package
                    .facts_for_plan(registry, target, rules, now, on_event)
                    .await
            }
            Planner::Policy { policy, .. } => {
                package
                    .facts_for_policy(registry, target, policy, now, on_event)
                    .await
            }
        }
    }

    fn plan(
        &self,
        target: &Target,
        facts: Vec<PackageFacts>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Plan, ghpkg::retention::PlanError> {
        match self {
            Planner::Flags { rules, .. } => ghpkg::retention::plan(target, facts, rules, now),
            Planner::Policy { policy, .. } => plan_policy(target, facts, policy, now),
        }
    }
}

/// Lists and plans: the packages the selectors name, each package's facts, the plan. A package
/// whose listing fails for a reason of its own (not the token's) is left out of the plan and
/// reported as not done; the others are planned.
async fn make_plan(
    context: &Context<'_>,
    connection: &Connection,
    args: &PruneArgs,
    planner: &Planner,
) -> Result<Planning, Failure> {
    let scope = connection.scope();
    let package_type = planner.package_type();
    let selectors = planner.selectors(args);
    let mut names = scope
        .resolve_packages(package_type, &selectors)
        .await
        .map_err(explain_listing_failure)?;
    names.retain(|name| planner.selects(name));
    if names.is_empty() {
        let wanted = match &args.policy {
            Some(path) => format!("a rule of {}", path.display()),
            None => args.packages.join(" "),
        };
        context.out.warn(&format!(
            "no {package_type} package of {} matches {wanted}",
            connection.owner,
        ));
    }
    let login = connection.authenticated_login().await;
    let target = scope.target(package_type, login.as_deref());
    // Container images also need their image graph, read from the registry (every manifest,
    // by digest, when the rules could delete anything); other package types get none and send
    // nothing to it.
    let registry = connection.registry(&args.registry)?;
    // A listing that fails late resumes in the next run from its pages saved in the cache.
    let checkpoints = args
        .registry
        .cache_dir(|name| std::env::var(name).ok())
        .map(|dir| ghpkg::ListingCheckpoints::new(dir.join("listings")));
    let progress = Progress::planning(context.out, names.len(), connection.client.pacing());
    let on_event = |event: ghpkg::PlanningEvent<'_>| progress.planning_event(event);
    // Packages without an image graph are listed a few at a time: each listing's counts and
    // first page are round trips of their own, which the other listings' pages fill. Images
    // are read one package at a time, so that a registry problem is told of the package that
    // met it.
    let at_once = if target.is_container() {
        1
    } else {
        PACKAGES_AT_ONCE
    };
    let listed = futures::stream::iter(&names)
        .map(|name| {
            let mut package = scope.package(package_type.clone(), name.clone());
            if let Some(checkpoints) = &checkpoints {
                package = package.with_checkpoints(checkpoints.clone());
            }
            let (registry, target, on_event, progress) = (&registry, &target, &on_event, &progress);
            async move {
                progress.message(name.as_str());
                let problems_before = registry.problems_seen();
                let facts = planner
                    .facts(&package, registry, target, context.now, on_event)
                    .await;
                let problem = (registry.problems_seen() > problems_before)
                    .then(|| registry.last_problem())
                    .flatten();
                progress.advance();
                (name, facts, problem)
            }
        })
        .buffered(at_once);
    futures::pin_mut!(listed);
    let mut facts = Vec::with_capacity(names.len());
    let mut registry_problems = BTreeMap::new();
    let mut not_listed = Vec::new();
    while let Some((name, result, problem)) = listed.next().await {
        match result {
            Ok(package_facts) => facts.push(package_facts),
            Err(error) if is_the_packages_own(&error) => not_listed.push(PackageResult::not_done(
                name.as_str(),
                NotDoneReason::ListingFailed,
                error.summary(),
            )),
            Err(error) => return Err(error.into()),
        }
        if let Some(problem) = problem {
            registry_problems.insert(name.clone(), problem);
        }
    }
    progress.finish();
    Ok(Planning {
        plan: planner.plan(&target, facts, context.now)?,
        registry_problems,
        not_listed,
    })
}

/// Whether a failure to list one package is that package's own (GitHub or the network failed
/// it), so that the other packages may still be planned. The token's, the owner's and the
/// names' failures stop the run: every package would meet them.
fn is_the_packages_own(error: &ghpkg::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::Transport
            | ErrorKind::Http
            | ErrorKind::Decode
            | ErrorKind::Pagination
            | ErrorKind::RateLimited
            | ErrorKind::Redirected
            | ErrorKind::TooLarge
    )
}

/// Globs are matched against the owner's package list: when listing is refused, say so.
fn explain_listing_failure(error: ghpkg::Error) -> Failure {
    let listing = error
        .operation()
        .and_then(|operation| operation.action())
        .is_some_and(|action| action == Action::ListPackages);
    let refused = matches!(
        error.kind(),
        ghpkg::ErrorKind::MissingScopes | ghpkg::ErrorKind::Forbidden | ghpkg::ErrorKind::NotFound
    );
    let failure = Failure::from(error);
    if listing && refused {
        let hint = format!(
            "Package globs are matched against the owner's package list, so they need a token \
             that may list the owner's packages (read:packages; for an organization, \
             membership). Name the packages instead to skip the listing. {}",
            failure.hint.clone().unwrap_or_default()
        );
        return failure.with_hint(hint.trim_end());
    }
    failure
}

/// Decides what happens after the plan: the budget, the confirmation, the apply. Returns the
/// exit code; fills in `result.apply` or `result.not_applied`, and `result.packages` from
/// `packages` (the dry run's outcomes) or from the apply.
async fn settle(
    context: &Context<'_>,
    connection: &Connection,
    args: &PruneArgs,
    result: &mut PruneResult,
    packages: Vec<PackageResult>,
    registry_problems: &BTreeMap<String, RegistryProblem>,
) -> Result<Exit, Failure> {
    let plan = &result.plan;
    let not_listed: Vec<PackageResult> = packages
        .iter()
        .filter(|package| !plan.packages.iter().any(|p| p.name == package.package))
        .cloned()
        .collect();
    result.packages = outcomes::infos(&packages);
    let dry_run_exit = outcomes::exit_of(outcomes::reasons(&packages));
    if plan.is_refused() {
        let failure = over_budget(plan);
        if args.apply {
            if !context.out.json {
                context.out.failure(&failure);
            }
            result.not_applied = Some(ErrorInfo::from(&failure));
            result.packages =
                outcomes::infos(&outcomes::not_applied(packages, NotDoneReason::OverBudget));
        }
        return Ok(Exit::OverBudget);
    }
    if !args.apply {
        if !plan.deletions.is_empty() && !context.out.json {
            context.out.text(&format!(
                "\n{}\n",
                styled(
                    DIM,
                    format!(
                        "Dry run: nothing was deleted. Add --apply to delete {}.",
                        counted(plan.deletions.len(), "version")
                    )
                )
            ));
        }
        return Ok(dry_run_exit);
    }
    if plan.deletions.is_empty() {
        if dry_run_exit == Exit::Success {
            context.out.note("Nothing to delete.");
        }
        return Ok(dry_run_exit);
    }
    let question = format!(
        "Delete {} of {}",
        counted(plan.deletions.len(), "version"),
        plan.inputs.target
    );
    let action = format!("delete {}", counted(plan.deletions.len(), "version"));
    if let Err(failure) = confirm(&question, &action, args.yes) {
        if !context.out.json {
            context.out.failure(&failure);
        }
        result.not_applied = Some(ErrorInfo::from(&failure));
        result.packages = outcomes::infos(&outcomes::not_applied(
            packages,
            NotDoneReason::NotConfirmed,
        ));
        return Ok(failure.exit);
    }
    let journal = journal_path(args, plan);
    let run = Run {
        journal: &journal,
        plan_file: args.plan_out.as_deref(),
        registry: &args.registry,
        yes: args.yes,
        registry_problems,
    };
    let report: RunReport = execute(context, connection, plan, &run).await?;
    if !context.out.json {
        context.out.text("\n");
        print_report(context, &report);
    }
    // The apply's outcomes, and the packages that could not even be listed.
    let mut packages = report.packages.clone();
    packages.extend(outcomes::infos(&not_listed));
    let exit = match exit_of(&report) {
        Exit::Success | Exit::PartlyFailed if !not_listed.is_empty() => Exit::NotDone,
        exit => exit,
    };
    result.packages = packages;
    result.apply = Some(report);
    Ok(exit)
}

/// Step outputs, annotations and a summary, inside GitHub Actions.
fn prune_to_actions(context: &Context<'_>, result: &PruneResult, exit: Exit) {
    let Some(actions) = GithubActions::detect() else {
        return;
    };
    if !context.out.json {
        context
            .out
            .text(&github_actions::not_done_annotations(&result.packages));
    }
    let plan = &result.plan;
    let counts = result
        .apply
        .as_ref()
        .map(|report| report.counts.clone())
        .unwrap_or_default();
    let journal = result
        .apply
        .as_ref()
        .and_then(|report| report.journal.clone())
        .unwrap_or_default();
    let outputs = [
        ("planned", plan.deletions.len().to_string()),
        ("kept", plan.summary.keep.to_string()),
        ("deleted", counts.deleted.to_string()),
        ("failed", counts.not_done().to_string()),
        ("skipped", counts.skipped.to_string()),
        ("over-budget", plan.is_refused().to_string()),
        ("plan-sha256", plan.sha256.clone()),
        ("plan-file", result.plan_file.clone().unwrap_or_default()),
        ("journal", journal),
        ("not-done", github_actions::not_done_count(&result.packages)),
        (
            "outcomes",
            github_actions::outcomes_output(&result.packages),
        ),
    ];
    let markdown = summary_markdown(result, exit);
    if let Err(error) = actions
        .set_outputs(&outputs)
        .and_then(|()| actions.summarize(&markdown))
    {
        context
            .out
            .warn(&format!("cannot write the GitHub Actions outputs: {error}"));
    }
}

fn summary_markdown(result: &PruneResult, exit: Exit) -> String {
    let plan = &result.plan;
    let mode = match (&result.apply, &result.not_applied) {
        (Some(_), _) => "applied",
        (None, Some(_)) => "not applied",
        (None, None) => "dry run",
    };
    let mut out = format!(
        "### ghpkg prune ({mode}): {}\n\n| | versions |\n|---|---:|\n| planned deletions | {} |\n\
         | kept | {} |\n",
        markdown_cell(&plan.inputs.target.to_string()),
        plan.deletions.len(),
        plan.summary.keep
    );
    if let Some(report) = &result.apply {
        let counts = &report.counts;
        out.push_str(&format!(
            "| deleted | {} |\n| refused or failed | {} |\n| skipped | {} |\n",
            counts.deleted,
            counts.not_done(),
            counts.skipped
        ));
    }
    out.push_str(&format!("\nPlan SHA-256 `{}`", plan.sha256));
    if plan.is_refused() {
        out.push_str(" — **over budget, not applied**");
    }
    if let Some(reason) = &result.not_applied {
        out.push_str(&format!(" — {}", markdown_cell(&reason.message)));
    }
    out.push_str(".\n\n");
    out.push_str(&github_actions::not_done_markdown(
        &result.packages,
        exit.code(),
    ));
    if let Some(resume) = result
        .apply
        .as_ref()
        .and_then(|report| report.resume.as_ref())
    {
        out.push_str(&format!("Interrupted; resume with `{resume}`.\n\n"));
    }
    if !plan.deletions.is_empty() {
        out.push_str("<details><summary>Deletions</summary>\n\n| package | id | tags / name | reason |\n|---|---:|---|---|\n");
        for deletion in plan.deletions.iter().take(SUMMARY_DELETIONS) {
            let decision = plan
                .packages
                .iter()
                .find(|package| *package.name == *deletion.package)
                .and_then(|package| package.decisions.iter().find(|d| d.id == deletion.id));
            let (label, reason) = decision
                .map(|d| {
                    let label = if d.tags.is_empty() {
                        d.name.to_string()
                    } else {
                        d.tags.join(", ")
                    };
                    (label, d.reason.as_str())
                })
                .unwrap_or_else(|| (deletion.name.to_string(), ""));
            out.push_str(&format!(
                "| {} | {} | {} | `{reason}` |\n",
                markdown_cell(&deletion.package),
                deletion.id,
                markdown_cell(&label)
            ));
        }
        if plan.deletions.len() > SUMMARY_DELETIONS {
            out.push_str(&format!(
                "\n… and {} more (the plan file lists all).\n",
                plan.deletions.len() - SUMMARY_DELETIONS
            ));
        }
        out.push_str("\n</details>\n\n");
    }
    out
}
