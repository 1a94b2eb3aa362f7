//! Which operation a request is: the method and path matched against `ghpkg-api`'s generated
//! table of the 27 operations (`ghpkg_api::operations`), which also gives each operation's id,
//! documentation URL, classic scopes, whether it answers without a token and its rate-limit
//! points. What is the emulator's own lives here too: the Enterprise Server prefix, the wording
//! of what an action is for, and query parsing.

use axum::http::Method;
use ghpkg_api::OperationSpec;

use crate::accounts::AccountRoute;
use ghpkg_api::operations::{Action, OPERATIONS, OwnerFamily};
use percent_encoding::percent_decode_str;

/// The prefix under which Enterprise Server serves the REST API.
pub(crate) const ENTERPRISE_PREFIX: &str = "/api/v3";

/// Every operationId the emulator serves, in spec order (organization, authenticated user,
/// user; the nine actions in each).
pub fn operation_ids() -> impl Iterator<Item = &'static str> {
    OPERATIONS.iter().map(|operation| operation.id)
}

/// What the emulator says an action is for, in its error messages ("to delete packages").
pub(crate) fn purpose(action: Action) -> &'static str {
    match action {
        Action::ListDockerConflicts => "list Docker migration conflicts",
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

/// `X-Accepted-OAuth-Scopes`: the scopes `action` needs, sorted and comma separated as GitHub
/// writes them.
pub(crate) fn accepted_scopes_header(action: Action) -> String {
    let mut scopes = action.required_scopes().to_vec();
    scopes.sort_unstable();
    scopes.join(", ")
}

/// What an API request addresses: one of the 27 Packages operations of the generated table, or
/// one of the account operations of `ghpkg-account`'s fragment (`accounts`). The pipeline's
/// stages ask it what they need to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// A Packages operation.
    Packages(Route),
    /// `GET /rate_limit`, `/user` or `/users/{username}`.
    Account(AccountRoute),
}

/// What a request costs against the rate limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cost {
    /// Secondary-limit points, and one request of the primary budget.
    Points(u32),
    /// Nothing: the request only reads the budget (`GET /rate_limit`).
    Free,
}

impl Endpoint {
    /// The operation, from its spec.
    pub fn operation(&self) -> &'static OperationSpec {
        match self {
            Self::Packages(route) => route.operation,
            Self::Account(route) => route.operation,
        }
    }

    /// GitHub's operationId, as counted in the stats.
    pub fn operation_id(&self) -> &'static str {
        self.operation().id
    }

    /// The documentation URL in the operation's error bodies.
    pub fn docs_url(&self) -> &'static str {
        self.operation().docs_url
    }

    /// Whether GitHub answers it without a token (for public resources), as its spec says.
    pub fn allows_anonymous(&self) -> bool {
        self.operation().allows_anonymous
    }

    /// `X-Accepted-OAuth-Scopes`: empty for the account operations, which need no scope.
    pub fn accepted_scopes_header(&self) -> String {
        match self {
            Self::Packages(route) => accepted_scopes_header(route.action),
            Self::Account(_) => String::new(),
        }
    }

    /// What it costs against the rate limits.
    pub fn cost(&self) -> Cost {
        match self {
            Self::Packages(route) => Cost::Points(route.operation.secondary_limit_points()),
            Self::Account(route) if route.is_free() => Cost::Free,
            Self::Account(route) => Cost::Points(route.operation.secondary_limit_points()),
        }
    }
}

/// The endpoint `method` and `path` (without prefix, still percent-encoded) address: a
/// Packages operation of the generated table, else an account operation.
pub(crate) fn resolve_endpoint(method: &Method, path: &str) -> Option<Endpoint> {
    resolve(method, path)
        .map(Endpoint::Packages)
        .or_else(|| AccountRoute::resolve(method, path).map(Endpoint::Account))
}

/// A request matched to an operation, with its path parameters (percent-decoded, unchecked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Route {
    /// The operation, from the generated table.
    pub operation: &'static OperationSpec,
    /// Whose packages it addresses.
    pub owner_family: OwnerFamily,
    /// What it does.
    pub action: Action,
    /// The org or username from the path; `None` in the authenticated-user family.
    pub owner: Option<String>,
    pub package_type: Option<String>,
    pub package_name: Option<String>,
    pub version_id: Option<String>,
}

/// Splits off the Enterprise Server prefix: `("/api/v3", "/orgs/…")` or `("", "/orgs/…")`.
pub(crate) fn split_prefix(path: &str) -> (&'static str, &str) {
    match path.strip_prefix(ENTERPRISE_PREFIX) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => (ENTERPRISE_PREFIX, rest),
        _ => ("", path),
    }
}

/// The operation `method` and `path` (without prefix, still percent-encoded) address. `HEAD`
/// is answered like `GET`; one trailing `/` is ignored.
///
/// Each parameter is one path segment, so a package name containing `/` must arrive encoded as
/// `%2F`, as GitHub requires; empty and dot segments match nothing.
pub(crate) fn resolve(method: &Method, path: &str) -> Option<Route> {
    let method = if *method == Method::HEAD {
        Method::GET
    } else {
        method.clone()
    };
    let path = path.strip_suffix('/').unwrap_or(path);
    Action::ALL.into_iter().find_map(|action| {
        OwnerFamily::ALL.into_iter().find_map(|owner_family| {
            let operation = action.spec(owner_family);
            if operation.method != method.as_str() {
                return None;
            }
            let params = operation.match_path(path)?;
            Some(route(operation, owner_family, action, params))
        })
    })
}

