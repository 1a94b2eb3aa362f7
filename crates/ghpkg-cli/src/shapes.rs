//! The `--json` shapes: one per command, each a struct with a JSON Schema committed under
//! `crates/ghpkg-cli/schemas/` (see [`SCHEMAS`]; a test keeps the files fresh, and the
//! end-to-end tests validate real output against them).
//!
//! With `--json`, standard output carries exactly one document: the command's shape when it ran
//! (also when it exits 3, 4 or 5 after producing its result), or [`ErrorReport`] when it
//! stopped. Times are RFC 3339 in UTC. Fields may be added; none is removed or changes meaning
//! within a major version.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ghpkg::apply::SkipReason;
use ghpkg::journal::{JournalEntry, JournalReason, Outcome};
use ghpkg::outcome::{NotDoneReason, PackageOutcome, PackageResult};
use ghpkg::retention::{Plan, Target};
use ghpkg::{Owner, Package, PackageVersion, RateLimitStatus};
use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{
    InstanceType, Metadata, ObjectValidation, RootSchema, Schema, SchemaObject,
};
use serde::{Deserialize, Serialize};

use crate::failure::{Failure, FailureKind};

/// Whose packages a command acted on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OwnerRef {
    /// `organization`, `user` or `authenticated-user` (the token's user, `/user/…`).
    pub kind: String,
    /// The login; `null` for the authenticated user.
    pub login: Option<String>,
}

impl From<&Owner> for OwnerRef {
    fn from(owner: &Owner) -> OwnerRef {
        let kind = match owner {
            Owner::Org(_) => "organization",
            Owner::User(_) => "user",
            Owner::AuthenticatedUser(_) => "authenticated-user",
        };
        OwnerRef {
            kind: kind.to_string(),
            login: owner.login().map(str::to_string),
        }
    }
}

/// `packages list`: the owner's packages of one type.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PackageList {
    /// Whose packages.
    pub owner: OwnerRef,
    /// The package type listed.
    pub package_type: String,
    /// The visibility filter, if one was given.
    pub visibility: Option<String>,
    /// The packages, in GitHub's order.
    pub packages: Vec<PackageInfo>,
}

/// `packages get`, and each package of a list: a package as GitHub describes it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PackageInfo {
    /// GitHub's package id.
    pub id: u64,
    /// The package name.
    pub name: String,
    /// `container`, `docker`, `npm`, `maven`, `nuget` or `rubygems`.
    pub package_type: String,
    /// `public`, `private` or `internal`.
    pub visibility: String,
    /// The owner's login, when GitHub sent one.
    pub owner: Option<String>,
    /// How many versions it has.
    pub version_count: u64,
    /// The repository it is linked to (`owner/name`), if any.
    pub repository: Option<String>,
    /// Its page on GitHub.
    pub html_url: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last updated.
    pub updated_at: DateTime<Utc>,
}

impl From<&Package> for PackageInfo {
    fn from(package: &Package) -> PackageInfo {
        PackageInfo {
            id: package.id(),
            name: package.name().to_string(),
            package_type: package.package_type().as_str().to_string(),
            visibility: package.visibility().as_str().to_string(),
            owner: package.owner_login().map(str::to_string),
            version_count: package.version_count(),
            repository: package.repository_full_name().map(str::to_string),
            html_url: package.html_url().to_string(),
            created_at: package.created_at(),
            updated_at: package.updated_at(),
        }
    }
}

/// `versions list`: a package's versions.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct VersionList {
    /// Whose package.
    pub owner: OwnerRef,
    /// The package type.
    pub package_type: String,
    /// The package name.
    pub package: String,
    /// `active` or `deleted`.
    pub state: String,
    /// The versions, newest first.
    pub versions: Vec<VersionInfo>,
}

/// `versions get`, and each version of a list.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct VersionInfo {
    /// GitHub's version id.
    pub id: u64,
    /// The version name: a digest (`sha256:…`) for container images, the version string
    /// otherwise.
    pub name: String,
    /// Container and Docker tags; empty for other package types and untagged images.
    pub tags: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last updated.
    pub updated_at: DateTime<Utc>,
    /// When it was deleted, for deleted versions.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Its page on GitHub, when GitHub sent one.
    pub html_url: Option<String>,
    /// Its license, when GitHub sent one.
    pub license: Option<String>,
    /// Its description, when GitHub sent one.
    pub description: Option<String>,
}

