//! Classic token scopes: the three the Packages API names, and the one rule for whether the
//! scopes a token has cover the ones an operation needs. Which scopes each operation needs is
//! the spec's (`x-github-classic-scopes`, in [`OperationSpec::scopes`](crate::OperationSpec)).
//!
//! A classic token's `write:packages` implies `read:packages`: GitHub's token page nests
//! `read:packages` under `write:packages`, and, as with `repo` and `repo:status`, GitHub lists
//! only the outer scope in `X-OAuth-Scopes` once both are granted. `delete:packages` implies
//! nothing. The library's pre-flight checks and the emulator both decide with [`covers`].

/// `read:packages`: download and list packages.
pub const READ_PACKAGES: &str = "read:packages";
/// `write:packages`: upload and restore packages (implies `read:packages`).
pub const WRITE_PACKAGES: &str = "write:packages";
/// `delete:packages`: delete packages and versions (implies nothing).
pub const DELETE_PACKAGES: &str = "delete:packages";

/// Which scope implies which: a token with the first has the second too.
const IMPLIED: [(&str, &str); 1] = [(WRITE_PACKAGES, READ_PACKAGES)];

/// Whether a token granted `granted` has `scope`, itself or through a scope that implies it.
pub fn covers(granted: &[impl AsRef<str>], scope: &str) -> bool {
    granted
        .iter()
        .map(AsRef::as_ref)
        .any(|have| have == scope || IMPLIED.contains(&(have, scope)))
}

/// The scopes of `required` that `granted` does not [cover](covers), in `required`'s order.
pub fn missing<'r>(required: &[&'r str], granted: &[impl AsRef<str>]) -> Vec<&'r str> {
    required
        .iter()
        .copied()
        .filter(|scope| !covers(granted, scope))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_packages_implies_read_packages_and_delete_packages_implies_nothing() {
        assert!(covers(&[WRITE_PACKAGES], READ_PACKAGES));
        assert!(!covers(&[DELETE_PACKAGES], READ_PACKAGES));
        assert!(!covers(&[READ_PACKAGES], WRITE_PACKAGES));
        assert_eq!(
            missing(&[READ_PACKAGES, DELETE_PACKAGES], &[WRITE_PACKAGES]),
            [DELETE_PACKAGES]
        );
        assert!(
            missing(
                &[READ_PACKAGES, WRITE_PACKAGES],
                &["write:packages".to_string()]
            )
            .is_empty()
        );
    }
}
