//! The command line: every command, argument and flag, with the examples `--help` shows. Parsing
//! only; what each command does is in [`crate::commands`].

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use ghpkg::retention::{Age, OrderBy, Rules, TagPattern, TagSelection};
use ghpkg::{PackageType, VersionState, Visibility};

use crate::exit::Exit;

/// The whole command tree, for completions and for tests that introspect it.
pub fn command() -> clap::Command {
    Cli::command()
}

const TOP_EXAMPLES: &str = "\
Examples:
  ghpkg --demo prune container web/app --keep 10 --older-than 90d   # offline, no token
  ghpkg --org acme packages list --type container
  ghpkg --org acme versions list container web/app --state deleted
  ghpkg --org acme prune container 'web/*' --untagged --older-than 30d --plan-out plan.json
  ghpkg apply plan.json --expect SHA256 --yes
  ghpkg restore --from-log plan.journal.jsonl
  echo \"$TOKEN\" | ghpkg --with-token auth status

The token comes from GH_TOKEN, then GITHUB_TOKEN, or standard input with --with-token; it is never
an argument.";

/// The top-level help's epilogue: the examples, then every exit code of [`Exit::ALL`] by name, so
/// that the list cannot fall behind the table.
fn top_help() -> String {
    let codes: Vec<String> = Exit::ALL
        .iter()
        .map(|exit| format!("{} {}", exit.code(), exit.name()))
        .collect();
    let lines: Vec<String> = codes
        .chunks(4)
        .map(|line| format!("  {}", line.join(", ")))
        .collect();
    format!(
        "{TOP_EXAMPLES}\n\nExit codes (the README says what each means):\n{}",
        lines.join(",\n")
    )
}

/// `ghpkg`: GitHub Packages from the command line — list, inspect, delete and restore packages
/// and versions, and prune them with retention plans you review before anything is deleted.
#[derive(Debug, Parser)]
#[command(
    name = "ghpkg",
    version,
    about = "List, delete, restore and prune GitHub Packages, with plans you review first.",
    after_help = top_help(),
    propagate_version = true
)]
pub struct Cli {
    /// Where and as whom; output settings.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Act on the packages of organization NAME.
    #[arg(long, global = true, value_name = "NAME", conflicts_with = "user")]
    pub org: Option<String>,

    /// Act on the packages of user NAME; `@me` is the token's user (the default without --org
    /// and --user, except with --demo).
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,

    /// GitHub Enterprise Server host (API at https://HOST/api/v3); `github.com` is the default.
    /// Overrides GH_HOST and GITHUB_API_URL.
    #[arg(long, global = true, value_name = "HOST")]
    pub host: Option<String>,

    /// Any REST API root, such as a running `ghpkg-mock serve` (http:// only on loopback).
    /// Overrides --host, GITHUB_API_URL and GH_HOST.
    #[arg(long, global = true, value_name = "URL", conflicts_with = "host")]
    pub api_url: Option<String>,

    /// Read the token from standard input (its first line) instead of GH_TOKEN or GITHUB_TOKEN.
    #[arg(long, global = true)]
    pub with_token: bool,

    /// Run against the embedded emulator and its demo world, offline, with a demo token; the
    /// owner defaults to --org acme. Each run starts the world afresh.
    #[arg(long, global = true, conflicts_with_all = ["host", "api_url"])]
    pub demo: bool,

    /// Print one JSON document on standard output (the command's documented shape, or the
    /// error shape); no progress bars.
    #[arg(long, global = true)]
    pub json: bool,

    /// No progress bars and no informational messages on standard error.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Accept any TLS certificate. Dangerous: anyone on the path can read the token. Only for
    /// a test server with a self-signed certificate; ghpkg warns each time.
    #[arg(long, global = true)]
    pub insecure_skip_tls_verify: bool,

