//! Classic token scopes: how to read the ones a token has and compare them with the ones an
//! operation needs. Which scopes each operation needs is the spec's (`x-github-classic-scopes`),
//! generated into [`Action::required_scopes`](ghpkg_api::operations::Action::required_scopes);
//! the scope names and what implies what are [`ghpkg_api::scopes`]'s, shared with the emulator.
//!
//! GitHub reports a classic token's scopes in `X-OAuth-Scopes` on every response. Reading needs
//! `read:packages`; deleting needs `read:packages` and `delete:packages`; restoring needs
//! `read:packages` and `write:packages`. `write:packages` implies `read:packages`;
//! `delete:packages` implies nothing.

use ghpkg_api::scopes::covers;
use reqwest::header::HeaderMap;

pub use ghpkg_api::scopes::{DELETE_PACKAGES, READ_PACKAGES, WRITE_PACKAGES};

/// The header in which GitHub lists the scopes a classic token has.
pub(crate) const X_OAUTH_SCOPES: &str = "x-oauth-scopes";
/// The header in which GitHub lists the scopes the endpoint accepts.
pub(crate) const X_ACCEPTED_OAUTH_SCOPES: &str = "x-accepted-oauth-scopes";

/// Splits a scope header value (`"read:packages, repo"`) into scopes.
pub(crate) fn parse_scope_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|scope| !scope.is_empty())
        .map(String::from)
        .collect()
}

/// The scopes listed in header `name`, or `None` when the header is absent or not text.
pub(crate) fn scopes_in_header(headers: &HeaderMap, name: &str) -> Option<Vec<String>> {
    let value = headers.get(name)?.to_str().ok()?;
    Some(parse_scope_list(value))
}

/// The scopes of `required` that `granted` does not cover (`write:packages` covers
/// `read:packages`), as [`ghpkg_api::scopes::missing`] decides for library and emulator alike.
pub fn missing_scopes(required: &[&str], granted: &[String]) -> Vec<String> {
    ghpkg_api::scopes::missing(required, granted)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// What to tell a user whose token lacks some of `required`: which scopes, where to create a
/// token that has them, and the `gh` command that adds them.
pub(crate) fn how_to_fix(required: &[String], granted: &[String]) -> String {
    let missing: Vec<&str> = required
        .iter()
        .filter(|scope| !covers(granted, scope))
        .map(String::as_str)
        .collect();
    let missing = if missing.is_empty() {
        required.iter().map(String::as_str).collect()
    } else {
        missing
    };
    format!(
        "Create a personal access token (classic) with the missing scopes at \
         https://github.com/settings/tokens/new?scopes={}, or run `gh auth refresh -s {}`.",
        required.join(","),
        missing.join(","),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reading_needs_read_packages_deleting_and_restoring_need_more() {
        use ghpkg_api::operations::Action;
        assert_eq!(Action::ListVersions.required_scopes(), [READ_PACKAGES]);
        assert_eq!(
            Action::ListDockerConflicts.required_scopes(),
            [READ_PACKAGES]
        );
        assert_eq!(
            Action::DeleteVersion.required_scopes(),
            [READ_PACKAGES, DELETE_PACKAGES]
        );
        assert_eq!(
            Action::RestorePackage.required_scopes(),
            [READ_PACKAGES, WRITE_PACKAGES]
        );
        for action in Action::ALL {
            assert!(action.required_scopes().contains(&READ_PACKAGES));
            assert_eq!(action.is_write(), action.required_scopes().len() > 1);
        }
    }

    #[test]
    fn scope_headers_split_on_commas_and_ignore_blanks() {
        assert_eq!(
            parse_scope_list("read:packages, repo,  delete:packages ,"),
            scopes(&["read:packages", "repo", "delete:packages"])
        );
        assert!(parse_scope_list("").is_empty());
    }

    #[test]
    fn write_packages_implies_read_packages() {
        let granted = scopes(&["write:packages"]);
        assert!(missing_scopes(&[READ_PACKAGES, WRITE_PACKAGES], &granted).is_empty());
        assert_eq!(
            missing_scopes(&[READ_PACKAGES, DELETE_PACKAGES], &granted),
            scopes(&["delete:packages"])
        );
    }

    #[test]
    fn the_fix_names_the_token_page_and_the_gh_command() {
        let fix = how_to_fix(
            &scopes(&["read:packages", "delete:packages"]),
            &scopes(&["read:packages"]),
        );
        assert!(
            fix.contains(
                "https://github.com/settings/tokens/new?scopes=read:packages,delete:packages"
            ),
            "{fix}"
        );
        assert!(
            fix.contains("`gh auth refresh -s delete:packages`"),
            "{fix}"
        );
    }
}