impl From<&PackageVersion> for VersionInfo {
    fn from(version: &PackageVersion) -> VersionInfo {
        VersionInfo {
            id: version.id(),
            name: version.name().to_string(),
            tags: version.tags().to_vec(),
            created_at: version.created_at(),
            updated_at: version.updated_at(),
            deleted_at: version.deleted_at(),
            html_url: version.html_url().map(str::to_string),
            license: version.license().map(str::to_string),
            description: version.description().map(str::to_string),
        }
    }
}

/// `packages delete|restore`, `versions delete|restore`: what was changed.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    /// `deleted` or `restored`.
    pub action: String,
    /// Whose package.
    pub owner: OwnerRef,
    /// The package type.
    pub package_type: String,
    /// The package name.
    pub package: String,
    /// The version id; `null` when the whole package changed.
    pub version_id: Option<u64>,
}

/// `conflicts`: packages that conflicted in the Docker-to-Container-registry migration.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ConflictList {
    /// Whose packages.
    pub owner: OwnerRef,
    /// The packages.
    pub packages: Vec<PackageInfo>,
}

/// `auth status`: the token, what it may do, the account and the rate limit.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct AuthStatus {
    /// The GitHub host, as plans record it (`github.com`, an Enterprise host, `host:port`).
    pub host: String,
    /// The REST API root.
    pub api_url: String,
    /// What chose the API: `--demo`, `--api-url`, `--host`, `GITHUB_API_URL`, `GH_HOST` or
    /// `default`.
    pub api_source: String,
    /// The token (never its value).
    pub token: TokenInfo,
    /// The classic scopes GitHub reports for the token; `null` when the token has none by its
    /// kind (fine-grained, installation, GitHub App user tokens: GitHub decides per request),
    /// when there is no token, or when GitHub could not be asked.
    pub scopes: Option<Vec<String>>,
    /// Each of the Packages API's nine actions and whether the scopes allow it.
    pub actions: Vec<ActionAccess>,
    /// The account the token belongs to, when GitHub said.
    pub account: Option<AccountInfo>,
    /// The primary rate limit, when GitHub said.
    pub rate_limit: Option<RateLimitInfo>,
    /// What could not be found out, and why.
    pub problems: Vec<ErrorInfo>,
}

/// Where the token came from and what kind it is.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct TokenInfo {
    /// `GH_TOKEN`, `GITHUB_TOKEN`, `stdin` (`--with-token`), `demo` or `none`.
    pub source: String,
    /// `classic`, `fine-grained`, `oauth`, `user-to-server`, `installation` or `unknown`, by
    /// the token's prefix; `null` without a token.
    pub kind: Option<String>,
    /// The kind in words.
    pub description: Option<String>,
    /// Whether GitHub reports this kind's grants as classic scopes.
    pub classic_scopes: bool,
}

/// One action of the Packages API and whether the token's scopes allow it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ActionAccess {
    /// The action (`list-packages`, `delete-version`, …).
    pub action: String,
    /// In words.
    pub description: String,
    /// The classic scopes it needs.
    pub required_scopes: Vec<String>,
    /// Whether the granted scopes cover them; `null` when the scopes are unknown (GitHub
    /// decides per request).
    pub allowed: Option<bool>,
}

/// An account.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct AccountInfo {
    /// The login.
    pub login: String,
    /// `User`, `Organization` or `Bot`, as GitHub says.
    #[serde(rename = "type")]
    pub account_type: String,
    /// The display name, if any.
    pub name: Option<String>,
}

/// The primary rate limit.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct RateLimitInfo {
    /// Requests per window.
    pub limit: u64,
    /// Requests left.
    pub remaining: u64,
    /// Requests spent.
    pub used: u64,
    /// When the window resets, when known.
    pub reset: Option<DateTime<Utc>>,
}

impl From<&RateLimitStatus> for RateLimitInfo {
    fn from(status: &RateLimitStatus) -> RateLimitInfo {
        RateLimitInfo {
            limit: status.limit,
            remaining: status.remaining,
            used: status.used,
            reset: Some(status.reset),
        }
    }
}