    /// Run GitHub's rate-limit windows X times faster, to rehearse against `ghpkg-mock serve
    /// --time-scale X`. Only with an --api-url on loopback.
    #[arg(long, global = true, value_name = "X", env = "GHPKG_TIME_SCALE", value_parser = parse_time_scale)]
    pub time_scale: Option<f64>,

    /// Fix "now" (RFC 3339) for planning and relative times, for reproducible output.
    #[arg(
        long,
        global = true,
        hide = true,
        env = "GHPKG_NOW",
        value_name = "RFC3339",
        value_parser = parse_now
    )]
    pub now: Option<DateTime<Utc>>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List, inspect, delete and restore packages.
    #[command(after_help = PACKAGES_EXAMPLES)]
    Packages {
        /// What to do with packages.
        #[command(subcommand)]
        command: PackagesCommand,
    },
    /// List, inspect, delete and restore package versions.
    #[command(after_help = VERSIONS_EXAMPLES)]
    Versions {
        /// What to do with versions.
        #[command(subcommand)]
        command: VersionsCommand,
    },
    /// List the packages that conflicted during the Docker-to-Container-registry migration.
    #[command(after_help = "\
Examples:
  ghpkg --org acme conflicts
  ghpkg conflicts --json          # the token's user")]
    Conflicts,
    /// What the token is and may do.
    #[command(after_help = AUTH_EXAMPLES)]
    Auth {
        /// What to show.
        #[command(subcommand)]
        command: AuthCommand,
    },
    /// Plan which versions to delete by retention rules, print the plan, and with --apply
    /// delete them.
    #[command(after_help = PRUNE_EXAMPLES)]
    Prune(Box<PruneArgs>),
    /// Apply a plan saved by `prune --plan-out`: re-check each version, delete, journal.
    #[command(after_help = APPLY_EXAMPLES)]
    Apply(ApplyArgs),
    /// Restore every version a journal records as deleted (within GitHub's 30 days).
    #[command(after_help = RESTORE_EXAMPLES)]
    Restore(RestoreArgs),
    /// Check that every tag of container packages still pulls whole: each tag resolves, and
    /// every child and referrer of a tagged image exists. Exits 6 on damage, naming each tag.
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify(VerifyArgs),
    /// Check a policy file, and explain what its rules decide for a package.
    #[command(after_help = POLICY_EXAMPLES)]
    Policy {
        /// What to do with the policy.
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Print a shell completion script.
    #[command(after_help = "\
Examples:
  ghpkg completions bash > ~/.local/share/bash-completion/completions/ghpkg
  ghpkg completions zsh > \"${fpath[1]}/_ghpkg\"
  ghpkg completions fish > ~/.config/fish/completions/ghpkg.fish")]
    Completions(CompletionsArgs),
}

const POLICY_EXAMPLES: &str = "\
Examples:
  ghpkg policy check ghpkg.toml
  ghpkg --org acme policy explain ghpkg.toml container web/app
  ghpkg --org acme policy explain ghpkg.toml container web/app v1.2.0";

/// `ghpkg policy …`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy file (TOML): its keys, patterns, ages and contradictions, with the
    /// line and column of each problem. Reads nothing from GitHub.
    #[command(after_help = "\
Examples:
  ghpkg policy check ghpkg.toml
  ghpkg policy check ghpkg.toml --json   # the policy as JSON, once valid")]
    Check {
        /// The policy file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Say which rules of a policy select a package, and what they decide for its versions
    /// (a dry run of the policy over that one package).
    #[command(after_help = "\
Examples:
  ghpkg --org acme policy explain ghpkg.toml container web/app
  ghpkg --org acme policy explain ghpkg.toml container web/app v1.2.0   # each rule alone, then together
  ghpkg --demo policy explain examples/policy.toml container api 1.1.0")]
    Explain {
        /// The policy file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The package type.
        #[arg(value_name = "TYPE", value_parser = package_type_parser())]
        package_type: PackageType,
        /// The package name.
        #[arg(value_name = "NAME")]
        name: String,
        /// Only this version: an id, a name (digest, version string) or a tag.
        #[arg(value_name = "VERSION")]
        only: Option<String>,
        /// Where image manifests come from, and where they are kept.
        #[command(flatten)]
        registry: RegistryArgs,
    },
}

