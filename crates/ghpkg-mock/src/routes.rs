//! The 27 operations: which request path and method is which operation, its GitHub operationId,
//! documentation anchor and the classic scopes it needs.

use axum::http::Method;
use percent_encoding::percent_decode_str;

use crate::auth::{DELETE_PACKAGES, READ_PACKAGES, WRITE_PACKAGES};

/// The prefix under which Enterprise Server serves the REST API.
pub(crate) const ENTERPRISE_PREFIX: &str = "/api/v3";

/// Whose packages an operation addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OwnerScope {
    /// `/orgs/{org}/…`
    Org,
    /// `/user/…`
    AuthenticatedUser,
    /// `/users/{username}/…`
    User,
}

/// What an operation does; the same nine in each scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    ListConflicts,
    ListPackages,
    GetPackage,
    DeletePackage,
    RestorePackage,
    ListVersions,
    GetVersion,
    DeleteVersion,
    RestoreVersion,
}

impl Action {
    /// The classic scopes a token needs, in the order they are checked.
    pub fn required_scopes(self) -> &'static [&'static str] {
        match self {
            Action::DeletePackage | Action::DeleteVersion => &[READ_PACKAGES, DELETE_PACKAGES],
            Action::RestorePackage | Action::RestoreVersion => &[READ_PACKAGES, WRITE_PACKAGES],
            _ => &[READ_PACKAGES],
        }
    }

    /// `X-Accepted-OAuth-Scopes`: the needed scopes, sorted and comma separated as GitHub does.
    pub fn accepted_scopes_header(self) -> String {
        let mut scopes = self.required_scopes().to_vec();
        scopes.sort_unstable();
        scopes.join(", ")
    }

    /// What the caller tried to do, for error messages ("to delete packages").
    pub fn purpose(self) -> &'static str {
        match self {
            Action::ListConflicts => "list Docker migration conflicts",
            Action::ListPackages => "list packages",
            Action::GetPackage => "view packages",
            Action::DeletePackage => "delete packages",
            Action::RestorePackage => "restore packages",
            Action::ListVersions => "list package versions",
            Action::GetVersion => "view package versions",
            Action::DeleteVersion => "delete package versions",
            Action::RestoreVersion => "restore package versions",
        }
    }

    /// Whether the operation changes state (and so costs 5 secondary-limit points).
    pub fn is_mutation(self) -> bool {
        matches!(
            self,
            Action::DeletePackage
                | Action::RestorePackage
                | Action::DeleteVersion
                | Action::RestoreVersion
        )
    }
}

/// One documented operation.
#[derive(Debug)]
pub(crate) struct Operation {
    /// GitHub's operationId, e.g. `packages/list-packages-for-organization`.
    pub id: &'static str,
    /// The anchor on GitHub's packages reference page.
    pub anchor: &'static str,
}

impl Operation {
    /// Where GitHub documents this operation.
    pub fn documentation_url(&self) -> String {
        format!(
            "https://docs.github.com/rest/packages/packages#{}",
            self.anchor
        )
    }
}

const fn op(id: &'static str, anchor: &'static str) -> Operation {
    Operation { id, anchor }
}