fn route(
    operation: &'static OperationSpec,
    owner_family: OwnerFamily,
    action: Action,
    params: Vec<(&'static str, String)>,
) -> Route {
    let mut route = Route {
        operation,
        owner_family,
        action,
        owner: None,
        package_type: None,
        package_name: None,
        version_id: None,
    };
    for (name, value) in params {
        match name {
            "org" | "username" => route.owner = Some(value),
            "package_type" => route.package_type = Some(value),
            "package_name" => route.package_name = Some(value),
            "package_version_id" => route.version_id = Some(value),
            _ => {}
        }
    }
    route
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

    /// Every value given for `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
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
        assert_eq!(route.owner_family, OwnerFamily::Org);
        assert_eq!(route.owner.as_deref(), Some("acme"));
        assert_eq!(route.package_name.as_deref(), Some("web/app"));
        assert_eq!(route.version_id.as_deref(), Some("7"));
        assert_eq!(
            route.operation.id,
            "packages/delete-package-version-for-org"
        );
    }

    #[test]
    fn every_operation_of_the_generated_table_is_reachable_by_its_own_path() {
        for operation in &OPERATIONS {
            let path = operation.path.replace(['{', '}'], "");
            let method = Method::from_bytes(operation.method.as_bytes()).unwrap();
            let route = resolve(&method, &path)
                .unwrap_or_else(|| panic!("{} {path} matches nothing", operation.method));
            assert_eq!(route.operation, operation);
            assert_eq!(route.operation.scopes, route.action.required_scopes());
        }
        assert_eq!(operation_ids().count(), 27);
    }

    #[test]
    fn the_exported_scope_names_are_the_ones_the_generated_table_requires() {
        use crate::auth::{DELETE_PACKAGES, READ_PACKAGES, WRITE_PACKAGES};
        assert_eq!(
            Action::DeleteVersion.required_scopes(),
            [READ_PACKAGES, DELETE_PACKAGES]
        );
        assert_eq!(
            Action::RestorePackage.required_scopes(),
            [READ_PACKAGES, WRITE_PACKAGES]
        );
        assert_eq!(
            accepted_scopes_header(Action::RestoreVersion),
            "read:packages, write:packages"
        );
    }

    #[test]
    fn the_operations_answered_without_a_token_are_the_ones_githubs_page_says() {
        // GitHub's reference page (Russian chrome): "This endpoint can be used without
        // authentication if only public resources are requested", in an operation's section,
        // which starts at the line that is its summary.
        const PAGE: &str =
            include_str!("../../../spec/source/github-rest-api-endpoints-for-packages.txt");
        const WITHOUT_A_TOKEN: &str = "можно использовать без проверки подлинности";
        let mut section: Option<&OperationSpec> = None;
        let mut on_the_page = Vec::new();
        for line in PAGE.lines() {
            if let Some(operation) = OPERATIONS.iter().find(|op| op.summary == line.trim()) {
                section = Some(operation);
            }
            if line.contains(WITHOUT_A_TOKEN) {
                on_the_page.push(section.expect("the phrase is inside a section").id);
            }
        }
        let in_the_table: Vec<&str> = OPERATIONS
            .iter()
            .filter(|operation| operation.allows_anonymous)
            .map(|operation| operation.id)
            .collect();
        assert_eq!(in_the_table, on_the_page);
        assert_eq!(in_the_table.len(), 2);
        let anonymous = |path| {
            resolve_endpoint(&Method::GET, path)
                .unwrap()
                .allows_anonymous()
        };
        assert!(anonymous("/orgs/acme/docker/conflicts"));
        assert!(!anonymous("/user/docker/conflicts"));
        assert!(!anonymous("/orgs/acme/packages"));
    }

    #[test]
    fn routes_carry_the_tables_documentation_urls_not_hand_written_anchors() {
        let route = resolve(&Method::GET, "/users/mona/packages").unwrap();
        assert_eq!(
            route.operation.docs_url,
            "https://docs.github.com/rest/packages/packages#list-packages-for-a-user"
        );
    }

    #[test]
    fn account_operations_are_routed_after_the_table_and_cost_what_github_charges() {
        let endpoint = |path| resolve_endpoint(&Method::GET, path).unwrap();
        assert_eq!(
            endpoint("/users/mona/packages").operation_id(),
            "packages/list-packages-for-user"
        );
        assert_eq!(
            endpoint("/users/mona").operation_id(),
            "users/get-by-username"
        );
        assert_eq!(endpoint("/user").operation_id(), "users/get-authenticated");
        assert!(!endpoint("/user").allows_anonymous());
        assert_eq!(endpoint("/rate_limit").cost(), Cost::Free);
        assert_eq!(endpoint("/users/mona").cost(), Cost::Points(1));
        assert_eq!(endpoint("/rate_limit").accepted_scopes_header(), "");
        assert!(resolve_endpoint(&Method::DELETE, "/user").is_none());
    }

    #[test]
    fn a_wrong_method_or_unknown_path_matches_nothing() {
        assert!(resolve(&Method::POST, "/user/packages").is_none());
        assert!(resolve(&Method::GET, "/orgs/acme/repos").is_none());
        assert!(resolve(&Method::GET, "/orgs/acme/packages/container/web/app").is_none());
    }

    #[test]
    fn dot_and_empty_segments_match_no_operation() {
        for path in [
            "/orgs/acme/packages/container/../versions",
            "/orgs/acme/packages/container/%2e%2E/versions",
            "/orgs//packages",
            "/users/./packages/npm/x",
        ] {
            assert!(resolve(&Method::GET, path).is_none(), "{path}");
        }
    }

    #[test]
    fn head_is_answered_like_get_and_a_trailing_slash_is_ignored() {
        let route = resolve(&Method::HEAD, "/user/packages/").unwrap();
        assert_eq!(route.action, Action::ListPackages);
        assert_eq!(route.owner_family, OwnerFamily::AuthenticatedUser);
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