const PACKAGES_EXAMPLES: &str = "\
Examples:
  ghpkg --org acme packages list --type container --visibility private
  ghpkg --user octocat packages get npm octo-npm
  ghpkg --org acme packages delete npm left-pad --yes
  ghpkg --org acme packages restore npm left-pad";

const VERSIONS_EXAMPLES: &str = "\
Examples:
  ghpkg --org acme versions list container web/app
  ghpkg --org acme versions list container web/app --state deleted
  ghpkg --org acme versions get npm left-pad 400001
  ghpkg --org acme versions delete npm left-pad 400001
  ghpkg --org acme versions restore npm left-pad 400001";

const AUTH_EXAMPLES: &str = "\
Examples:
  GH_TOKEN=$(gh auth token) ghpkg auth status
  ghpkg --with-token auth status < token.txt
  ghpkg --host ghe.example.com auth status --json";

const PRUNE_EXAMPLES: &str = "\
Examples:
  # Untagged versions older than 30 days, in every web/* image (a dry run: prints the plan).
  ghpkg --org acme prune container 'web/*' --untagged --older-than 30d

  # Keep the 10 newest release tags, and never touch v1.*; save the plan for review.
  ghpkg --org acme prune container web/app --include 'v*' --exclude 'v1.*' --keep 10 \\
      --plan-out plan.json

  # Delete for real, at most 200 versions and 20% of any package; --yes skips the prompt.
  ghpkg --org acme prune npm left-pad --keep 2 --max-deletions 200 --max-percent 20 --apply --yes

  # Offline, against the demo world (owner acme by default).
  ghpkg --demo prune npm left-pad --keep 1 --apply --yes

  # Every package a policy file's rules select, in one plan (see examples/policy.toml).
  ghpkg --org acme prune --policy ghpkg.toml

Rules (see crates/ghpkg-retention/README.md for the exact semantics):
  A version is selected by --include/--exclude/--tagged/--untagged/--both, then --keep N keeps
  the N newest selected, and --older-than deletes the rest only when older. `latest` is protected
  unless --no-default-protect. Container and docker versions are manifests that reference one
  another: prune reads their image graph from the registry (--registry-url), and an index and its
  platform images, signatures and attestations are kept or deleted together.

A dry run exits 0, 4 when the plan is over its budget, or 7 when a package cannot be pruned (its
graph or listing cannot be trusted, the registry cannot be read). With --apply also: 3 when some
deletions failed or were refused, 5 when there is no terminal to confirm on and no --yes, 130 on
Ctrl-C (it prints the command that resumes). Rerunning with the same --plan-out after an
unfinished run refuses and says to run `ghpkg apply PLAN`, which resumes.";

const VERIFY_EXAMPLES: &str = "\
Examples:
  ghpkg --org acme verify container web/app
  ghpkg --org acme verify container web/app api --json
  ghpkg --demo verify container platform/gateway

Reads only what it must: each tag is resolved with HEAD (not a download), and manifests whose
entries are needed come from the manifest cache when it has them.";

const APPLY_EXAMPLES: &str = "\
Examples:
  ghpkg --org acme prune container web/app --untagged --older-than 30d --plan-out plan.json
  ghpkg apply plan.json --expect 3f1c…e9 --yes      # the sha256 the prune printed
  ghpkg apply plan.json --yes                       # again: resumes from plan.journal.jsonl

The owner, package type and host come from the plan. The default journal is PLAN.journal.jsonl
beside the plan file (plan.json -> plan.journal.jsonl), so a rerun of the same plan resumes.";

