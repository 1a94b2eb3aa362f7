//! [`Failure`]: why a command stopped, as one value that carries a stable kind, a message, a
//! hint and the exit code. Every error of the libraries is turned into one here, and nowhere
//! else; printing it (human or JSON) is [`crate::render`]'s.
//!
//! The libraries name their own concepts (`Rules::max_deletions`, `ClientBuilder::base_url`);
//! this is where those become the flags that set them: from a typed error's fields where there
//! is one, else through [`ADVICE_ON_THE_COMMAND_LINE`].

use std::fmt;
use std::path::Path;

use ghpkg::ErrorKind;
use ghpkg::apply::{ApplyError, ApplyErrorKind};
use ghpkg::journal::JournalError;
use ghpkg::retention::{ExpectError, PlanError, PlanLoadError, RulesError};
use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{InstanceType, Metadata, Schema, SchemaObject};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::exit::Exit;

/// Writes [`CliKind`] from its table: the enum, `ALL` and `as_str`, each code written once.
macro_rules! cli_kinds {
    (
        $(#[$enum_meta:meta])*
        pub enum CliKind {
            $( $(#[doc = $doc:literal])+ $variant:ident => $code:literal; )+
        }
    ) => {
        $(#[$enum_meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum CliKind {
            $( $(#[doc = $doc])+ $variant, )+
        }

        impl CliKind {
            /// Every kind, in the order of the table.
            pub const ALL: &'static [CliKind] = &[$(CliKind::$variant),+];

            /// The stable code.
            pub const fn as_str(self) -> &'static str {
                match self { $(CliKind::$variant => $code,)+ }
            }
        }
    };
}

cli_kinds! {
    /// The failure kinds of the command line itself (the libraries' are theirs).
    pub enum CliKind {
        /// The command line is wrong.
        Usage => "usage";
        /// The rules the flags say cannot be planned with.
        InvalidRules => "invalid-rules";
        /// The policy file cannot be used.
        InvalidPolicy => "invalid-policy";
        /// The plan file cannot be used.
        InvalidPlan => "invalid-plan";
        /// The plan is not the one `--expect` names.
        PlanChanged => "plan-changed";
        /// What GitHub listed cannot be planned with.
        InvalidFacts => "invalid-facts";
        /// Deleting needs a confirmation that cannot be asked for.
        ConfirmationRequired => "confirmation-required";
        /// The confirmation was not given.
        Declined => "declined";
        /// A file could not be read or written.
        Io => "io";
        /// The demo's emulator could not start.
        Demo => "demo";
    }
}

/// The stable kind of a [`Failure`], for programs: the library's error kinds, an apply's, and
/// the command line's own, each family from its one table. Two kinds are equal when their
/// codes are (an apply's `invalid-input` is the library's).
#[derive(Clone, Copy, Debug)]
pub enum FailureKind {
    /// One of the library's error kinds (`not-found`, `missing-scopes`, …).
    Library(ErrorKind),
    /// One of an apply's (`over-budget`, `wrong-host`, …).
    Apply(ApplyErrorKind),
    /// One of the command line's own (`usage`, `invalid-rules`, …).
    Cli(CliKind),
}

impl FailureKind {
    /// The stable code, as `--json` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Library(kind) => kind.as_str(),
            FailureKind::Apply(kind) => kind.as_str(),
            FailureKind::Cli(kind) => kind.as_str(),
        }
    }

    /// Every kind, the library's first, then an apply's, then the command line's; a code two
    /// families share is listed once, in the first.
    pub fn all() -> Vec<FailureKind> {
        let library = ErrorKind::ALL.iter().copied().map(FailureKind::Library);
        let apply = ApplyErrorKind::ALL.iter().copied().map(FailureKind::Apply);
        let cli = CliKind::ALL.iter().copied().map(FailureKind::Cli);
        let mut all: Vec<FailureKind> = Vec::new();
        for kind in library.chain(apply).chain(cli) {
            if !all.contains(&kind) {
                all.push(kind);
            }
        }
        all
    }

    /// The kind whose code is `code`, if there is one.
    pub fn from_code(code: &str) -> Option<FailureKind> {
        FailureKind::all()
            .into_iter()
            .find(|kind| kind.as_str() == code)
    }
}

impl From<ErrorKind> for FailureKind {
    fn from(kind: ErrorKind) -> FailureKind {
        FailureKind::Library(kind)
    }
}

impl From<ApplyErrorKind> for FailureKind {
    fn from(kind: ApplyErrorKind) -> FailureKind {
        FailureKind::Apply(kind)
    }
}

impl From<CliKind> for FailureKind {
    fn from(kind: CliKind) -> FailureKind {
        FailureKind::Cli(kind)
    }
}

impl PartialEq for FailureKind {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for FailureKind {}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FailureKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FailureKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        FailureKind::from_code(&code)
            .ok_or_else(|| serde::de::Error::custom(format_args!("unknown failure kind `{code}`")))
    }
}

impl JsonSchema for FailureKind {
    fn schema_name() -> String {
        "FailureKind".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let codes = |kinds: Vec<FailureKind>| -> String {
            kinds
                .iter()
                .map(|kind| format!("`{kind}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let all = FailureKind::all();
        let family =
            |keep: fn(&FailureKind) -> bool| codes(all.iter().copied().filter(keep).collect());
        SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            enum_values: Some(all.iter().map(|kind| kind.as_str().into()).collect()),
            metadata: Some(Box::new(Metadata {
                description: Some(format!(
                    "A stable kind: the library's ({}), an apply's ({}), or the command line's \
                     ({}).",
                    family(|kind| matches!(kind, FailureKind::Library(_))),
                    family(|kind| matches!(kind, FailureKind::Apply(_))),
                    family(|kind| matches!(kind, FailureKind::Cli(_))),
                )),
                ..Metadata::default()
            })),
            ..SchemaObject::default()
        }
        .into()
    }
}

/// Why a command stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// A stable kind for programs (see [`FailureKind`]).
    pub kind: FailureKind,
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
    pub fn new(kind: impl Into<FailureKind>, exit: Exit, message: impl Into<String>) -> Failure {
        Failure {
            kind: kind.into(),
            message: message.into(),
            hint: None,
            status: None,
            exit,
        }
    }

    /// A wrong command line (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(CliKind::Usage, Exit::Usage, message)
    }

    /// A file that could not be read or written.
    pub fn io(what: &str, path: &Path, error: &std::io::Error) -> Failure {
        Failure::new(
            CliKind::Io,
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
            CliKind::ConfirmationRequired,
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
            CliKind::Declined,
            Exit::NotConfirmed,
            "not confirmed at the prompt; nothing was deleted",
        )
    }
}

/// Advice a library error gives in the library's terms, and the same advice on the command
/// line, for errors that carry only a message.
pub const ADVICE_ON_THE_COMMAND_LINE: &[(&str, &str)] = &[
    (
        "address it through Client::org or Client::user instead of Client::authenticated_user",
        "pass --user or --org",
    ),
    (
        "(or pass a token to the client builder)",
        "(or pass --with-token and give the token on standard input)",
    ),
    (
        "(or the one given to the client builder)",
        "(or the one given on standard input with --with-token)",
    ),
    (
        "GH_TOKEN, GITHUB_TOKEN or the client builder",
        "GH_TOKEN, GITHUB_TOKEN or standard input with --with-token",
    ),
    (
        "accept any certificate with ClientBuilder::danger_accept_invalid_certs",
        "pass --insecure-skip-tls-verify",
    ),
];

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
            kind: error.kind().into(),
            message: on_the_command_line(error.summary()),
            hint: Some(on_the_command_line(error.hint())),
            status: error.status(),
            exit,
        }
    }
}

