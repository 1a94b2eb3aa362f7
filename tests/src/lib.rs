//! Shared helpers for ghpkg's end-to-end tests (the tests themselves are in `tests/tests/`).

use std::path::PathBuf;

/// The checked-in OpenAPI fragment, relative to the workspace root.
pub const SPEC_PATH: &str = "spec/github-packages.json";

/// GitHub's reference page the fragment is written from, relative to the workspace root.
pub const SPEC_SOURCE_PATH: &str = "spec/source/github-rest-api-endpoints-for-packages.txt";

/// The workspace root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_path_buf()
}

/// Reads a file of the repository, relative to the workspace root.
pub fn read_repo_file(relative: &str) -> String {
    let path = repo_root().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}