const RESTORE_EXAMPLES: &str = "\
Examples:
  ghpkg restore --from-log plan.journal.jsonl
  ghpkg restore --from-log ghpkg-3f1c2a9b7d44.journal.jsonl --json

The owner, package type and host come from the journal. Restores are recorded in the same
journal, so a rerun restores only what is still deleted.";

/// `ghpkg packages …`
#[derive(Debug, Subcommand)]
pub enum PackagesCommand {
    /// List the owner's packages of one type.
    #[command(after_help = "\
Examples:
  ghpkg --org acme packages list --type container
  ghpkg --user octocat packages list --type npm --visibility public --json")]
    List {
        /// The package type.
        #[arg(long = "type", value_name = "TYPE", value_parser = package_type_parser())]
        package_type: PackageType,
        /// Only packages with this visibility.
        #[arg(long, value_name = "VISIBILITY", value_parser = visibility_parser())]
        visibility: Option<Visibility>,
    },
    /// Show one package.
    #[command(after_help = "\
Examples:
  ghpkg --org acme packages get container web/app")]
    Get(PackageRef),
    /// Delete a whole package with all its versions (restorable for 30 days). Asks first on a
    /// terminal.
    #[command(after_help = "\
Examples:
  ghpkg --org acme packages delete npm left-pad        # asks on a terminal
  ghpkg --org acme packages delete npm left-pad --yes  # scripts: no terminal needs --yes")]
    Delete {
        /// The package.
        #[command(flatten)]
        package: PackageRef,
        /// Do not ask for confirmation (required without a terminal).
        #[arg(long, short)]
        yes: bool,
    },
    /// Restore a package deleted in the last 30 days.
    #[command(after_help = "\
Examples:
  ghpkg --org acme packages restore container old-service")]
    Restore(PackageRef),
}

/// One package: its type and name.
#[derive(Debug, Args)]
pub struct PackageRef {
    /// The package type.
    #[arg(value_name = "TYPE", value_parser = package_type_parser())]
    pub package_type: PackageType,
    /// The package name (e.g. `web/app`).
    #[arg(value_name = "NAME")]
    pub name: String,
}

/// `ghpkg versions …`
#[derive(Debug, Subcommand)]
pub enum VersionsCommand {
    /// List a package's versions, newest first.
    #[command(after_help = "\
Examples:
  ghpkg --org acme versions list container web/app
  ghpkg --org acme versions list container api --state deleted --json")]
    List {
        /// The package.
        #[command(flatten)]
        package: PackageRef,
        /// Active versions (the default) or deleted ones still restorable.
        #[arg(long, value_name = "STATE", value_parser = state_parser())]
        state: Option<VersionState>,
    },
    /// Show one version.
    #[command(after_help = "\
Examples:
  ghpkg --org acme versions get npm left-pad 400001")]
    Get(VersionRef),
    /// Delete one version (restorable for 30 days).
    #[command(after_help = "\
Examples:
  ghpkg --org acme versions delete npm left-pad 400001")]
    Delete(VersionRef),
    /// Restore one version deleted in the last 30 days.
    #[command(after_help = "\
Examples:
  ghpkg --org acme versions restore npm left-pad 400001")]
    Restore(VersionRef),
}

/// One version: its package and id.
#[derive(Debug, Args)]
pub struct VersionRef {
    /// The package.
    #[command(flatten)]
    pub package: PackageRef,
    /// The version id (from `versions list`).
    #[arg(value_name = "ID", value_parser = clap::value_parser!(u64).range(1..))]
    pub id: u64,
}

/// `ghpkg auth …`
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Where the token came from, its kind and scopes, which actions they allow, the account
    /// and the rate limit left. Exits 1 when there is no token, GitHub cannot be reached or
    /// refuses it; 7 when its scopes do not allow every action.
    #[command(after_help = AUTH_EXAMPLES)]
    Status,
}

