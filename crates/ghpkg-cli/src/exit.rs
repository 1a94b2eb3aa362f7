//! The exit codes: the one table of what `ghpkg` exits with, and why. The README's table is this
//! one; a test keeps the two in step.

use std::process::ExitCode;

/// How a run of `ghpkg` ended, as its exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Exit {
    /// `0`: everything asked was done (a dry run printed its plan; skipped versions that changed
    /// since the plan count as done, since skipping them is the safe outcome).
    Success,
    /// `1`: the command failed: GitHub refused or could not be reached, a file could not be
    /// read or written, a plan or journal was refused. For `auth status`: no token, GitHub
    /// could not be reached or answered with an error, or it refused the token.
    Failure,
    /// `2`: the command line is wrong: an unknown flag, a missing argument, an invalid age,
    /// pattern, name or rule set. Nothing was sent.
    Usage,
    /// `3`: bulk work finished, but some versions were not deleted or restored: GitHub refused
    /// them (the last tagged version, more than 5,000 downloads) or the request failed. The
    /// journal records which; rerun the same command to retry the failed ones.
    PartlyFailed,
    /// `4`: the plan is over its deletion budget (`--max-deletions`, `--max-percent`): it was
    /// printed (and saved with `--plan-out`), and nothing was deleted.
    OverBudget,
    /// `5`: deleting needs a confirmation that was not given: no terminal to ask on and no
    /// `--yes`, or the answer at the prompt was not yes. Nothing was deleted.
    NotConfirmed,
    /// `6`: `verify` found damage: a tag that does not resolve, or a child or referrer of a
    /// tagged image that is missing. The output names each broken tag.
    Damaged,
    /// `7`: a package was not done: its graph or listing could not be trusted, the registry
    /// could not be read (unreachable, an untrusted certificate, the token refused), its
    /// listing failed, or a run stopped before sending its deletions. Nothing in it was
    /// deleted that was not sent; the output names each package, why, and what to do.
    NotDone,
    /// `130`: interrupted (Ctrl-C) during an apply: the deletions in flight finished or were
    /// abandoned, the journal holds every outcome, and the output prints the command that
    /// resumes.
    /// `8`: `auth status` found a token GitHub accepts, but its classic scopes do not allow
    /// every operation (deleting needs `delete:packages`, restoring `write:packages`). The
    /// output names the missing scopes of each operation.
    Insufficient,
    /// `130`: interrupted (Ctrl-C) during an apply: the deletions in flight finished or were
    /// abandoned, the journal holds every outcome, and the output prints the command that
    /// resumes.
    Interrupted,
}

impl Exit {
    /// Every exit code, in numeric order.
    pub const ALL: [Exit; 10] = [
        Exit::Success,
        Exit::Failure,
        Exit::Usage,
        Exit::PartlyFailed,
        Exit::OverBudget,
        Exit::NotConfirmed,
        Exit::Damaged,
        Exit::NotDone,
        Exit::Insufficient,
        Exit::Interrupted,
    ];

    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::PartlyFailed => 3,
            Exit::OverBudget => 4,
            Exit::NotConfirmed => 5,
            Exit::Damaged => 6,
            Exit::NotDone => 7,
            Exit::Insufficient => 8,
            // The shells' convention for a process stopped by SIGINT (128 + 2).
            Exit::Interrupted => 130,
        }
    }

    /// A stable name, as the JSON error shape's `exit` field carries it.
    pub fn name(self) -> &'static str {
        match self {
            Exit::Success => "success",
            Exit::Failure => "failure",
            Exit::Usage => "usage",
            Exit::PartlyFailed => "partly-failed",
            Exit::OverBudget => "over-budget",
            Exit::NotConfirmed => "not-confirmed",
            Exit::Damaged => "damaged",
            Exit::NotDone => "not-done",
            Exit::Insufficient => "insufficient",
            Exit::Interrupted => "interrupted",
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_distinct_and_in_order() {
        let codes: Vec<u8> = Exit::ALL.iter().map(|exit| exit.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 6, 7, 8, 130]);
    }
}
