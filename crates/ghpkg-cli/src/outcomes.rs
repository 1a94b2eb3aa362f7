//! Package outcomes on the command line: what to do about each reason a package was not done
//! (in flags), the exit code a run's outcomes end with, and the outcomes as `--json` carries
//! them. The outcomes themselves are the library's ([`ghpkg::outcome`]).

use ghpkg::outcome::{NotDoneReason, PackageOutcome, PackageResult};

use crate::exit::Exit;
use crate::shapes::PackageOutcomeInfo;

/// What to do about a package not done for `reason`, in the command line's terms.
pub fn what_to_do(reason: NotDoneReason) -> &'static str {
    match reason {
        NotDoneReason::ListingFailed => {
            "Run again later; the detail says what failed (GitHub's answer, or the network)."
        }
        NotDoneReason::RegistryUnreachable => {
            "Check the network and --registry-url (by default ghcr.io for github.com, \
             containers.HOST for Enterprise Server), then run again."
        }
        NotDoneReason::Tls => {
            "The registry's certificate is not trusted: check --registry-url, and if the \
             registry uses a private CA, add it to the system's trust store. Only for a test \
             registry you trust, pass --insecure-skip-tls-verify."
        }
        NotDoneReason::RegistryRefused => {
            "The token may not pull the package's images: give it read:packages (for \
             GITHUB_TOKEN, give the repository access to the package in its \"Manage Actions \
             access\" settings), then run again."
        }
        NotDoneReason::UnreadableGraph => {
            "Nothing is deleted in a package until every manifest it needs can be read: fix or \
             delete the manifest the detail names (`ghpkg verify container PACKAGE` shows what \
             is broken), or protect it with --protect-version, then run again."
        }
        NotDoneReason::IncompleteListing => {
            "The package changed while it was listed: run again when nothing else is pushing \
             to it or deleting from it."
        }
        NotDoneReason::GraphNotRead => {
            "Plan again with `ghpkg prune`, which reads the manifests; a container package is \
             never pruned without them."
        }
        NotDoneReason::OverBudget => {
            "Narrow the rules, or raise --max-deletions/--max-percent, and plan again."
        }
        NotDoneReason::NotConfirmed => {
            "Answer yes at the prompt, or pass --yes after reviewing the plan."
        }
        NotDoneReason::NotAttempted => {
            "Apply the same plan again (`ghpkg apply PLAN`, the same journal): it sends only \
             what was not done."
        }
        NotDoneReason::NoPermission => {
            "The token may not delete these versions: for a personal access token (classic), \
             add delete:packages (`gh auth refresh -s delete:packages`); for GITHUB_TOKEN, give \
             the workflow's repository the Admin role in the package's \"Manage Actions access\" \
             settings and the job `permissions: packages: write`. Then apply the plan again."
        }
        NotDoneReason::Refused => {
            "GitHub keeps refusing these: the journal gives its reason for each (the last \
             tagged version goes only with its package; a public version with more than 5,000 \
             downloads only through GitHub support)."
        }
        NotDoneReason::DeletesFailed => {
            "Apply the same plan again with the same journal to retry the failed deletions."
        }
    }
}

/// The packages of `packages` that were not done, in order.
pub fn not_done(packages: &[PackageOutcomeInfo]) -> Vec<&PackageOutcomeInfo> {
    packages
        .iter()
        .filter(|package| package.reason.is_some())
        .collect()
}

/// How a run whose packages were not done for `reasons` exits: [`Exit::NotDone`] when a
/// package was not done before its deletions were sent, else [`Exit::PartlyFailed`] when some
/// were sent and refused or failed, else [`Exit::Success`].
pub fn exit_of(reasons: impl IntoIterator<Item = NotDoneReason>) -> Exit {
    let mut exit = Exit::Success;
    for reason in reasons {
        if !reason.deletes_were_sent() {
            return Exit::NotDone;
        }
        exit = Exit::PartlyFailed;
    }
    exit
}

/// The reasons the packages of `results` were not done.
pub fn reasons(results: &[PackageResult]) -> impl Iterator<Item = NotDoneReason> + '_ {
    results
        .iter()
        .filter_map(|result| result.outcome.not_done())
}

/// `results` with every package the plan would have pruned marked not done for `reason`
/// (over budget, not confirmed): the plan was not applied.
pub fn not_applied(results: Vec<PackageResult>, reason: NotDoneReason) -> Vec<PackageResult> {
    results
        .into_iter()
        .map(|result| match result.outcome {
            PackageOutcome::Planned => PackageResult {
                outcome: PackageOutcome::NotDone(reason),
                detail: Some(reason.description().to_string()),
                ..result
            },
            _ => result,
        })
        .collect()
}

/// The outcomes as `--json` carries them.
pub fn infos(results: &[PackageResult]) -> Vec<PackageOutcomeInfo> {
    results.iter().map(PackageOutcomeInfo::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(outcome: PackageOutcome) -> PackageResult {
        PackageResult {
            package: "web/app".into(),
            outcome,
            detail: None,
        }
    }

    #[test]
    fn a_package_held_back_exits_7_and_wins_over_deletes_that_failed() {
        let pruned = result(PackageOutcome::Pruned);
        let failed = result(PackageOutcome::NotDone(NotDoneReason::DeletesFailed));
        let held = result(PackageOutcome::NotDone(NotDoneReason::UnreadableGraph));
        let exit = |results: &[PackageResult]| exit_of(reasons(results));
        assert_eq!(exit(std::slice::from_ref(&pruned)), Exit::Success);
        assert_eq!(exit(&[pruned.clone(), failed.clone()]), Exit::PartlyFailed);
        assert_eq!(exit(&[pruned, failed, held]), Exit::NotDone);
        assert_eq!(exit(&[result(PackageOutcome::NothingToDo)]), Exit::Success);
    }

    #[test]
    fn the_advice_names_only_flags_that_exist() {
        let command = crate::cli::command();
        let mut flags = Vec::new();
        fn walk(command: &clap::Command, flags: &mut Vec<String>) {
            for argument in command.get_arguments() {
                if let Some(long) = argument.get_long() {
                    flags.push(format!("--{long}"));
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, flags);
            }
        }
        walk(&command, &mut flags);
        for &reason in NotDoneReason::ALL {
            let advice = what_to_do(reason);
            for word in advice.split(|c: char| c.is_whitespace() || c == '/' || c == ',') {
                let word = word.trim_end_matches(['.', ')', ',']);
                if word.starts_with("--") {
                    assert!(flags.iter().any(|flag| flag == word), "{reason}: {word}");
                }
            }
        }
    }
}
