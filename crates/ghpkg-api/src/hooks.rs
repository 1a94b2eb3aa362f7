//! What every generated client does around each request, whichever crate generated it: the
//! `ClientHooks` impl that `ghpkg-codegen` writes calls these two functions, so `ghpkg-api` and
//! every downstream client share them.
//!
//! - [`pre`] refuses a request whose URL does not have its operation's shape (a parameter
//!   that became a dot segment or a separator would move it to another resource), whose path
//!   parameters are not names ([`check_path_value`](crate::check_path_value): `../acme`
//!   is refused, whether or not the caller checked it), or whose token cannot be sent, then sets
//!   GitHub's headers and the bearer token. Nothing refused here reaches the transport.
//! - [`exec`] sends it through the context's [`Transport`](crate::Transport) (in `ghpkg`, the
//!   pacer), or straight through `reqwest` when there is none.

use progenitor_client::{Error, OperationInfo};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue, USER_AGENT};

use crate::{
    ClientContext, GITHUB_API_VERSION, GITHUB_MEDIA_TYPE, OperationSpec, X_GITHUB_API_VERSION,
};

/// The header progenitor adds by default; GitHub does not use it, so it is never sent.
const PROGENITOR_API_VERSION: &str = "api-version";

/// Checks `request` against its operation in `operations` (found by `info.operation_id`) and the
/// base URL, then sets the headers GitHub expects.
#[allow(clippy::result_large_err)] // progenitor's `ClientHooks::pre` returns its `Error`.
pub fn pre<E>(
    context: &ClientContext,
    baseurl: &str,
    request: &mut reqwest::Request,
    info: &OperationInfo,
    operations: &[OperationSpec],
) -> Result<(), Error<E>> {
    check_shape(baseurl, request.url(), info, operations).map_err(Error::InvalidRequest)?;
    let authorization = match context.token() {
        Some(token) => {
            token
                .validate()
                .map_err(|problem| Error::InvalidRequest(problem.to_string()))?;
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                .map_err(|_| Error::InvalidRequest(crate::TokenProblem::Unprintable.to_string()))?;
            value.set_sensitive(true);
            Some(value)
        }
        None => None,
    };
    let headers = request.headers_mut();
    headers.remove(PROGENITOR_API_VERSION);
    headers.insert(ACCEPT, HeaderValue::from_static(GITHUB_MEDIA_TYPE));
    headers.insert(
        X_GITHUB_API_VERSION,
        HeaderValue::from_static(GITHUB_API_VERSION),
    );
    headers.insert(USER_AGENT, context.user_agent_header().clone());
    if let Some(authorization) = authorization {
        headers.insert(AUTHORIZATION, authorization);
    }
    Ok(())
}

/// Sends `request` through the context's transport, or through `client` directly.
pub async fn exec(
    context: &ClientContext,
    client: &reqwest::Client,
    request: reqwest::Request,
    info: &OperationInfo,
) -> reqwest::Result<reqwest::Response> {
    match context.transport() {
        Some(transport) => transport.execute(client, request, info.operation_id).await,
        None => client.execute(request).await,
    }
}

/// Refuses a URL that is not on the base URL's origin and below its path, whose path does not
/// have the shape of the operation's template, or whose path parameters are not names.
fn check_shape(
    baseurl: &str,
    url: &reqwest::Url,
    info: &OperationInfo,
    operations: &[OperationSpec],
) -> Result<(), String> {
    let refuse = |why: String| Err(why);
    let Ok(base) = reqwest::Url::parse(baseurl) else {
        return refuse(format!("the base URL {baseurl:?} is not a URL"));
    };
    if url.origin() != base.origin() {
        return refuse(format!(
            "refusing {}: it is not on {baseurl}, where the token may be sent",
            url.origin().ascii_serialization()
        ));
    }
    let Some(operation) = operations.iter().find(|op| op.name == info.operation_id) else {
        return Ok(());
    };
    let base_path = base.path().trim_end_matches('/');
    let below = url
        .path()
        .strip_prefix(base_path)
        .filter(|rest| rest.starts_with('/'));
    let params = below.and_then(|path| operation.match_path(path));
    match params {
        Some(params) => operation.check_params(&params).map_err(|error| {
            format!(
                "refusing to send {} {}: {error}; check the value passed for it",
                operation.method, operation.path
            )
        }),
        None => refuse(format!(
            "refusing to send {} {}: its path does not have the shape {} of {}; a parameter \
             would have moved the request to another resource",
            operation.method,
            url.path(),
            operation.path,
            operation.id
        )),
    }
}