impl From<ApplyError> for Failure {
    fn from(error: ApplyError) -> Failure {
        if let ApplyError::MissingScopes(error) = error {
            // The library's message and fix, and that the apply sent nothing.
            let mut failure = Failure::from(error);
            failure.message.push_str("; nothing was deleted");
            return failure;
        }
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
        Failure::new(error.kind(), exit, message)
    }
}

impl From<JournalError> for Failure {
    fn from(error: JournalError) -> Failure {
        Failure::from(ApplyError::Journal(error))
    }
}

impl From<PlanLoadError> for Failure {
    fn from(error: PlanLoadError) -> Failure {
        Failure::new(CliKind::InvalidPlan, Exit::Failure, error.to_string())
    }
}

impl From<ExpectError> for Failure {
    fn from(error: ExpectError) -> Failure {
        match error {
            ExpectError::NotAHash { .. } => Failure::usage(error.to_string()),
            ExpectError::Mismatch { .. } => {
                Failure::new(CliKind::PlanChanged, Exit::Failure, error.to_string())
            }
        }
    }
}

impl From<RulesError> for Failure {
    fn from(error: RulesError) -> Failure {
        let message = match error {
            RulesError::NothingSelected => "say which versions to delete: give keep_newest \
                 (--keep), older_than (--older-than), include_tags (--include), tag_selection \
                 (--tagged/--untagged), version_match (--version-match), prerelease_only \
                 (--prerelease-only), keep_per_major/keep_per_minor (--keep-per-major, \
                 --keep-per-minor) or orphans (--orphans)"
                .to_string(),
            _ => error.to_string(),
        };
        let failure = Failure::new(CliKind::InvalidRules, Exit::Usage, message);
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
            PlanError::Policy(policy) => {
                Failure::new(CliKind::InvalidPolicy, Exit::Usage, policy.to_string())
                    .with_hint("`ghpkg policy check FILE` says where in the file")
            }
            other => Failure::new(CliKind::InvalidFacts, Exit::Failure, other.to_string()),
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
        assert_eq!(failure.kind, ApplyErrorKind::OverBudget.into());
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
            "--version-match",
            "--prerelease-only",
            "--keep-per-major",
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
    fn the_no_token_hint_names_the_ways_the_command_line_takes_a_token() {
        let failure = Failure::from(ghpkg::Error::Unauthorized {
            operation: ghpkg::Operation::from(
                ghpkg_api::operations::Action::ListPackages
                    .spec(ghpkg_api::operations::OwnerFamily::Org),
            ),
            message: "Requires authentication".into(),
            token: None,
        });
        let hint = failure.hint.unwrap();
        assert!(!hint.contains("client builder"), "{hint}");
        assert!(
            hint.contains("Set GH_TOKEN or GITHUB_TOKEN (or pass --with-token and give the token on standard input)"),
            "{hint}"
        );
    }

    #[test]
    fn failure_kinds_are_listed_once_and_round_trip_through_json() {
        let all = FailureKind::all();
        let mut seen = std::collections::BTreeSet::new();
        for kind in &all {
            assert!(seen.insert(kind.as_str()), "{kind} is listed twice");
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(serde_json::from_str::<FailureKind>(&json).unwrap(), *kind);
        }
        assert!(all.contains(&CliKind::InvalidFacts.into()));
        // An apply's `invalid-input` is the library's, not a second kind.
        assert_eq!(
            FailureKind::from(ApplyErrorKind::InvalidInput),
            FailureKind::from(ErrorKind::InvalidInput)
        );
        let error = serde_json::from_str::<FailureKind>("\"oops\"").unwrap_err();
        assert!(error.to_string().contains("unknown failure kind `oops`"));
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
            (changed.kind, changed.exit),
            (CliKind::PlanChanged.into(), Exit::Failure)
        );
    }
}