/// `ghpkg prune …`
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// The package type (with --policy: only when its rules name several types).
    #[arg(
        value_name = "TYPE",
        value_parser = package_type_parser(),
        required_unless_present = "policy"
    )]
    pub package_type: Option<PackageType>,

    /// Package names, or globs matched against the owner's packages (`web/*`, `{api,web}`);
    /// globs need a token that may list the owner's packages.
    #[arg(
        value_name = "NAME|GLOB",
        required_unless_present = "policy",
        conflicts_with = "policy",
        num_args = 1..
    )]
    pub packages: Vec<String>,

    /// Plan by the rules of a policy file (TOML) instead of rule flags: every package its
    /// rules select, in one plan with one budget (`ghpkg policy check FILE` validates it).
    #[arg(long, value_name = "FILE", conflicts_with_all = RULE_FLAGS)]
    pub policy: Option<PathBuf>,

    /// The retention rules.
    #[command(flatten)]
    pub rules: RuleArgs,

    /// Delete the planned versions, after a confirmation prompt on a terminal.
    #[arg(long, help_heading = "Applying")]
    pub apply: bool,

    /// Confirm without a prompt (required with --apply when there is no terminal).
    #[arg(long, short, requires = "apply", help_heading = "Applying")]
    pub yes: bool,

    /// Save the plan to FILE (JSON; `ghpkg apply FILE` applies it later).
    #[arg(long, value_name = "FILE", help_heading = "Applying")]
    pub plan_out: Option<PathBuf>,

    /// Journal file for --apply [default: PLAN.journal.jsonl beside --plan-out, else
    /// ghpkg-<first 12 of the plan's sha256>.journal.jsonl].
    #[arg(
        long,
        value_name = "FILE",
        requires = "apply",
        help_heading = "Applying"
    )]
    pub journal: Option<PathBuf>,

    /// Where image manifests come from, and where they are kept.
    #[command(flatten)]
    pub registry: RegistryArgs,

    /// List every kept version, not only the kept counts by reason.
    #[arg(long, short, help_heading = "Output")]
    pub verbose: bool,
}

/// Where container image manifests are read from, and where they are kept.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// The container registry to read image manifests from [default: ghcr.io; containers.HOST
    /// on Enterprise Server; the API's origin for any other --api-url, so the emulator with
    /// --demo].
    #[arg(long, value_name = "URL", help_heading = "Image graphs")]
    pub registry_url: Option<String>,

    /// Keep the manifests read, by digest, in DIR, so that no later run reads them again
    /// (GitHub counts every manifest read as a download), and the pages of version listings in
    /// DIR/listings, so that a listing that failed resumes (within an hour) [default:
    /// GHPKG_CACHE_DIR, else $XDG_CACHE_HOME/ghpkg/manifests, else ~/.cache/ghpkg/manifests].
    #[arg(long, value_name = "DIR", help_heading = "Image graphs")]
    pub manifest_cache: Option<PathBuf>,

    /// Keep no manifests and no listing checkpoints on disk (each run reads what it needs
    /// again).
    #[arg(long, conflicts_with = "manifest_cache", help_heading = "Image graphs")]
    pub no_manifest_cache: bool,
}

impl RegistryArgs {
    /// The cache directory to use, if any: the flag, else the default.
    pub fn cache_dir(&self, environment: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
        if self.no_manifest_cache {
            return None;
        }
        if let Some(dir) = &self.manifest_cache {
            return Some(dir.clone());
        }
        let non_blank = |name: &str| environment(name).filter(|value| !value.trim().is_empty());
        if let Some(dir) = non_blank("GHPKG_CACHE_DIR") {
            return Some(PathBuf::from(dir));
        }
        if let Some(dir) = non_blank("XDG_CACHE_HOME") {
            return Some(PathBuf::from(dir).join("ghpkg").join("manifests"));
        }
        non_blank("HOME").map(|home| PathBuf::from(home).join(".cache/ghpkg/manifests"))
    }
}