/// `prune`: the plan, and what `--apply` did with it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PruneResult {
    /// The plan, exactly as `--plan-out` saves it (see `plan.schema.json` of
    /// `ghpkg-retention` for its fields).
    pub plan: Plan,
    /// Where the plan was saved (`--plan-out`), if it was.
    pub plan_file: Option<String>,
    /// What `--apply` did; `null` for a dry run or when it did not start.
    pub apply: Option<RunReport>,
    /// Why `--apply` did not start: `over-budget`, `confirmation-required` or `declined`.
    pub not_applied: Option<ErrorInfo>,
    /// How each package ended (after the apply, when it ran): also packages that could not be
    /// listed and so are not in the plan.
    pub packages: Vec<PackageOutcomeInfo>,
}

/// How one package of a run ended.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PackageOutcomeInfo {
    /// The package.
    pub package: String,
    /// `pruned` (every planned deletion done), `planned` (a dry run that would delete some of
    /// its versions), `nothing-to-do`, or `not-done`.
    #[schemars(schema_with = "package_outcome_schema")]
    pub outcome: String,
    /// Why it was not done; `null` unless `outcome` is `not-done`.
    #[schemars(schema_with = "not_done_reason_schema")]
    pub reason: Option<NotDoneReason>,
    /// What happened, in the plan's or the failure's words.
    pub detail: Option<String>,
    /// What to do about it.
    pub what_to_do: Option<String>,
}

impl From<&PackageResult> for PackageOutcomeInfo {
    fn from(result: &PackageResult) -> PackageOutcomeInfo {
        let reason = result.outcome.not_done();
        PackageOutcomeInfo {
            package: result.package.clone(),
            outcome: result.outcome.as_str().to_string(),
            reason,
            detail: result.detail.clone(),
            what_to_do: reason.map(|reason| crate::outcomes::what_to_do(reason).to_string()),
        }
    }
}

fn package_outcome_schema(_: &mut SchemaGenerator) -> Schema {
    code_schema(
        PackageOutcome::NAMES,
        "How a package ended: `pruned`, `planned` (dry run), `nothing-to-do` or `not-done`.".into(),
    )
}

fn not_done_reason_schema(_: &mut SchemaGenerator) -> Schema {
    let reasons: String = NotDoneReason::ALL
        .iter()
        .map(|reason| format!("\n- `{reason}`: {}", reason.description()))
        .collect();
    SchemaObject {
        instance_type: Some(vec![InstanceType::String, InstanceType::Null].into()),
        enum_values: Some(
            NotDoneReason::ALL
                .iter()
                .map(|reason| reason.as_str().into())
                .chain([serde_json::Value::Null])
                .collect(),
        ),
        metadata: Some(Box::new(Metadata {
            description: Some(format!("Why a package was not done.{reasons}")),
            ..Metadata::default()
        })),
        ..SchemaObject::default()
    }
    .into()
}

/// `apply`, `restore`, and `prune --apply`: what a run did, version by version.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct RunReport {
    /// `apply` or `restore`.
    pub operation: String,
    /// The SHA-256 of the plan applied (or whose journal was restored).
    pub plan_sha256: String,
    /// The journal file; `null` when there was nothing to do and no journal was opened.
    pub journal: Option<String>,
    /// Where the packages live.
    pub target: Target,
    /// Versions by outcome, in this run.
    pub counts: OutcomeCounts,
    /// Skipped versions by reason: each key is a skip reason (the schema lists them).
    #[schemars(schema_with = "skip_counts_schema")]
    pub skipped: BTreeMap<SkipReason, usize>,
    /// Refused, failed and not restored versions by reason (GitHub's refusal, the error kind,
    /// or `outside-restore-window`).
    pub not_done: BTreeMap<JournalReason, usize>,
    /// Versions an earlier run of the same journal finished, left alone.
    pub resumed: usize,
    /// Versions found deleted without a journal line (an earlier run was killed), counted as
    /// deleted.
    pub recovered: usize,
    /// Wall time of the run.
    pub elapsed_seconds: f64,
    /// Requests sent.
    pub requests: u64,
    /// The primary rate limit as last seen.
    pub rate_limit: Option<RateLimitInfo>,
    /// Every outcome of this run, as written to the journal.
    pub entries: Vec<RunEntry>,
    /// How each package of the plan ended (`apply`; empty for `restore`).
    #[serde(default)]
    pub packages: Vec<PackageOutcomeInfo>,
    /// Whether the run was interrupted (Ctrl-C) before it finished: what it did not reach is
    /// done by applying the same plan again.
    #[serde(default)]
    pub interrupted: bool,
    /// When interrupted: the command that resumes the run.
    #[serde(default)]
    pub resume: Option<String>,
}

