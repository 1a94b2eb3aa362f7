//! The tokens of the demo fixture ([`Fixture::demo`](crate::Fixture::demo)): personal access
//! tokens (classic) and one installation token, each named after its user and what it may do.

/// `octocat` with `read:packages`, `write:packages`, `delete:packages` and `repo`.
pub const OCTOCAT_ALL: &str = "ghp_octocat_all";
/// `octocat` with `read:packages` only.
pub const OCTOCAT_READ: &str = "ghp_octocat_read";
/// `octocat` with `read:packages` and `delete:packages`: deletes, cannot restore.
pub const OCTOCAT_NORESTORE: &str = "ghp_octocat_norestore";
/// `octocat` with no scopes at all.
pub const OCTOCAT_NONE: &str = "ghp_octocat_none";
/// `hubot` (plain member of `acme`) with `read:packages`, `write:packages`, `delete:packages`.
pub const HUBOT_ALL: &str = "ghp_hubot_all";
/// `mona` (outside `acme`) with `read:packages`, `write:packages`, `delete:packages`.
pub const MONA_ALL: &str = "ghp_mona_all";
/// An installation token acting for `octocat`, like GitHub Actions' `GITHUB_TOKEN` of a
/// repository the packages do not grant the Admin role: it reads packages, its deletes and
/// restores are answered `404 Package not found.`, and GitHub names none of its scopes (no
/// `X-OAuth-Scopes`; see [`INSTALLATION_TOKEN_PREFIX`](crate::INSTALLATION_TOKEN_PREFIX)).
pub const OCTOCAT_ACTIONS: &str = "ghs_octocat_actions";

/// Every demo token, for printing and iteration.
pub const ALL: [&str; 7] = [
    OCTOCAT_ALL,
    OCTOCAT_READ,
    OCTOCAT_NORESTORE,
    OCTOCAT_NONE,
    HUBOT_ALL,
    MONA_ALL,
    OCTOCAT_ACTIONS,
];
