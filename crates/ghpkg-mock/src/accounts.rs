//! The three account operations a client needs beside the Packages API: `GET /rate_limit`
//! (`rate-limit/get`), `GET /user` (`users/get-authenticated`) and `GET /users/{username}`
//! (`users/get-by-username`). They are not in `ghpkg_api::operations`: their facts (operationId,
//! method, path template, documentation URL, whether GitHub answers without a token) are read
//! from `ghpkg-account`'s OpenAPI fragment, which describes them for the library. They go
//! through the same pipeline as the Packages operations (authentication, rate limits, faults,
//! counters). Bodies have the shapes of GitHub's published description (`rate-limit-overview`,
//! `private-user`, `public-user`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, TimeDelta, Utc};
use ghpkg_api::OperationSpec;
use ghpkg_api::types::PackageVisibility;
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::error::{ApiError, messages};
use crate::handlers::{Reply, json};
use crate::rate_limit::{Quota, RateLimits};
use crate::state::{Account, OwnerKind, Store};
use crate::wire::{Urls, node_id};

/// `ghpkg-account`'s fragment. The emulator reads the file rather than depending on the crate,
/// which depends on `ghpkg`, whose tests depend on the emulator.
const ACCOUNT_FRAGMENT: &str = include_str!("../../ghpkg-account/openapi.json");

/// The account operations, in the fragment's order, as the table's [`OperationSpec`]s (without
/// the generated method's `name`, which the emulator does not call, and without scopes, which
/// the fragment does not list).
pub(crate) static ACCOUNT_OPERATIONS: LazyLock<Vec<OperationSpec>> = LazyLock::new(|| {
    operations_of(ACCOUNT_FRAGMENT).expect("ghpkg-account's openapi.json describes its operations")
});

/// The part of an OpenAPI document the emulator reads.
#[derive(Deserialize)]
struct Fragment<'a> {
    #[serde(borrow)]
    paths: BTreeMap<&'a str, BTreeMap<&'a str, FragmentOperation<'a>>>,
}

/// One operation of the fragment.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FragmentOperation<'a> {
    operation_id: &'a str,
    #[serde(default)]
    summary: &'a str,
    #[serde(borrow)]
    external_docs: Option<ExternalDocs<'a>>,
    #[serde(rename = "x-github-allows-anonymous", default)]
    allows_anonymous: bool,
}

#[derive(Deserialize)]
struct ExternalDocs<'a> {
    url: &'a str,
}

/// The operations an OpenAPI document's `paths` describe.
fn operations_of(document: &'static str) -> Result<Vec<OperationSpec>, String> {
    let fragment: Fragment<'static> =
        serde_json::from_str(document).map_err(|error| error.to_string())?;
    if document.contains("x-ghpkg-allow-slash") {
        // Routing here matches whole segments; a parameter that may hold `/` needs more.
        return Err(
            "a parameter may hold `/` (x-ghpkg-allow-slash), which the emulator's \
                    fragment reader does not route yet"
                .into(),
        );
    }
    let mut operations = Vec::new();
    for (path, item) in fragment.paths {
        for (method, operation) in item {
            let method = upper_case_method(method)
                .ok_or_else(|| format!("{path}: {method:?} is not an HTTP method"))?;
            operations.push(OperationSpec {
                id: operation.operation_id,
                summary: operation.summary,
                name: "",
                method,
                path,
                scopes: &[],
                docs_url: operation.external_docs.map_or("", |docs| docs.url),
                owner: "",
                action: "",
                allows_anonymous: operation.allows_anonymous,
                slash_params: &[],
            });
        }
    }
    Ok(operations)
}

/// An OpenAPI path item's method key as HTTP spells the method.
fn upper_case_method(key: &str) -> Option<&'static str> {
    [
        "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE",
    ]
    .into_iter()
    .find(|method| method.eq_ignore_ascii_case(key))
}