/// Versions by outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OutcomeCounts {
    /// Deleted by this run.
    pub deleted: usize,
    /// Already gone when its delete was sent.
    pub already_gone: usize,
    /// Refused by GitHub.
    pub refused: usize,
    /// Failed; a rerun tries again.
    pub failed: usize,
    /// Not deleted because it changed since the plan; a rerun looks again.
    pub skipped: usize,
    /// Restored.
    pub restored: usize,
    /// Could not be restored.
    pub not_restored: usize,
}

impl OutcomeCounts {
    /// The counts of `outcomes`.
    pub fn of(outcomes: &BTreeMap<Outcome, usize>) -> OutcomeCounts {
        let count = |outcome| outcomes.get(&outcome).copied().unwrap_or(0);
        OutcomeCounts {
            deleted: count(Outcome::Deleted),
            already_gone: count(Outcome::AlreadyGone),
            refused: count(Outcome::Refused),
            failed: count(Outcome::Failed),
            skipped: count(Outcome::Skipped),
            restored: count(Outcome::Restored),
            not_restored: count(Outcome::NotRestored),
        }
    }

    /// Versions that were not deleted or restored as asked: refused, failed, not restored.
    pub fn not_done(&self) -> usize {
        self.refused + self.failed + self.not_restored
    }
}

/// One outcome, as the journal records it.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct RunEntry {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The package.
    pub package: String,
    /// The version id.
    pub version_id: u64,
    /// The version name.
    pub name: String,
    /// Its tags when the plan was made.
    pub tags: Vec<String>,
    /// `deleted`, `already-gone`, `refused`, `failed`, `skipped`, `restored` or `not-restored`.
    pub outcome: String,
    /// The plan's reason code for a deletion or restore, or the skip reason, GitHub's refusal
    /// or the error kind (the schema lists them all).
    #[schemars(schema_with = "journal_reason_schema")]
    pub reason: JournalReason,
    /// More detail, when there is any.
    pub detail: Option<String>,
}

impl From<&JournalEntry> for RunEntry {
    fn from(entry: &JournalEntry) -> RunEntry {
        RunEntry {
            at: entry.at,
            package: entry.package.clone(),
            version_id: entry.version_id,
            name: entry.name.clone(),
            tags: entry.tags.clone(),
            outcome: entry.outcome.as_str().to_string(),
            reason: entry.reason.clone(),
            detail: entry.detail.clone(),
        }
    }
}

/// A string that is one of `codes`, described by `description`.
fn code_schema(codes: impl IntoIterator<Item = &'static str>, description: String) -> Schema {
    SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        enum_values: Some(codes.into_iter().map(Into::into).collect()),
        metadata: Some(Box::new(Metadata {
            description: Some(description),
            ..Metadata::default()
        })),
        ..SchemaObject::default()
    }
    .into()
}

/// The schema of skip counts: an object whose keys are [`SkipReason`]'s codes.
fn skip_counts_schema(generator: &mut SchemaGenerator) -> Schema {
    let reasons: String = SkipReason::ALL
        .iter()
        .map(|reason| format!("\n- `{reason}`: {}", reason.description()))
        .collect();
    SchemaObject {
        instance_type: Some(InstanceType::Object.into()),
        object: Some(Box::new(ObjectValidation {
            property_names: Some(Box::new(code_schema(
                SkipReason::ALL.iter().map(|reason| reason.as_str()),
                format!("Why a planned version was not deleted.{reasons}"),
            ))),
            additional_properties: Some(Box::new(generator.subschema_for::<usize>())),
            ..ObjectValidation::default()
        })),
        ..SchemaObject::default()
    }
    .into()
}

/// The schema of a journal line's reason: one of [`JournalReason`]'s codes.
fn journal_reason_schema(_: &mut SchemaGenerator) -> Schema {
    code_schema(
        JournalReason::all_codes(),
        "A plan reason code, a skip reason, GitHub's refusal, an error kind, or \
         `outside-restore-window`."
            .into(),
    )
}

/// `completions`: the script.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Completions {
    /// The shell.
    pub shell: String,
    /// The completion script.
    pub script: String,
}

/// Any command that stopped: the error.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ErrorReport {
    /// What went wrong.
    pub error: ErrorInfo,
}