/// `ghpkg verify TYPE NAME…`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The package type (`container` or `docker`).
    #[arg(value_name = "TYPE", value_parser = package_type_parser())]
    pub package_type: PackageType,

    /// The packages to verify.
    #[arg(value_name = "NAME", required = true, num_args = 1..)]
    pub packages: Vec<String>,

    /// Where image manifests come from, and where they are kept.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// The ids of the rule flags, which a policy replaces.
const RULE_FLAGS: [&str; 19] = [
    "keep",
    "order_by",
    "older_than",
    "include",
    "exclude",
    "tagged",
    "untagged",
    "both",
    "protect_tag",
    "no_default_protect",
    "protect_version",
    "orphans",
    "version_match",
    "exclude_version",
    "prerelease_only",
    "keep_per_major",
    "keep_per_minor",
    "max_deletions",
    "max_percent",
];

/// The rule flags of `prune`: each maps onto one field of `ghpkg::retention::Rules`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Rules")]
pub struct RuleArgs {
    /// Keep the N newest selected versions, whatever their age; protected versions count among
    /// the N.
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,

    /// What orders versions for --keep (a timestamp, or their names as versions) and which
    /// timestamp dates them for --older-than.
    #[arg(long, value_name = "FIELD", value_enum, default_value_t = OrderByArg::Created)]
    pub order_by: OrderByArg,

    /// Delete selected versions only when older than AGE (`30d`, `2w`, `12h`, `6 months`).
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub older_than: Option<Age>,

    /// Select tagged versions whose every tag matches PATTERN (glob, or `re:` regex); repeatable.
    #[arg(long, value_name = "PATTERN", value_parser = parse_pattern)]
    pub include: Vec<TagPattern>,

    /// Never select versions with a tag matching PATTERN; repeatable.
    #[arg(long, value_name = "PATTERN", value_parser = parse_pattern)]
    pub exclude: Vec<TagPattern>,

    /// Select only tagged versions (the default with --include).
    #[arg(long, conflicts_with_all = ["untagged", "both"])]
    pub tagged: bool,

    /// Select only untagged versions.
    #[arg(long, conflicts_with = "both")]
    pub untagged: bool,

    /// Select tagged and untagged versions (the default without --include).
    #[arg(long)]
    pub both: bool,

    /// Never delete versions with a tag matching PATTERN, besides `latest`; repeatable.
    #[arg(long, value_name = "PATTERN", value_parser = parse_pattern)]
    pub protect_tag: Vec<TagPattern>,

    /// Drop the default protection of the `latest` tag.
    #[arg(long)]
    pub no_default_protect: bool,

    /// Never delete this version: an id, or a name (a digest `sha256:…`, a version string);
    /// repeatable.
    #[arg(long, value_name = "ID|DIGEST")]
    pub protect_version: Vec<String>,

    /// Also delete orphans: untagged images whose subject (signed or attested image) is gone.
    #[arg(long)]
    pub orphans: bool,

    /// Select only versions whose name matches PATTERN (glob, or `re:` regex; the version
    /// string, or an image's digest); repeatable.
    #[arg(long, value_name = "PATTERN", value_parser = parse_pattern)]
    pub version_match: Vec<TagPattern>,

    /// Never select versions whose name matches PATTERN; repeatable.
    #[arg(long, value_name = "PATTERN", value_parser = parse_pattern)]
    pub exclude_version: Vec<TagPattern>,

    /// Select only pre-releases, by the package type's version rules (npm semver, Maven,
    /// NuGet, RubyGems; for images, their greatest semver tag). Names that are not versions
    /// are never selected.
    #[arg(long)]
    pub prerelease_only: bool,

    /// Keep the N greatest versions of each major version (by version order, not date).
    #[arg(long, value_name = "N")]
    pub keep_per_major: Option<usize>,

