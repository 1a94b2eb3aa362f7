//! [`Failure`]: why a command stopped, as one value that carries a stable kind, a message, a
//! hint and the exit code. Every error of the libraries is turned into one here, and nowhere
//! else; printing it (human or JSON) is [`crate::render`]'s.
//!
//! The libraries name their own concepts (`Rules::max_deletions`, `ClientBuilder::base_url`);
//! this is where those become the flags that set them: from a typed error's fields where there
//! is one, else through [`ADVICE_ON_THE_COMMAND_LINE`].

use std::path::Path;

use ghpkg::ErrorKind;
use ghpkg::apply::ApplyError;
use ghpkg::journal::JournalError;
use ghpkg::retention::{ExpectError, PlanError, PlanLoadError, RulesError};

use crate::exit::Exit;

/// Why a command stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// A stable name for programs: one of the library's error kinds (`not-found`,
    /// `missing-scopes`, …, see `ghpkg::ErrorKind`), an apply error kind (`over-budget`,
    /// `wrong-host`, `journal`), or the command line's own (`usage`, `invalid-rules`,
    /// `invalid-plan`, `plan-changed`, `confirmation-required`, `declined`, `io`, `demo`).
    pub kind: String,
    /// What happened.
    pub message: String,
    /// What to do next, when there is something to say.
    pub hint: Option<String>,
    /// The HTTP status GitHub answered with, when it answered.
    pub status: Option<u16>,
    /// The exit code.
    pub exit: Exit,
}

impl Failure {
    /// A failure of `kind` that exits with `exit`.
    pub fn new(kind: &str, exit: Exit, message: impl Into<String>) -> Failure {
        Failure {
            kind: kind.to_string(),
            message: message.into(),
            hint: None,
            status: None,
            exit,
        }
    }

    /// A wrong command line (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new("usage", Exit::Usage, message)
    }

    /// A file that could not be read or written.
    pub fn io(what: &str, path: &Path, error: &std::io::Error) -> Failure {
        Failure::new(
            "io",
            Exit::Failure,
            format!("cannot {what} {}: {error}", path.display()),
        )
    }

    /// The same failure, with `hint` as what to do next.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    /// Deleting needs a confirmation that cannot be asked for: no terminal, and no `--yes`.
    pub fn confirmation_required(what: &str) -> Failure {
        Failure::new(
            "confirmation-required",
            Exit::NotConfirmed,
            format!("refusing to {what} without confirmation: there is no terminal to ask on"),
        )
        .with_hint(
            "Review what would be deleted (run the command without --apply, or look at the \
             plan), then pass --yes to confirm without a prompt. A prompt needs standard input \
             and standard error on a terminal (--with-token takes standard input).",
        )
    }

    /// The person at the prompt did not answer yes.
    pub fn declined() -> Failure {
        Failure::new(
            "declined",
            Exit::NotConfirmed,
            "not confirmed at the prompt; nothing was deleted",
        )
    }
}

/// Advice a library error gives in the library's terms, and the same advice on the command
/// line, for errors that carry only a message.
pub const ADVICE_ON_THE_COMMAND_LINE: &[(&str, &str)] = &[(
    "address it through Client::org or Client::user instead of Client::authenticated_user",
    "pass --user or --org",
)];

/// `message` with the library's advice put in flags.
fn on_the_command_line(message: String) -> String {
    ADVICE_ON_THE_COMMAND_LINE
        .iter()
        .fold(message, |message, (library, flags)| {
            message.replace(library, flags)
        })
}

impl From<ghpkg::Error> for Failure {
    fn from(error: ghpkg::Error) -> Failure {
        // Names and inputs come from the command line: a wrong one is a usage error.
        let exit = match error.kind() {
            ErrorKind::InvalidInput | ErrorKind::InvalidName => Exit::Usage,
            _ => Exit::Failure,
        };
        Failure {
            kind: error.kind().as_str().to_string(),
            message: on_the_command_line(error.summary()),
            hint: Some(on_the_command_line(error.hint())),
            status: error.status(),
            exit,
        }
    }
}