/// An account operation: which one, from the fragment, and what the emulator does for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AccountRoute {
    /// The operation, from `ghpkg-account`'s fragment.
    pub operation: &'static OperationSpec,
    /// What the emulator answers.
    pub call: AccountCall,
}

/// What an account operation answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AccountCall {
    /// `rate-limit/get`
    RateLimit,
    /// `users/get-authenticated`
    AuthenticatedUser,
    /// `users/get-by-username` (percent-decoded)
    User { username: String },
}

impl AccountCall {
    /// The call the emulator makes for `operation`, with its path parameters; `None` for an
    /// operation it does not serve.
    fn of(operation: &OperationSpec, params: Vec<(&'static str, String)>) -> Option<Self> {
        match operation.id {
            "rate-limit/get" => Some(Self::RateLimit),
            "users/get-authenticated" => Some(Self::AuthenticatedUser),
            "users/get-by-username" => {
                let (_, username) = params.into_iter().find(|(name, _)| *name == "username")?;
                (!username.contains('/')).then_some(Self::User { username })
            }
            _ => None,
        }
    }
}

impl AccountRoute {
    /// The account operation `method` and `path` (without prefix, still percent-encoded)
    /// address. `HEAD` is answered like `GET`; one trailing `/` is ignored.
    pub fn resolve(method: &Method, path: &str) -> Option<Self> {
        let method = if *method == Method::HEAD {
            Method::GET
        } else {
            method.clone()
        };
        let path = path.strip_suffix('/').unwrap_or(path);
        ACCOUNT_OPERATIONS.iter().find_map(|operation| {
            if operation.method != method.as_str() {
                return None;
            }
            let call = AccountCall::of(operation, operation.match_path(path)?)?;
            Some(Self { operation, call })
        })
    }

    /// Whether the request is free: `GET /rate_limit` spends no budget (GitHub says so).
    pub fn is_free(&self) -> bool {
        self.call == AccountCall::RateLimit
    }
}

/// Everything an account operation needs.
pub(crate) struct AccountRequest<'a> {
    pub route: &'a AccountRoute,
    pub caller: Option<&'a Caller>,
    pub urls: &'a Urls,
    pub now: DateTime<Utc>,
    /// The caller's primary budget, unspent by this request.
    pub core: Quota,
    pub limits: &'a RateLimits,
}

/// Runs an account operation.
pub(crate) fn handle(store: &Store, request: &AccountRequest<'_>) -> Result<Reply, ApiError> {
    match &request.route.call {
        AccountCall::RateLimit => Ok(json(&rate_limit_overview(request), None)),
        AccountCall::AuthenticatedUser => {
            let account = request
                .caller
                .and_then(|caller| store.account(&caller.login))
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        messages::REQUIRES_AUTHENTICATION,
                        request.route.operation.docs_url,
                    )
                })?;
            Ok(json(&private_user(store, account, request.urls), None))
        }
        AccountCall::User { username } => {
            let account = store.account(username).ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    messages::NOT_FOUND,
                    request.route.operation.docs_url,
                )
            })?;
            Ok(json(&public_user(store, account, request.urls), None))
        }
    }
}

/// GitHub's `rate-limit`: one resource's budget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct RateLimit {
    limit: u32,
    remaining: u32,
    reset: i64,
    used: u32,
    resource: &'static str,
}

/// GitHub's `rate-limit-overview`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct RateLimitOverview {
    resources: BTreeMap<&'static str, RateLimit>,
    rate: RateLimit,
}

/// The other resources GitHub reports, with its published limits for a token and for an
/// anonymous caller, and their windows in seconds. The emulator does not count them.
const OTHER_RESOURCES: [(&str, u32, u32, f64); 10] = [
    ("search", 30, 10, 60.0),
    ("graphql", 5_000, 0, 3_600.0),
    ("integration_manifest", 5_000, 5_000, 3_600.0),
    ("source_import", 100, 100, 60.0),
    ("code_scanning_upload", 1_000, 1_000, 3_600.0),
    ("actions_runner_registration", 10_000, 10_000, 3_600.0),
    ("scim", 15_000, 15_000, 3_600.0),
    ("dependency_snapshots", 100, 100, 60.0),
    ("code_search", 10, 10, 60.0),
    ("code_scanning_autofix", 10, 10, 60.0),
];