/// What went wrong, for programs.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ErrorInfo {
    /// A stable kind (the schema lists them all).
    pub kind: FailureKind,
    /// What happened.
    pub message: String,
    /// What to do next.
    pub hint: Option<String>,
    /// The HTTP status GitHub answered with, if it answered.
    pub status: Option<u16>,
    /// The exit code (see the README's table).
    pub exit_code: u8,
}

impl From<&Failure> for ErrorInfo {
    fn from(failure: &Failure) -> ErrorInfo {
        ErrorInfo {
            kind: failure.kind,
            message: failure.message.clone(),
            hint: failure.hint.clone(),
            status: failure.status,
            exit_code: failure.exit.code(),
        }
    }
}

impl From<&Failure> for ErrorReport {
    fn from(failure: &Failure) -> ErrorReport {
        ErrorReport {
            error: ErrorInfo::from(failure),
        }
    }
}

/// `verify`: what was checked, and every tag that would not pull whole.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct VerifyResult {
    /// Whose packages.
    pub owner: OwnerRef,
    /// One entry per package verified.
    pub packages: Vec<PackageVerification>,
    /// Whether every tag of every package pulls whole.
    pub whole: bool,
}

/// `verify` of one package.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PackageVerification {
    /// The package.
    pub package: String,
    /// Tags checked (attachment tags such as `sha256-<hex>.sig` included).
    pub tags: usize,
    /// Manifests checked (tags' own, their children and referrers).
    pub manifests: usize,
    /// The tags that would not pull whole; empty when all is well.
    pub broken: Vec<BrokenTagInfo>,
}

/// One tag that would not pull whole.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct BrokenTagInfo {
    /// The tag.
    pub tag: String,
    /// The digest GitHub lists the tag on.
    pub digest: String,
    /// What is wrong.
    pub problem: String,
}

/// A committed schema: its file name under `schemas/`, the commands that print it, and the
/// schema.
pub struct SchemaFile {
    /// The file name, e.g. `package-list.schema.json`.
    pub file: &'static str,
    /// The commands that print this shape.
    pub commands: &'static [&'static str],
    /// Generates the schema.
    pub schema: fn() -> RootSchema,
}

/// Every shape, with the commands that print it.
pub const SCHEMAS: &[SchemaFile] = &[
    SchemaFile {
        file: "package-list.schema.json",
        commands: &["packages list"],
        schema: || schemars::schema_for!(PackageList),
    },
    SchemaFile {
        file: "package.schema.json",
        commands: &["packages get"],
        schema: || schemars::schema_for!(PackageInfo),
    },
    SchemaFile {
        file: "version-list.schema.json",
        commands: &["versions list"],
        schema: || schemars::schema_for!(VersionList),
    },
    SchemaFile {
        file: "version.schema.json",
        commands: &["versions get"],
        schema: || schemars::schema_for!(VersionInfo),
    },
    SchemaFile {
        file: "change.schema.json",
        commands: &[
            "packages delete",
            "packages restore",
            "versions delete",
            "versions restore",
        ],
        schema: || schemars::schema_for!(Change),
    },
    SchemaFile {
        file: "conflicts.schema.json",
        commands: &["conflicts"],
        schema: || schemars::schema_for!(ConflictList),
    },
    SchemaFile {
        file: "auth-status.schema.json",
        commands: &["auth status"],
        schema: || schemars::schema_for!(AuthStatus),
    },
    SchemaFile {
        file: "prune.schema.json",
        commands: &["prune"],
        schema: || schemars::schema_for!(PruneResult),
    },
    SchemaFile {
        file: "run-report.schema.json",
        commands: &["apply", "restore"],
        schema: || schemars::schema_for!(RunReport),
    },
    SchemaFile {
        file: "verify.schema.json",
        commands: &["verify"],
        schema: || schemars::schema_for!(VerifyResult),
    },
    SchemaFile {
        file: "completions.schema.json",
        commands: &["completions"],
        schema: || schemars::schema_for!(Completions),
    },
    SchemaFile {
        file: "error.schema.json",
        commands: &["any command that fails"],
        schema: || schemars::schema_for!(ErrorReport),
    },
];

/// The schema in `file`, pretty-printed with a final newline, as committed.
pub fn schema_text(file: &SchemaFile) -> String {
    let mut text = serde_json::to_string_pretty(&(file.schema)()).expect("schemas serialize");
    text.push('\n');
    text
}
