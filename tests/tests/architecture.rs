//! ARCHITECTURE.md's checkable claims, checked: which crate depends on which, that no two
//! modules of the library import each other (nor any longer circle), where printing happens,
//! that the emulator never uses the generated client, and where an HTTP status decides.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ghpkg_tests::repo_root;

/// The `.rs` files under `dir`, relative to it, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    files.sort();
    files
}

/// A source file's code: without its `#[cfg(test)]` module (which by convention closes the
/// file) and without comment lines (doc examples print, and that is fine).
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The workspace crates each crate's `[dependencies]` (not dev- or build-) names.
fn normal_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let root = repo_root();
    let mut manifests: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|entry| entry.unwrap().path().join("Cargo.toml"))
        .collect();
    manifests.extend(["xtask", "bench"].map(|dir| root.join(dir).join("Cargo.toml")));
    let mut graph = BTreeMap::new();
    for manifest in manifests {
        let text = std::fs::read_to_string(&manifest).unwrap();
        let name = text
            .lines()
            .find_map(|line| line.strip_prefix("name = "))
            .map(|name| name.trim_matches('"').to_string())
            .unwrap();
        let mut section = String::new();
        let mut deps = BTreeSet::new();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                section = line.to_string();
            } else if section == "[dependencies]" && line.starts_with("ghpkg") {
                let dep = line.split(['.', ' ', '=']).next().unwrap();
                deps.insert(dep.to_string());
            }
        }
        graph.insert(name, deps);
    }
    graph
}

#[test]
fn dependencies_point_one_way() {
    let expected: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("ghpkg-api", &[][..]),
        ("ghpkg-retention", &[]),
        ("ghpkg-codegen", &[]),
        ("ghpkg", &["ghpkg-api", "ghpkg-retention"]),
        ("ghpkg-account", &["ghpkg", "ghpkg-api"]),
        ("ghpkg-mock", &["ghpkg-api"]),
        ("ghpkg-cli", &["ghpkg", "ghpkg-account", "ghpkg-mock"]),
        ("xtask", &["ghpkg-codegen"]),
        ("ghpkg-bench", &["ghpkg", "ghpkg-api", "ghpkg-mock"]),
    ]);
    let actual = normal_dependencies();
    for (name, deps) in &actual {
        let want: BTreeSet<String> = expected
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} is not on ARCHITECTURE.md's map; add it there"))
            .iter()
            .map(|dep| dep.to_string())
            .collect();
        assert_eq!(
            deps, &want,
            "{name}'s dependencies on our crates differ from ARCHITECTURE.md's map"
        );
    }
}

/// Every module of `src` (a file: `pacing/mod.rs` is `pacing`, `registry/graph.rs` is
/// `registry/graph`) and the modules its code names through `crate::`.
fn module_imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<String> = rust_files(src)
        .iter()
        .map(|file| {
            let name = file.with_extension("").to_string_lossy().replace('\\', "/");
            name.strip_suffix("/mod")
                .map(str::to_string)
                .unwrap_or(name)
        })
        .collect();
    let mut imports = BTreeMap::new();
    for file in rust_files(src) {
        let name = file.with_extension("").to_string_lossy().replace('\\', "/");
        let name = name
            .strip_suffix("/mod")
            .map(str::to_string)
            .unwrap_or(name);
        let code = code_of(&src.join(&file));
        let mut named = BTreeSet::new();
        for (at, _) in code.match_indices("crate::") {
            let path: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut segments = path.split("::");
            let Some(first) = segments.next() else {
                continue;
            };
            let nested = segments.next().map(|second| format!("{first}/{second}"));
            let target = match nested {
                Some(nested) if modules.contains(&nested) => nested,
                _ => first.to_string(),
            };
            if modules.contains(&target) && target != name {
                named.insert(target);
            }
        }
        imports.insert(name, named);
    }
    imports
}

