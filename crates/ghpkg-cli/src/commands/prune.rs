//! `ghpkg prune TYPE NAME|GLOB… [rules]`: resolves the packages, lists each one once, plans
//! with the retention engine, prints the plan, saves it with `--plan-out`, and with `--apply`
//! deletes it after a confirmation (the run is `apply`'s).
//!
//! The dry run is lean: one listing of the owner's packages only when a glob is given, then one
//! paged listing of each package's versions with its version count before and after, and for
//! container images every manifest when the rules could delete anything
//! (`PackageHandle::facts_for_plan`: by digest, each at most once, none twice with
//! `--manifest-cache`); nothing else is sent.

use ghpkg::Action;
use ghpkg::retention::Plan;

use crate::cli::PruneArgs;
use crate::connection::Connection;
use crate::exit::Exit;
use crate::failure::Failure;
use crate::github_actions::{GithubActions, markdown_cell};
use crate::progress::Progress;
use crate::render::time::counted;
use crate::render::{self, DIM, styled};
use crate::shapes::{ErrorInfo, PruneResult, RunReport};

use super::Context;
use super::apply::{default_journal_path, execute, exit_of, over_budget, print_report};
use super::confirm::confirm;

/// How many deletions the GitHub Actions step summary lists.
const SUMMARY_DELETIONS: usize = 100;

/// Runs `ghpkg prune`.
pub async fn run(context: &Context<'_>, args: &PruneArgs) -> Result<Exit, Failure> {
    let rules = args.rules.rules();
    rules.validate()?;
    let connection = context.connect().await?;
    let plan = make_plan(context, &connection, args, &rules).await?;
    let plan_file = match &args.plan_out {
        Some(path) => {
            ghpkg::journal::write_atomically(path, plan.to_json().as_bytes())
                .map_err(|error| Failure::io("write the plan to", path, &error))?;
            Some(path.display().to_string())
        }
        None => None,
    };
    if !context.out.json {
        context
            .out
            .text(&render::plan::plan(&plan, context.now, args.verbose));
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
    let mut result = PruneResult {
        plan,
        plan_file,
        apply: None,
        not_applied: None,
    };
    let exit = settle(context, &connection, args, &mut result).await?;
    if context.out.json {
        context.out.json(&result);
    }
    prune_to_actions(context, &result);
    Ok(exit)
}

/// Lists and plans: the packages the selectors name, each package's facts, the plan.
async fn make_plan(
    context: &Context<'_>,
    connection: &Connection,
    args: &PruneArgs,
    rules: &ghpkg::retention::Rules,
) -> Result<Plan, Failure> {
    let scope = connection.scope();
    let names = scope
        .resolve_packages(&args.package_type, &args.packages)
        .await
        .map_err(explain_listing_failure)?;
    if names.is_empty() {
        context.out.warn(&format!(
            "no {} package of {} matches {}",
            args.package_type,
            connection.owner,
            args.packages.join(" ")
        ));
    }
    let login = connection.authenticated_login().await;
    let target = scope.target(&args.package_type, login.as_deref());
    // Container images also need their image graph, read from the registry (every manifest,
    // by digest, when the rules could delete anything); other package types get none and send
    // nothing to it.
    let registry = connection.registry(&args.registry)?;
    let progress = Progress::listing(context.out, names.len());
    let mut facts = Vec::with_capacity(names.len());
    for name in &names {
        progress.message(name.as_str());
        let package = scope.package(args.package_type.clone(), name.clone());
        facts.push(
            package
                .facts_for_plan(&registry, &target, rules, context.now)
                .await?,
        );
        progress.advance();
    }
    progress.finish();
    Ok(ghpkg::retention::plan(&target, &facts, rules, context.now)?)
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
/// exit code; fills in `result.apply` or `result.not_applied`.
async fn settle(
    context: &Context<'_>,
    connection: &Connection,
    args: &PruneArgs,
    result: &mut PruneResult,
) -> Result<Exit, Failure> {
    let plan = &result.plan;
    if plan.is_refused() {
        let failure = over_budget(plan);
        if args.apply {
            if !context.out.json {
                context.out.failure(&failure);
            }
            result.not_applied = Some(ErrorInfo::from(&failure));
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
        return Ok(Exit::Success);
    }
    if plan.deletions.is_empty() {
        context.out.note("Nothing to delete.");
        return Ok(Exit::Success);
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
        return Ok(failure.exit);
    }
    let journal = args
        .journal
        .clone()
        .unwrap_or_else(|| default_journal_path(args.plan_out.as_deref(), &plan.sha256));
    let report: RunReport = execute(context, connection, plan, &journal, &args.registry).await?;
    if !context.out.json {
        context.out.text("\n");
        print_report(context, &report);
    }
    let exit = exit_of(&report);
    result.apply = Some(report);
    Ok(exit)
}

/// Step outputs and a summary, inside GitHub Actions.
fn prune_to_actions(context: &Context<'_>, result: &PruneResult) {
    let Some(actions) = GithubActions::detect() else {
        return;
    };
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
    ];
    let markdown = summary_markdown(result);
    if let Err(error) = actions
        .set_outputs(&outputs)
        .and_then(|()| actions.summarize(&markdown))
    {
        context
            .out
            .warn(&format!("cannot write the GitHub Actions outputs: {error}"));
    }
}

fn summary_markdown(result: &PruneResult) -> String {
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
    if !plan.deletions.is_empty() {
        out.push_str("<details><summary>Deletions</summary>\n\n| package | id | tags / name | reason |\n|---|---:|---|---|\n");
        for deletion in plan.deletions.iter().take(SUMMARY_DELETIONS) {
            let decision = plan
                .packages
                .iter()
                .find(|package| package.name == deletion.package)
                .and_then(|package| package.decisions.iter().find(|d| d.id == deletion.id));
            let (label, reason) = decision
                .map(|d| {
                    let label = if d.tags.is_empty() {
                        d.name.clone()
                    } else {
                        d.tags.join(", ")
                    };
                    (label, d.reason.as_str())
                })
                .unwrap_or_else(|| (deletion.name.clone(), ""));
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