/// Indexed by scope (org, authenticated user, user) and then by `Action` order.
static OPERATIONS: [[Operation; 9]; 3] = [
    [
        op(
            "packages/list-docker-migration-conflicting-packages-for-organization",
            "get-list-of-conflicting-packages-during-docker-migration-for-organization",
        ),
        op(
            "packages/list-packages-for-organization",
            "list-packages-for-an-organization",
        ),
        op(
            "packages/get-package-for-organization",
            "get-a-package-for-an-organization",
        ),
        op(
            "packages/delete-package-for-org",
            "delete-a-package-for-an-organization",
        ),
        op(
            "packages/restore-package-for-org",
            "restore-a-package-for-an-organization",
        ),
        op(
            "packages/get-all-package-versions-for-package-owned-by-org",
            "list-package-versions-for-a-package-owned-by-an-organization",
        ),
        op(
            "packages/get-package-version-for-organization",
            "get-a-package-version-for-an-organization",
        ),
        op(
            "packages/delete-package-version-for-org",
            "delete-package-version-for-an-organization",
        ),
        op(
            "packages/restore-package-version-for-org",
            "restore-package-version-for-an-organization",
        ),
    ],
    [
        op(
            "packages/list-docker-migration-conflicting-packages-for-authenticated-user",
            "get-list-of-conflicting-packages-during-docker-migration-for-authenticated-user",
        ),
        op(
            "packages/list-packages-for-authenticated-user",
            "list-packages-for-the-authenticated-users-namespace",
        ),
        op(
            "packages/get-package-for-authenticated-user",
            "get-a-package-for-the-authenticated-user",
        ),
        op(
            "packages/delete-package-for-authenticated-user",
            "delete-a-package-for-the-authenticated-user",
        ),
        op(
            "packages/restore-package-for-authenticated-user",
            "restore-a-package-for-the-authenticated-user",
        ),
        op(
            "packages/get-all-package-versions-for-package-owned-by-authenticated-user",
            "list-package-versions-for-a-package-owned-by-the-authenticated-user",
        ),
        op(
            "packages/get-package-version-for-authenticated-user",
            "get-a-package-version-for-the-authenticated-user",
        ),
        op(
            "packages/delete-package-version-for-authenticated-user",
            "delete-a-package-version-for-the-authenticated-user",
        ),
        op(
            "packages/restore-package-version-for-authenticated-user",
            "restore-a-package-version-for-the-authenticated-user",
        ),
    ],
    [
        op(
            "packages/list-docker-migration-conflicting-packages-for-user",
            "get-list-of-conflicting-packages-during-docker-migration-for-user",
        ),
        op(
            "packages/list-packages-for-user",
            "list-packages-for-a-user",
        ),
        op("packages/get-package-for-user", "get-a-package-for-a-user"),
        op(
            "packages/delete-package-for-user",
            "delete-a-package-for-a-user",
        ),
        op(
            "packages/restore-package-for-user",
            "restore-a-package-for-a-user",
        ),
        op(
            "packages/get-all-package-versions-for-package-owned-by-user",
            "list-package-versions-for-a-package-owned-by-a-user",
        ),
        op(
            "packages/get-package-version-for-user",
            "get-a-package-version-for-a-user",
        ),
        op(
            "packages/delete-package-version-for-user",
            "delete-package-version-for-a-user",
        ),
        op(
            "packages/restore-package-version-for-user",
            "restore-package-version-for-a-user",
        ),
    ],
];

/// Every operationId the emulator serves, in spec order.
pub fn operation_ids() -> impl Iterator<Item = &'static str> {
    OPERATIONS.iter().flatten().map(|op| op.id)
}

/// A request matched to an operation, with its path parameters (percent-decoded, unchecked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Route {
    pub scope: OwnerScope,
    pub action: Action,
    /// The org or username from the path; `None` in the authenticated-user scope.
    pub owner: Option<String>,
    pub package_type: Option<String>,
    pub package_name: Option<String>,
    pub version_id: Option<String>,
}

impl Route {
    /// The documented operation this route is.
    pub fn operation(&self) -> &'static Operation {
        let scope = match self.scope {
            OwnerScope::Org => 0,
            OwnerScope::AuthenticatedUser => 1,
            OwnerScope::User => 2,
        };
        let action = match self.action {
            Action::ListConflicts => 0,
            Action::ListPackages => 1,
            Action::GetPackage => 2,
            Action::DeletePackage => 3,
            Action::RestorePackage => 4,
            Action::ListVersions => 5,
            Action::GetVersion => 6,
            Action::DeleteVersion => 7,
            Action::RestoreVersion => 8,
        };
        &OPERATIONS[scope][action]
    }

    /// Whether GitHub answers this operation without a token (for public resources).
    pub fn allows_anonymous(&self) -> bool {
        self.action == Action::ListConflicts && self.scope != OwnerScope::AuthenticatedUser
    }
}

/// Splits off the Enterprise Server prefix: `("/api/v3", "/orgs/…")` or `("", "/orgs/…")`.
pub(crate) fn split_prefix(path: &str) -> (&'static str, &str) {
    match path.strip_prefix(ENTERPRISE_PREFIX) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => (ENTERPRISE_PREFIX, rest),
        _ => ("", path),
    }
}

