//! [`OperationSpec`]: one operation as the spec describes it, and the one place that turns an
//! operation's path template and parameters into a URL path, and a URL path back into them.
//!
//! It is also the one place that says what a request's HTTP method means for everyone who
//! sends, paces, classifies or emulates it: whether it is a write ([`method_is_write`]), whether
//! it may be sent twice ([`method_is_repeatable`]), and what GitHub's secondary rate limit
//! charges for it ([`secondary_limit_points`]). Pacing sees requests, not operations, so these
//! take the method; [`OperationSpec`]'s methods of the same names apply them to an operation.
//!
//! Every path parameter becomes exactly one path segment: all but RFC 3986's unreserved
//! characters are percent-encoded (so `/` becomes `%2F` and `\` becomes `%5C`), and a value
//! that would be an empty, `.` or `..` segment is refused, since URL parsers resolve dot
//! segments and would move the request to another resource.
//!
//! And every value is a name, checked by [`check_path_value`] before any request of any
//! generated client is sent (in [`crate::hooks::pre`]): not empty, not `.` or `..`, without
//! control characters, `\`, `?`, `#` or `%`, and without `/` unless the spec marks the parameter
//! `x-ghpkg-allow-slash` (a container package's `web/app`), and then with no empty or dot
//! component. A server or proxy that decodes `%2F` before routing would otherwise read
//! `../acme` as a path.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Secondary-limit points GitHub charges for a read (`GET`, `HEAD`, `OPTIONS`).
const READ_POINTS: u32 = 1;
/// Secondary-limit points GitHub charges for a write (`DELETE`, `POST`, `PUT`, `PATCH`).
const WRITE_POINTS: u32 = 5;

/// Whether a request with `method` (upper case, as HTTP spells it) may change something: any
/// method but RFC 9110's safe ones (`GET`, `HEAD`, `OPTIONS`, `TRACE`).
pub fn method_is_write(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// Whether sending a request with `method` twice has the effect of sending it once: RFC 9110's
/// idempotent methods (the safe ones, `PUT` and `DELETE`). A `POST` or `PATCH` is not.
pub fn method_is_repeatable(method: &str) -> bool {
    !method_is_write(method) || matches!(method, "PUT" | "DELETE")
}

/// The points GitHub's secondary rate limit charges for a request with `method`: 1 for a read,
/// 5 for a write ([`method_is_write`]).
pub fn secondary_limit_points(method: &str) -> u32 {
    if method_is_write(method) {
        WRITE_POINTS
    } else {
        READ_POINTS
    }
}

/// Characters percent-encoded in a path segment: everything but `A–Z a–z 0–9 - . _ ~`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One operation of a generated client, from the spec: generated into each client's
/// `operations::OPERATIONS` table by `ghpkg-codegen`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OperationSpec {
    /// GitHub's operationId (`packages/delete-package-version-for-org`).
    pub id: &'static str,
    /// The spec's one-line summary ("Delete package version for an organization").
    pub summary: &'static str,
    /// The generated method's name, as in progenitor's `OperationInfo`
    /// (`packages_delete_package_version_for_org`).
    pub name: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path template below the API root (`/orgs/{org}/packages/{package_type}/…`).
    pub path: &'static str,
    /// The classic token scopes the operation needs (`x-github-classic-scopes`).
    pub scopes: &'static [&'static str],
    /// Where GitHub documents the operation (empty when the spec does not say).
    pub docs_url: &'static str,
    /// The owner family (`x-ghpkg-owner`), empty when the spec does not group operations.
    pub owner: &'static str,
    /// The action (`x-ghpkg-action`), empty when the spec does not group operations.
    pub action: &'static str,
    /// Whether GitHub answers it without a token, for public resources
    /// (`x-github-allows-anonymous`; `false` when the spec does not say).
    pub allows_anonymous: bool,
    /// The path parameters whose values may hold `/` (`x-ghpkg-allow-slash` on the parameter),
    /// such as `package_name`; see [`check_path_value`].
    pub slash_params: &'static [&'static str],
}

/// A path parameter that cannot be one path segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError {
    /// The parameter's name in the template.
    pub parameter: String,
    /// What is wrong with its value.
    pub problem: &'static str,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "path parameter {}: {}", self.parameter, self.problem)
    }
}

impl std::error::Error for PathError {}