    /// Keep the N greatest versions of each minor version (`1.2.*`).
    #[arg(long, value_name = "N")]
    pub keep_per_minor: Option<usize>,

    /// Refuse the plan when it deletes more than N versions in all.
    #[arg(long, value_name = "N")]
    pub max_deletions: Option<usize>,

    /// Refuse the plan when it deletes more than P percent of any package's versions (`5` or
    /// `5%`).
    #[arg(long, value_name = "P", value_parser = parse_percent)]
    pub max_percent: Option<f64>,
}

/// `--order-by`'s values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OrderByArg {
    /// When the version was created.
    Created,
    /// When the version was last updated (for images: when a tag last moved).
    Updated,
    /// The version name in the ecosystem's ordering, greatest first (for images: their
    /// greatest version tag); names that are not versions are never selected. Ages still
    /// count from creation.
    Version,
}

impl RuleArgs {
    /// The rules these flags say (not yet validated: see `Rules::validate`).
    pub fn rules(&self) -> Rules {
        let defaults = Rules::default();
        let mut protected_tags = if self.no_default_protect {
            Vec::new()
        } else {
            defaults.protected_tags.clone()
        };
        protected_tags.extend(self.protect_tag.iter().cloned());
        let tag_selection = if self.tagged {
            Some(TagSelection::Tagged)
        } else if self.untagged {
            Some(TagSelection::Untagged)
        } else if self.both {
            Some(TagSelection::Both)
        } else {
            None
        };
        Rules {
            keep_newest: self.keep,
            order_by: match self.order_by {
                OrderByArg::Created => OrderBy::CreatedAt,
                OrderByArg::Updated => OrderBy::UpdatedAt,
                OrderByArg::Version => OrderBy::Version,
            },
            older_than: self.older_than.clone(),
            include_tags: self.include.clone(),
            exclude_tags: self.exclude.clone(),
            tag_selection,
            protected_tags,
            protected_versions: self.protect_version.clone(),
            orphans: self.orphans,
            version_match: self.version_match.clone(),
            exclude_versions: self.exclude_version.clone(),
            prerelease_only: self.prerelease_only,
            keep_per_major: self.keep_per_major,
            keep_per_minor: self.keep_per_minor,
            max_deletions: self.max_deletions,
            max_percent: self.max_percent,
        }
    }
}

/// `ghpkg apply …`
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan file `prune --plan-out` wrote.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,

    /// The journal [default: PLAN.journal.jsonl beside the plan]; the same journal resumes.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,

    /// Refuse unless the plan's SHA-256 is SHA (the one printed when it was reviewed).
    #[arg(long, value_name = "SHA")]
    pub expect: Option<String>,

    /// Confirm without a prompt (required when there is no terminal).
    #[arg(long, short)]
    pub yes: bool,

    /// Where container image manifests pushed since the plan are read from, to check that
    /// nothing new uses what the plan deletes.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `ghpkg restore …`
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The journal of an apply (`ghpkg apply` and `prune --apply` print its path).
    #[arg(long, value_name = "JOURNAL", required = true)]
    pub from_log: PathBuf,
}

/// `ghpkg completions …`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_name = "SHELL", value_enum)]
    pub shell: clap_complete::Shell,
}

fn package_type_parser() -> impl TypedValueParser<Value = PackageType> {
    PossibleValuesParser::new(PackageType::KNOWN.iter().copied())
        .map(|value| PackageType::from(value.as_str()))
}

fn visibility_parser() -> impl TypedValueParser<Value = Visibility> {
    PossibleValuesParser::new(Visibility::KNOWN.iter().copied())
        .map(|value| Visibility::from(value.as_str()))
}

fn state_parser() -> impl TypedValueParser<Value = VersionState> {
    PossibleValuesParser::new(VersionState::KNOWN.iter().copied())
        .map(|value| VersionState::from(value.as_str()))
}