/// The operation `method` and `path` (without prefix, still percent-encoded) address.
///
/// A package name containing `/` must arrive encoded as `%2F`, as GitHub requires.
pub(crate) fn resolve(method: &Method, path: &str) -> Option<Route> {
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (scope, owner, rest) = match segments.as_slice() {
        ["orgs", org, rest @ ..] => (OwnerScope::Org, Some(*org), rest),
        ["user", rest @ ..] => (OwnerScope::AuthenticatedUser, None, rest),
        ["users", user, rest @ ..] => (OwnerScope::User, Some(*user), rest),
        _ => return None,
    };
    let read = *method == Method::GET || *method == Method::HEAD;
    let (action, package_type, package_name, version_id) = match rest {
        ["docker", "conflicts"] if read => (Action::ListConflicts, None, None, None),
        ["packages"] if read => (Action::ListPackages, None, None, None),
        ["packages", ty, name] if read => (Action::GetPackage, Some(*ty), Some(*name), None),
        ["packages", ty, name] if *method == Method::DELETE => {
            (Action::DeletePackage, Some(*ty), Some(*name), None)
        }
        ["packages", ty, name, "restore"] if *method == Method::POST => {
            (Action::RestorePackage, Some(*ty), Some(*name), None)
        }
        ["packages", ty, name, "versions"] if read => {
            (Action::ListVersions, Some(*ty), Some(*name), None)
        }
        ["packages", ty, name, "versions", id] if read => {
            (Action::GetVersion, Some(*ty), Some(*name), Some(*id))
        }
        ["packages", ty, name, "versions", id] if *method == Method::DELETE => {
            (Action::DeleteVersion, Some(*ty), Some(*name), Some(*id))
        }
        ["packages", ty, name, "versions", id, "restore"] if *method == Method::POST => {
            (Action::RestoreVersion, Some(*ty), Some(*name), Some(*id))
        }
        _ => return None,
    };
    if owner.is_some_and(str::is_empty) || package_name.is_some_and(str::is_empty) {
        return None;
    }
    Some(Route {
        scope,
        action,
        owner: owner.map(str::to_owned),
        package_type: package_type.map(str::to_owned),
        package_name: package_name.map(str::to_owned),
        version_id: version_id.map(str::to_owned),
    })
}

/// A request's query parameters, percent-decoded, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// Parses a raw query string (`a=1&b=x%2Fy`).
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode_component(key), decode_component(value))
            })
            .collect();
        Self(pairs)
    }

    /// The last value given for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

fn decode_component(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encoded_slash_stays_inside_the_package_name() {
        let route = resolve(
            &Method::DELETE,
            "/orgs/acme/packages/container/web%2Fapp/versions/7",
        )
        .unwrap();
        assert_eq!(route.action, Action::DeleteVersion);
        assert_eq!(route.package_name.as_deref(), Some("web/app"));
        assert_eq!(route.version_id.as_deref(), Some("7"));
        assert_eq!(
            route.operation().id,
            "packages/delete-package-version-for-org"
        );
    }

    #[test]
    fn every_operation_id_is_served_once() {
        let ids: std::collections::HashSet<_> = operation_ids().collect();
        assert_eq!(ids.len(), 27);
    }

    #[test]
    fn a_wrong_method_or_unknown_path_matches_nothing() {
        assert!(resolve(&Method::POST, "/user/packages").is_none());
        assert!(resolve(&Method::GET, "/orgs/acme/repos").is_none());
        assert!(resolve(&Method::GET, "/orgs/acme/packages/container/web/app").is_none());
    }

    #[test]
    fn query_values_are_decoded_and_the_last_one_wins() {
        let query = QueryParams::parse(Some("state=active&token=a%2Bb&state=deleted&x"));
        assert_eq!(query.get("state"), Some("deleted"));
        assert_eq!(query.get("token"), Some("a+b"));
        assert_eq!(query.get("x"), Some(""));
        assert_eq!(query.get("page"), None);
    }

    #[test]
    fn the_enterprise_prefix_is_split_off_only_as_a_whole_segment() {
        assert_eq!(
            split_prefix("/api/v3/user/packages"),
            ("/api/v3", "/user/packages")
        );
        assert_eq!(split_prefix("/api/v30/x"), ("", "/api/v30/x"));
    }
}