fn rate_limit_overview(request: &AccountRequest<'_>) -> RateLimitOverview {
    let core = RateLimit {
        limit: request.core.limit,
        remaining: request.core.remaining,
        reset: request.core.reset,
        used: request.core.used,
        resource: "core",
    };
    let anonymous = request.caller.is_none();
    let mut resources: BTreeMap<&'static str, RateLimit> = OTHER_RESOURCES
        .iter()
        .map(|&(resource, with_token, without, seconds)| {
            let limit = if anonymous { without } else { with_token };
            let reset = request.now + request.limits.window(seconds);
            let reset = reset.timestamp() + i64::from(reset.timestamp_subsec_nanos() > 0);
            (
                resource,
                RateLimit {
                    limit,
                    remaining: limit,
                    reset,
                    used: 0,
                    resource,
                },
            )
        })
        .collect();
    resources.insert("core", core.clone());
    RateLimitOverview {
        resources,
        rate: core,
    }
}

/// GitHub's `public-user` (which admits no other properties): any account, a user or an
/// organization.
#[derive(Clone, Debug, Serialize)]
struct PublicUser {
    login: String,
    id: i64,
    node_id: String,
    avatar_url: String,
    gravatar_id: Option<String>,
    url: String,
    html_url: String,
    followers_url: String,
    following_url: String,
    gists_url: String,
    starred_url: String,
    subscriptions_url: String,
    organizations_url: String,
    repos_url: String,
    events_url: String,
    received_events_url: String,
    #[serde(rename = "type")]
    type_: &'static str,
    site_admin: bool,
    name: Option<String>,
    company: Option<String>,
    blog: Option<String>,
    location: Option<String>,
    email: Option<String>,
    hireable: Option<bool>,
    bio: Option<String>,
    twitter_username: Option<String>,
    public_repos: u64,
    public_gists: u64,
    followers: u64,
    following: u64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// GitHub's `private-user`: the authenticated user, with what only they see.
#[derive(Clone, Debug, Serialize)]
struct PrivateUser {
    #[serde(flatten)]
    public: PublicUser,
    notification_email: Option<String>,
    private_gists: u64,
    total_private_repos: u64,
    owned_private_repos: u64,
    disk_usage: u64,
    collaborators: u64,
    two_factor_authentication: bool,
    plan: Plan,
}

/// The plan of a `private-user`: GitHub Free.
#[derive(Clone, Debug, Serialize)]
struct Plan {
    name: &'static str,
    space: u64,
    collaborators: u64,
    private_repos: u64,
}

/// The account's linked repositories (from its packages), public and private.
fn repositories(store: &Store, account: &Account) -> (u64, u64) {
    let mut public = BTreeSet::new();
    let mut private = BTreeSet::new();
    for package in store
        .packages
        .iter()
        .filter(|p| p.owner.eq_ignore_ascii_case(&account.login))
    {
        if let Some(repository) = &package.repository {
            if package.visibility == PackageVisibility::Public {
                public.insert(repository.clone());
            } else {
                private.insert(repository.clone());
            }
        }
    }
    (public.len() as u64, private.len() as u64)
}

/// When accounts were created: five years before the server started (fixtures give no date).
const ACCOUNT_AGE: TimeDelta = TimeDelta::days(5 * 365);

fn public_user(store: &Store, account: &Account, urls: &Urls) -> PublicUser {
    let api = format!("{}/users/{}", urls.api, account.login);
    let kind = match account.kind {
        OwnerKind::User => "User",
        OwnerKind::Organization => "Organization",
    };
    let (public_repos, _) = repositories(store, account);
    PublicUser {
        login: account.login.clone(),
        id: account.id,
        node_id: node_id(kind, account.id),
        avatar_url: format!("https://avatars.githubusercontent.com/u/{}?v=4", account.id),
        gravatar_id: Some(String::new()),
        url: api.clone(),
        html_url: format!("{}/{}", urls.web, account.login),
        followers_url: format!("{api}/followers"),
        following_url: format!("{api}/following{{/other_user}}"),
        gists_url: format!("{api}/gists{{/gist_id}}"),
        starred_url: format!("{api}/starred{{/owner}}{{/repo}}"),
        subscriptions_url: format!("{api}/subscriptions"),
        organizations_url: format!("{api}/orgs"),
        repos_url: format!("{api}/repos"),
        events_url: format!("{api}/events{{/privacy}}"),
        received_events_url: format!("{api}/received_events"),
        type_: kind,
        site_admin: false,
        name: account.name.clone(),
        company: None,
        blog: Some(String::new()),
        location: None,
        email: None,
        hireable: None,
        bio: None,
        twitter_username: None,
        public_repos,
        public_gists: 0,
        followers: 0,
        following: 0,
        created_at: store.started_at() - ACCOUNT_AGE,
        updated_at: store.started_at(),
    }
}

fn private_user(store: &Store, account: &Account, urls: &Urls) -> PrivateUser {
    let (_, private_repos) = repositories(store, account);
    PrivateUser {
        public: public_user(store, account, urls),
        notification_email: None,
        private_gists: 0,
        total_private_repos: private_repos,
        owned_private_repos: private_repos,
        disk_usage: 0,
        collaborators: 0,
        two_factor_authentication: true,
        plan: Plan {
            name: "free",
            space: 976_562_499,
            collaborators: 0,
            private_repos: 10_000,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_paths_resolve_to_their_operations_and_nothing_else() {
        let get = |path| AccountRoute::resolve(&Method::GET, path).map(|route| route.call);
        assert_eq!(get("/rate_limit"), Some(AccountCall::RateLimit));
        assert_eq!(get("/user/"), Some(AccountCall::AuthenticatedUser));
        assert_eq!(
            get("/users/octo%2Dcat"),
            Some(AccountCall::User {
                username: "octo-cat".into()
            })
        );
        for path in [
            "/users/",
            "/users/a%2Fb",
            "/users/..",
            "/users/a/b",
            "/ratelimit",
        ] {
            assert_eq!(get(path), None, "{path}");
        }
        assert_eq!(AccountRoute::resolve(&Method::DELETE, "/user"), None);
        assert_eq!(
            AccountRoute::resolve(&Method::HEAD, "/rate_limit").map(|route| route.call),
            Some(AccountCall::RateLimit)
        );
    }

    #[test]
    fn every_operation_of_the_fragment_is_served_with_the_fragments_facts() {
        assert_eq!(ACCOUNT_OPERATIONS.len(), 3);
        for operation in ACCOUNT_OPERATIONS.iter() {
            let path = operation.path.replace(['{', '}'], "");
            let route = AccountRoute::resolve(&Method::GET, &path)
                .unwrap_or_else(|| panic!("{} {path} is not served", operation.id));
            assert_eq!(route.operation, operation);
            assert!(
                operation
                    .docs_url
                    .starts_with("https://docs.github.com/rest/")
            );
        }
        let user = AccountRoute::resolve(&Method::GET, "/user").unwrap();
        assert_eq!(user.operation.id, "users/get-authenticated");
        assert_eq!(
            user.operation.docs_url,
            "https://docs.github.com/rest/users/users#get-the-authenticated-user"
        );
        assert!(!user.operation.allows_anonymous);
        assert!(
            AccountRoute::resolve(&Method::GET, "/users/mona")
                .unwrap()
                .operation
                .allows_anonymous
        );
    }
}