fn parse_age(text: &str) -> Result<Age, String> {
    Age::parse(text).map_err(|error| error.to_string())
}

fn parse_pattern(text: &str) -> Result<TagPattern, String> {
    TagPattern::parse(text).map_err(|error| error.to_string())
}

/// `--max-percent`: a number, with or without `%` after it (`5`, `5%`, `2.5%`). Whether it is
/// between 0 and 100 is the rules' to say.
fn parse_percent(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let number = trimmed.strip_suffix('%').unwrap_or(trimmed).trim_end();
    match number.parse::<f64>() {
        Ok(percent) if percent.is_finite() => Ok(percent),
        _ => Err(format!(
            "{text:?} is not a percentage; give a number of percent, such as 5 or 5%"
        )),
    }
}

fn parse_time_scale(text: &str) -> Result<f64, String> {
    let scale: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if scale.is_finite() && (1.0..=10_000.0).contains(&scale) {
        Ok(scale)
    } else {
        Err("the time scale is between 1 and 10000".into())
    }
}

fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|error| format!("not an RFC 3339 time ({error}); e.g. 2025-06-01T12:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_tree_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn protect_tag_adds_to_latest_and_no_default_protect_drops_it() {
        let parse = |args: &[&str]| {
            let mut all = vec!["ghpkg", "prune", "container", "web/app", "--keep", "3"];
            all.extend_from_slice(args);
            match Cli::try_parse_from(all).unwrap().command {
                Command::Prune(prune) => prune.rules.rules(),
                other => panic!("{other:?}"),
            }
        };
        let tags = |rules: Rules| -> Vec<String> {
            rules.protected_tags.iter().map(|p| p.to_string()).collect()
        };
        assert_eq!(tags(parse(&[])), ["latest"]);
        assert_eq!(tags(parse(&["--protect-tag", "v*"])), ["latest", "v*"]);
        assert_eq!(
            tags(parse(&["--no-default-protect", "--protect-tag", "v*"])),
            ["v*"]
        );
        assert!(tags(parse(&["--no-default-protect"])).is_empty());
    }

    #[test]
    fn the_top_level_help_lists_every_exit_code() {
        let help = command().render_long_help().to_string();
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        for exit in Exit::ALL {
            let entry = format!("{} {}", exit.code(), exit.name());
            assert!(help.contains(&entry), "the help lacks `{entry}`:\n{help}");
        }
    }

    #[test]
    fn max_percent_takes_a_number_with_or_without_a_percent_sign() {
        let parse = |value: &str| {
            let args = [
                "ghpkg",
                "prune",
                "npm",
                "x",
                "--keep",
                "1",
                "--max-percent",
                value,
            ];
            Cli::try_parse_from(args).map(|cli| match cli.command {
                Command::Prune(prune) => prune.rules.rules().max_percent,
                other => panic!("{other:?}"),
            })
        };
        assert_eq!(parse("5%").unwrap(), Some(5.0));
        assert_eq!(parse("5").unwrap(), Some(5.0));
        assert_eq!(parse(" 2.5 %").unwrap(), Some(2.5));
        for garbage in ["five", "5x", "5%%", "%", "", "NaN", "inf%"] {
            let error = parse(garbage).unwrap_err();
            assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
            assert!(
                error
                    .to_string()
                    .contains("is not a percentage; give a number of percent, such as 5 or 5%"),
                "{garbage:?}: {error}"
            );
        }
    }

    #[test]
    fn tag_selection_flags_exclude_one_another() {
        let error = Cli::try_parse_from(["ghpkg", "prune", "npm", "x", "--tagged", "--untagged"])
            .unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn an_invalid_age_is_refused_while_parsing() {
        let error = Cli::try_parse_from(["ghpkg", "prune", "npm", "x", "--older-than", "1.5d"])
            .unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(error.to_string().contains("whole"), "{error}");
    }
}