/// One piece of a path template.
enum Piece<'t> {
    Literal(&'t str),
    Parameter(&'t str),
}

fn pieces(template: &str) -> impl Iterator<Item = Piece<'_>> {
    template.trim_start_matches('/').split('/').map(|segment| {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => Piece::Parameter(name),
            None => Piece::Literal(segment),
        }
    })
}

/// Encodes `value` as exactly one path segment, or says why it cannot be one.
pub fn encode_segment(value: &str) -> Result<String, &'static str> {
    match value {
        "" => Err("is empty"),
        "." | ".." => Err("is a dot segment, which would move the request to another path"),
        _ => Ok(utf8_percent_encode(value, SEGMENT).to_string()),
    }
}

/// Why `value` cannot be a path parameter's value, if it cannot: the name rule every generated
/// client applies before sending. `may_hold_slash` is whether the spec lets the parameter hold
/// `/` (`x-ghpkg-allow-slash`).
pub fn check_path_value(value: &str, may_hold_slash: bool) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("is empty");
    }
    if value == "." || value == ".." {
        return Err("is a dot segment, which would move the request to another path");
    }
    if value.chars().any(char::is_control) {
        return Err("contains a control character");
    }
    if value.contains(['\\', '?', '#', '%']) {
        return Err("contains \\, ?, # or %, which no GitHub name holds");
    }
    if !value.contains('/') {
        return Ok(());
    }
    if !may_hold_slash {
        return Err(
            "contains /, which only a parameter the spec marks x-ghpkg-allow-slash (a package \
             name) may hold",
        );
    }
    if value
        .split('/')
        .any(|component| component.is_empty() || component == "." || component == "..")
    {
        return Err("has an empty or dot component between its slashes (//, ./ or ../)");
    }
    Ok(())
}

/// Whether an encoded segment is one a URL parser resolves away or treats as a separator.
fn is_unsafe_segment(encoded: &str) -> bool {
    let lower = encoded.to_ascii_lowercase();
    let dots = lower.replace("%2e", ".");
    encoded.is_empty() || dots == "." || dots == ".." || encoded.contains('\\')
}

impl OperationSpec {
    /// The HTTP method.
    pub fn method(&self) -> reqwest::Method {
        reqwest::Method::from_bytes(self.method.as_bytes()).unwrap_or(reqwest::Method::GET)
    }

    /// Whether the operation may change something ([`method_is_write`]).
    pub fn is_write(&self) -> bool {
        method_is_write(self.method)
    }

    /// Whether a request of it may be sent twice with the effect of once
    /// ([`method_is_repeatable`]).
    pub fn is_repeatable(&self) -> bool {
        method_is_repeatable(self.method)
    }

    /// The points GitHub's secondary rate limit charges for one request of it
    /// ([`secondary_limit_points`]).
    pub fn secondary_limit_points(&self) -> u32 {
        secondary_limit_points(self.method)
    }

    /// Checks each path parameter's value of `params` (name, decoded value) with
    /// [`check_path_value`].
    pub fn check_params<V: AsRef<str>>(&self, params: &[(&str, V)]) -> Result<(), PathError> {
        for (name, value) in params {
            let may_hold_slash = self.slash_params.contains(name);
            check_path_value(value.as_ref(), may_hold_slash).map_err(|problem| PathError {
                parameter: name.to_string(),
                problem,
            })?;
        }
        Ok(())
    }

    /// The path below the API root with `params` filled in, each value checked with
    /// [`check_path_value`] and encoded as one segment.
    pub fn path_with(&self, params: &[(&str, &str)]) -> Result<String, PathError> {
        let mut path = String::new();
        for piece in pieces(self.path) {
            path.push('/');
            match piece {
                Piece::Literal(literal) => path.push_str(literal),
                Piece::Parameter(name) => {
                    let value = params
                        .iter()
                        .find(|(key, _)| *key == name)
                        .map(|(_, value)| *value)
                        .ok_or(PathError {
                            parameter: name.to_string(),
                            problem: "was not given",
                        })?;
                    let refused = |problem| PathError {
                        parameter: name.to_string(),
                        problem,
                    };
                    check_path_value(value, self.slash_params.contains(&name)).map_err(refused)?;
                    let encoded = encode_segment(value).map_err(refused)?;
                    path.push_str(&encoded);
                }
            }
        }
        Ok(path)
    }