impl From<ApplyError> for Failure {
    fn from(error: ApplyError) -> Failure {
        let exit = match error {
            ApplyError::OverBudget { .. } => Exit::OverBudget,
            _ => Exit::Failure,
        };
        let message = match &error {
            ApplyError::OverBudget { over_by_count } => format!(
                "the plan is over its deletion budget ({}); it was printed but will not be \
                 applied — raise --max-deletions/--max-percent or narrow the rules",
                match over_by_count {
                    Some(count) => format!("{count} deletions over --max-deletions"),
                    None => "over --max-percent".into(),
                }
            ),
            ApplyError::WrongHost { plan, client } => format!(
                "the plan is for {plan}, but the client talks to {client}; use --host/--api-url \
                 for {plan}"
            ),
            _ => error.to_string(),
        };
        Failure::new(error.kind().as_str(), exit, message)
    }
}

impl From<JournalError> for Failure {
    fn from(error: JournalError) -> Failure {
        Failure::from(ApplyError::Journal(error))
    }
}

impl From<PlanLoadError> for Failure {
    fn from(error: PlanLoadError) -> Failure {
        Failure::new("invalid-plan", Exit::Failure, error.to_string())
    }
}

impl From<ExpectError> for Failure {
    fn from(error: ExpectError) -> Failure {
        match error {
            ExpectError::NotAHash { .. } => Failure::usage(error.to_string()),
            ExpectError::Mismatch { .. } => {
                Failure::new("plan-changed", Exit::Failure, error.to_string())
            }
        }
    }
}

impl From<RulesError> for Failure {
    fn from(error: RulesError) -> Failure {
        let message = match error {
            RulesError::NothingSelected => "say which versions to delete: give keep_newest \
                 (--keep), older_than (--older-than), include_tags (--include), tag_selection \
                 (--tagged/--untagged) or orphans (--orphans)"
                .to_string(),
            _ => error.to_string(),
        };
        let failure = Failure::new("invalid-rules", Exit::Usage, message);
        match error {
            RulesError::IncludedAndProtected { .. } => failure.with_hint(
                "`latest` is protected by default; pass --no-default-protect to drop that \
                 protection",
            ),
            _ => failure,
        }
    }
}

impl From<PlanError> for Failure {
    fn from(error: PlanError) -> Failure {
        match error {
            PlanError::Rules(rules) => Failure::from(rules),
            other => Failure::new("invalid-facts", Exit::Failure, other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_over_budget_apply_exits_with_the_budget_code_and_names_the_budget_flags() {
        let failure = Failure::from(ApplyError::OverBudget {
            over_by_count: Some(3),
        });
        assert_eq!(failure.kind, "over-budget");
        assert_eq!(failure.exit, Exit::OverBudget);
        assert!(
            failure
                .message
                .contains("(3 deletions over --max-deletions)"),
            "{}",
            failure.message
        );
        let by_percent = Failure::from(ApplyError::OverBudget {
            over_by_count: None,
        });
        assert!(by_percent.message.contains("(over --max-percent)"));
        assert!(
            by_percent
                .message
                .contains("raise --max-deletions/--max-percent")
        );
    }

    #[test]
    fn rules_that_select_nothing_name_the_flags_that_select() {
        let failure = Failure::from(RulesError::NothingSelected);
        for flag in [
            "--keep",
            "--older-than",
            "--include",
            "--tagged/--untagged",
            "--orphans",
        ] {
            assert!(failure.message.contains(flag), "{}", failure.message);
        }
    }

    #[test]
    fn library_advice_in_a_message_becomes_the_flags_that_give_it() {
        let (library, flags) = ADVICE_ON_THE_COMMAND_LINE[0];
        let failure = Failure::from(ghpkg::Error::InvalidInput {
            message: format!("GitHub did not name the owner of web/app; {library}"),
        });
        assert!(
            failure.message.ends_with(&format!("web/app; {flags}")),
            "{}",
            failure.message
        );
    }

    #[test]
    fn a_hash_that_is_not_a_hash_is_a_usage_error_and_a_changed_plan_a_failure() {
        let not_a_hash = Failure::from(ExpectError::NotAHash {
            given: "xyz".into(),
        });
        assert_eq!(not_a_hash.exit, Exit::Usage);
        let changed = Failure::from(ExpectError::Mismatch {
            expected: "a".repeat(64),
            actual: "b".repeat(64),
        });
        assert_eq!(
            (changed.kind.as_str(), changed.exit),
            ("plan-changed", Exit::Failure)
        );
    }
}