/// A circle of imports in `graph`, if there is one.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|seen| seen == node) {
            let mut circle = path[start..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_modules_of_the_library_import_each_other() {
    let imports = module_imports(&repo_root().join("crates/ghpkg/src"));
    assert!(
        imports.len() > 20,
        "the walk found the modules: {imports:?}"
    );
    assert!(
        imports["apply"].contains("journal"),
        "the walk sees imports"
    );
    if let Some(circle) = find_circle(&imports) {
        panic!("modules import each other: {}", circle.join(" -> "));
    }
}

#[test]
fn the_circle_finder_finds_circles() {
    let graph = BTreeMap::from([
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
    ]);
    assert_eq!(
        find_circle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

/// The places in `code` that write to standard output or error.
fn prints(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in code.lines() {
        for pattern in [
            "print!(",
            "println!(",
            "eprint!(",
            "eprintln!(",
            "dbg!(",
            "io::stdout()",
            "io::stderr()",
            "anstream::stdout()",
            "anstream::stderr()",
        ] {
            let terminal_check = line.contains(&format!("{pattern}.is_terminal()"));
            if line.contains(pattern) && !terminal_check {
                found.push(line.trim().to_string());
                break;
            }
        }
    }
    found
}

#[test]
fn only_the_cli_prints_and_only_through_render() {
    let root = repo_root();
    let mut offenders = Vec::new();
    for krate in std::fs::read_dir(root.join("crates")).unwrap() {
        let krate = krate.unwrap().path();
        let src = krate.join("src");
        let name = krate.file_name().unwrap().to_string_lossy().to_string();
        for file in rust_files(&src) {
            let relative = file.to_string_lossy().replace('\\', "/");
            let allowed = match name.as_str() {
                // Output, and progress bars drawn by indicatif.
                "ghpkg-cli" => relative.starts_with("render/") || relative == "progress.rs",
                // The emulator's own binary prints its banner.
                "ghpkg-mock" => relative == "main.rs",
                _ => false,
            };
            if allowed || relative.ends_with("generated.rs") {
                continue;
            }
            for line in prints(&code_of(&src.join(&file))) {
                offenders.push(format!("crates/{name}/src/{relative}: {line}"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "print only through ghpkg-cli's render module:\n{}",
        offenders.join("\n")
    );
    assert_eq!(
        prints("eprintln!(\"x\");").len(),
        1,
        "the check sees a print"
    );
}

#[test]
fn the_emulator_never_uses_the_generated_client() {
    let src = repo_root().join("crates/ghpkg-mock/src");
    for file in rust_files(&src) {
        let code = code_of(&src.join(&file));
        for forbidden in [
            "ghpkg_api::Client",
            "ghpkg_api::builder",
            "ghpkg_api::hooks",
        ] {
            assert!(
                !code.contains(forbidden),
                "crates/ghpkg-mock/src/{}: uses {forbidden}; the emulator uses only ghpkg-api's \
                 model types and operations table",
                file.display()
            );
        }
    }
}

/// Whether `line` compares an HTTP status to decide something.
fn reads_a_status(line: &str) -> bool {
    let compares_code = [
        "status ==",
        "status !=",
        "status >=",
        "status <=",
        "status >",
    ]
    .iter()
    .any(|pattern| line.contains(pattern));
    let compares_constant = line.contains("StatusCode::") && !line.contains("StatusCode::from_u16");
    let compares_number = line.contains("as_u16() ") && line.contains(['=', '<', '>']);
    compares_code || compares_constant || compares_number
}

#[test]
fn only_the_classifier_reads_an_api_status_to_decide() {
    let src = repo_root().join("crates/ghpkg/src");
    let mut offenders = Vec::new();
    for file in rust_files(&src) {
        let relative = file.to_string_lossy().replace('\\', "/");
        // The classifier; the registry's own protocol (its 401 challenge, its 404 for a
        // missing manifest); pacing, which frames a non-JSON error body for the generated
        // client without deciding anything.
        let allowed = relative == "classify.rs"
            || relative.starts_with("registry/")
            || (relative == "pacing/mod.rs");
        if allowed {
            continue;
        }
        for line in code_of(&src.join(&file)).lines() {
            if reads_a_status(line) {
                offenders.push(format!("crates/ghpkg/src/{relative}: {}", line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "decide through classify.rs, not by reading a status:\n{}",
        offenders.join("\n")
    );
    assert!(reads_a_status(
        "if answer.status == StatusCode::NOT_FOUND {"
    ));
}

/// The crates `ghpkg-cli`'s normal dependency tree holds, with `features` (or none).
fn cli_dependency_names(default_features: bool) -> BTreeSet<String> {
    let mut command = std::process::Command::new(env!("CARGO"));
    command
        .current_dir(repo_root())
        .args([
            "tree",
            "-p",
            "ghpkg-cli",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--offline", "--locked"]);
    if !default_features {
        command.arg("--no-default-features");
    }
    let output = command.output().expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_emulator_is_in_the_command_only_with_the_demo_feature() {
    let with_demo = cli_dependency_names(true);
    assert!(
        with_demo.contains("ghpkg-mock") && with_demo.contains("axum"),
        "the default build embeds the emulator for --demo: {with_demo:?}"
    );
    let without = cli_dependency_names(false);
    for name in ["ghpkg-mock", "axum"] {
        assert!(
            !without.contains(name),
            "a build without the demo feature still depends on {name}"
        );
    }
}