    /// Matches `path` (below the API root, percent-encoded as sent) against the template: the
    /// same number of segments, literal segments equal, parameter segments non-empty and not dot
    /// segments. Returns the decoded parameters.
    pub fn match_path(&self, path: &str) -> Option<Vec<(&'static str, String)>> {
        let mut segments = path.trim_start_matches('/').split('/');
        let mut params = Vec::new();
        for piece in pieces(self.path) {
            let segment = segments.next()?;
            match piece {
                Piece::Literal(literal) if segment == literal => {}
                Piece::Literal(_) => return None,
                Piece::Parameter(name) => {
                    if is_unsafe_segment(segment) {
                        return None;
                    }
                    let decoded = percent_decode_str(segment).decode_utf8().ok()?;
                    params.push((name, decoded.into_owned()));
                }
            }
        }
        segments.next().is_none().then_some(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSION: OperationSpec = OperationSpec {
        id: "packages/delete-package-version-for-org",
        summary: "Delete package version for an organization",
        name: "packages_delete_package_version_for_org",
        method: "DELETE",
        path: "/orgs/{org}/packages/{package_type}/{package_name}/versions/{package_version_id}",
        scopes: &["read:packages", "delete:packages"],
        docs_url: "",
        owner: "org",
        action: "delete-version",
        allows_anonymous: false,
        slash_params: &["package_name"],
    };

    fn params(name: &str) -> [(&'static str, &str); 4] {
        [
            ("org", "acme"),
            ("package_type", "container"),
            ("package_name", name),
            ("package_version_id", "7"),
        ]
    }

    #[test]
    fn reads_cost_one_point_and_writes_five() {
        for method in ["GET", "HEAD", "OPTIONS"] {
            assert!(
                !method_is_write(method) && method_is_repeatable(method),
                "{method}"
            );
            assert_eq!(secondary_limit_points(method), 1, "{method}");
        }
        for method in ["DELETE", "POST", "PUT", "PATCH"] {
            assert!(method_is_write(method), "{method}");
            assert_eq!(secondary_limit_points(method), 5, "{method}");
        }
        assert!(VERSION.is_write() && VERSION.secondary_limit_points() == 5);
    }

    #[test]
    fn a_post_or_patch_may_not_be_sent_twice_a_delete_or_put_may() {
        assert!(VERSION.is_repeatable());
        assert!(method_is_repeatable("DELETE") && method_is_repeatable("PUT"));
        assert!(!method_is_repeatable("POST") && !method_is_repeatable("PATCH"));
    }

    #[test]
    fn every_parameter_is_one_segment_whatever_it_holds() {
        let path = VERSION.path_with(&params("web/app..x y")).unwrap();
        assert_eq!(
            path,
            "/orgs/acme/packages/container/web%2Fapp..x%20y/versions/7"
        );
        assert_eq!(
            VERSION.match_path(&path).unwrap()[2],
            ("package_name", "web/app..x y".to_string())
        );
    }

    #[test]
    fn dot_segments_and_empty_values_are_refused() {
        for name in ["", ".", ".."] {
            let error = VERSION.path_with(&params(name)).unwrap_err();
            assert_eq!(error.parameter, "package_name");
        }
    }

    #[test]
    fn values_that_are_not_names_are_refused_whichever_parameter_holds_them() {
        for name in [
            "web/../x", "../web", "web/", "/web", "web//x", "./x", r"web\x", "%2e%2e", "a?b",
            "a#b", "a\u{7f}", "a\nb",
        ] {
            let error = VERSION.path_with(&params(name)).unwrap_err();
            assert_eq!(error.parameter, "package_name", "{name:?}");
        }
        for login in ["../acme", "acme/x", "acme%2Fx"] {
            let with_login = [
                ("org", login),
                ("package_type", "npm"),
                ("package_name", "x"),
            ];
            let error = VERSION.check_params(&with_login).unwrap_err();
            assert_eq!(error.parameter, "org", "{login:?}");
        }
        assert!(VERSION.check_params(&params("web/app")).is_ok());
    }

    #[test]
    fn a_path_of_another_shape_does_not_match() {
        for path in [
            "/orgs/acme/packages/container/web/app/versions/7",
            "/orgs/acme/packages/container/../versions/7",
            "/orgs/acme/packages/container/%2E%2e/versions/7",
            r"/orgs/acme/packages/container/x\y/versions/7",
            "/orgs/acme/packages/container//versions/7",
            "/user/packages/container/x/versions/7",
        ] {
            assert!(VERSION.match_path(path).is_none(), "{path}");
        }
    }
}
