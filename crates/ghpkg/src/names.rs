//! The name rules: which owner logins and package names ghpkg sends. The one place that decides;
//! every request checks its names here before anything is sent.
//!
//! A name becomes one path segment of the request's URL (see [`ghpkg_api::encode_segment`]),
//! so it can never add a segment; these rules also refuse what GitHub never accepts, so that a
//! typo fails fast with a message instead of a `404` that looks like "already gone".
//!
//! **Owners** (organization and user logins), GitHub's rule: ASCII letters, digits and hyphens,
//! starting and ending with a letter or digit, at most 39 characters; underscores are accepted
//! too, and up to 64 characters, for Enterprise Managed Users (`handle_shortcode`).
//!
//! **Package names**, per ecosystem, at most 255 characters, printable ASCII, never `.` or `..`
//! or a path segment that is:
//! - `container` and `docker`: the OCI repository name rule, lower case: components of
//!   `a-z 0-9` joined by `.`, `_`, `__` or runs of `-`, separated by `/` (`web/app`);
//! - `npm`: letters, digits, `-`, `.`, `_`, `~`, not starting with `.` or `_` (the scope is
//!   not part of the name GitHub's API uses), at most 214 characters;
//! - `maven` (`com.example.app`), `nuget` (at most 100 characters) and `rubygems`: letters,
//!   digits, `-`, `.` and `_`.

use crate::types::PackageType;

/// The longest package name accepted.
pub const MAX_PACKAGE_NAME_LEN: usize = 255;

/// The longest owner login accepted (GitHub's 39, plus Enterprise Managed Users' suffix).
pub const MAX_OWNER_LEN: usize = 64;

pub use crate::error::NameKind;

/// Why a name was refused: a short phrase that completes "the name …".
pub type Problem = String;

/// Checks an owner login.
pub fn check_owner(login: &str) -> Result<(), Problem> {
    check_printable(login)?;
    if login.len() > MAX_OWNER_LEN {
        return Err(format!("is longer than {MAX_OWNER_LEN} characters"));
    }
    if let Some(bad) = login
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "contains {bad:?}; GitHub logins have only letters, digits and hyphens"
        ));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !edge_ok(login.chars().next()) || !edge_ok(login.chars().last()) {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// Checks a package name for its package type.
pub fn check_package(package_type: &PackageType, name: &str) -> Result<(), Problem> {
    check_printable(name)?;
    if name.len() > MAX_PACKAGE_NAME_LEN {
        return Err(format!("is longer than {MAX_PACKAGE_NAME_LEN} characters"));
    }
    if name == "." || name == ".." {
        return Err("is a dot segment".into());
    }
    match package_type {
        PackageType::Container | PackageType::Docker => check_oci_repository(name),
        PackageType::Npm => {
            if name.len() > 214 {
                return Err("is longer than npm's 214 characters".into());
            }
            if name.starts_with('.') || name.starts_with('_') {
                return Err("starts with '.' or '_', which npm does not allow".into());
            }
            check_charset(name, "-._~", "npm")
        }
        PackageType::Nuget => {
            if name.len() > 100 {
                return Err("is longer than NuGet's 100 characters".into());
            }
            check_charset(name, "-._", "NuGet")
        }
        PackageType::Maven => check_charset(name, "-._", "Maven"),
        PackageType::Rubygems => check_charset(name, "-._", "RubyGems"),
        PackageType::Other(_) => Ok(()),
    }
}

/// Not empty, printable ASCII, no whitespace.
fn check_printable(name: &str) -> Result<(), Problem> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    if let Some(bad) = name.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(format!(
            "contains {bad:?}; names are printable ASCII without spaces"
        ));
    }
    Ok(())
}

fn check_charset(name: &str, punctuation: &str, ecosystem: &str) -> Result<(), Problem> {
    match name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || punctuation.contains(*c)))
    {
        Some(bad) => Err(format!(
            "contains {bad:?}; {ecosystem} package names have letters, digits and {}",
            punctuation
                .chars()
                .map(|c| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        None => Ok(()),
    }
}

/// The OCI distribution rule for repository names, which GHCR applies.
fn check_oci_repository(name: &str) -> Result<(), Problem> {
    for component in name.split('/') {
        if component.is_empty() {
            return Err("has an empty path component (a leading, trailing or double '/')".into());
        }
        if !is_oci_component(component) {
            return Err(format!(
                "has the component {component:?}; container names are lower-case letters and \
                 digits, joined by '.', '_', '__' or '-', in components separated by '/'"
            ));
        }
    }
    Ok(())
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_oci_component(component: &str) -> bool {
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let bytes = component.as_bytes();
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == bytes.len() {
            return true;
        }
        let separator_start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[separator_start..i];
        let valid = separator == "."
            || separator == "_"
            || separator == "__"
            || separator.bytes().all(|b| b == b'-');
        if !valid || i == bytes.len() {
            return false;
        }
    }
}

pub(crate) use crate::error::shown;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_logins_follow_githubs_rule() {
        for good in ["acme", "octo-org", "a", "x1", "user_emu1", &"a".repeat(39)] {
            assert_eq!(check_owner(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "-acme",
            "acme-",
            "ac me",
            "ac/me",
            r"ac\me",
            "a%2e",
            "acme\n",
            "ä",
            &"a".repeat(65),
        ] {
            assert!(check_owner(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn container_names_follow_the_oci_rule_and_may_hold_slashes() {
        let ok = |name| check_package(&PackageType::Container, name);
        for good in [
            "web/app",
            "hello_docker",
            "a.b",
            "a__b",
            "a---b",
            "x/y/z",
            "app1",
        ] {
            assert_eq!(ok(good), Ok(()), "{good}");
        }
        for bad in [
            "", ".", "..", "web/..", "../x", "web//app", "/web", "web/", "Web", r"x\..\y",
            "a%2e%2e", "a b", "a..b", "-a", "a-", "a/./b",
        ] {
            assert!(ok(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn maven_and_nuget_names_keep_their_dots_but_not_slashes() {
        assert_eq!(
            check_package(&PackageType::Maven, "com.example.app"),
            Ok(())
        );
        assert_eq!(check_package(&PackageType::Nuget, "Acme.Lib"), Ok(()));
        assert_eq!(check_package(&PackageType::Npm, "hello-world-npm"), Ok(()));
        assert!(check_package(&PackageType::Maven, "com/example").is_err());
        assert!(check_package(&PackageType::Npm, ".hidden").is_err());
        assert!(check_package(&PackageType::Rubygems, "..").is_err());
        assert!(check_package(&PackageType::Nuget, &"a".repeat(101)).is_err());
        assert!(check_package(&PackageType::Npm, &"a".repeat(300)).is_err());
    }

    #[test]
    fn shown_names_are_escaped_and_short() {
        assert_eq!(shown("a\nb"), "\"a\\nb\"");
        assert!(shown(&"x".repeat(300)).chars().count() < 90);
    }
}
