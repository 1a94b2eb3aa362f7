//! Tests that keep the crate honest: committed schemas are fresh, every command's help has
//! examples, the README's exit-code table is the code's, and the libraries speak their own
//! language (no message of theirs names a flag; the CLI maps their advice to flags).

use std::path::{Path, PathBuf};

use ghpkg::apply::SkipReason;
use ghpkg::journal::JournalReason;
use ghpkg_cli::Exit;
use ghpkg_cli::failure::{ADVICE_ON_THE_COMMAND_LINE, FailureKind};
use ghpkg_cli::shapes::{SCHEMAS, schema_text};

use crate::support::{ghpkg, json_of, schemas_dir};

#[test]
fn committed_schemas_are_fresh() {
    let update = std::env::var_os("UPDATE_SCHEMA").is_some();
    let mut stale = Vec::new();
    for file in SCHEMAS {
        let path = schemas_dir().join(file.file);
        let expected = schema_text(file);
        if update {
            std::fs::create_dir_all(schemas_dir()).unwrap();
            std::fs::write(&path, &expected).unwrap();
            continue;
        }
        if std::fs::read_to_string(&path).ok().as_deref() != Some(expected.as_str()) {
            stale.push(file.file);
        }
    }
    assert!(
        stale.is_empty(),
        "stale schemas {stale:?}: run `UPDATE_SCHEMA=1 cargo test -p ghpkg-cli` and commit them"
    );
    let committed: Vec<String> = std::fs::read_dir(schemas_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for name in committed {
        assert!(
            SCHEMAS.iter().any(|file| file.file == name),
            "schemas/{name} belongs to no shape; delete it"
        );
    }
}

#[test]
fn every_command_has_help_with_examples() {
    fn walk(command: &clap::Command, path: String, missing: &mut Vec<String>) {
        let leaf = command.get_subcommands().next().is_none();
        if command.get_name() != "help" {
            let examples = command
                .get_after_help()
                .is_some_and(|help| help.to_string().contains("Examples:"));
            if !examples {
                missing.push(path.clone());
            }
        }
        if !leaf {
            for sub in command.get_subcommands() {
                walk(sub, format!("{path} {}", sub.get_name()), missing);
            }
        }
    }
    let mut missing = Vec::new();
    walk(&ghpkg_cli::cli::command(), "ghpkg".into(), &mut missing);
    assert!(missing.is_empty(), "no examples in the help of {missing:?}");
}

#[test]
fn the_readme_exit_code_table_is_the_code() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for exit in Exit::ALL {
        let row = format!("| {} | `{}` |", exit.code(), exit.name());
        assert!(
            readme.contains(&row),
            "README.md lacks the exit-code row `{row}`"
        );
    }
}

#[test]
fn the_readme_explains_every_reason_a_package_is_not_done() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for reason in ghpkg::outcome::NotDoneReason::ALL {
        let row = format!("| `{reason}` |");
        assert!(
            readme.contains(&row),
            "README.md's outcomes table lacks the row of `{reason}`"
        );
    }
}

#[test]
fn the_readme_names_every_schema() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for file in SCHEMAS {
        assert!(
            readme.contains(file.file),
            "README.md does not document {}",
            file.file
        );
    }
}

#[test]
fn completions_are_scripts_and_their_json_matches_its_schema() {
    let output = ghpkg(&["completions", "bash"]).output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("_ghpkg"));
    let output = ghpkg(&["completions", "fish", "--json"]).output().unwrap();
    assert!(output.status.success());
    let json = json_of(&output, "completions.schema.json");
    assert_eq!(json["shell"], "fish");
    assert!(
        json["script"]
            .as_str()
            .unwrap()
            .contains("complete -c ghpkg")
    );
}

/// The README's text from `start` to the first `end` after it, joined onto one line.
fn readme_passage(start: &str, end: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let readme = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    let from = readme
        .find(start)
        .unwrap_or_else(|| panic!("README.md no longer says `{start}`"));
    let passage = &readme[from..];
    let to = passage
        .find(end)
        .unwrap_or_else(|| panic!("README.md: `{start}` has no `{end}` after it"));
    passage[..to].to_string()
}

/// The `code`s quoted in `text`, in order.
fn backquoted(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

#[test]
fn the_readme_and_the_schema_list_exactly_the_skip_reasons() {
    let table: Vec<&str> = SkipReason::ALL.iter().map(|r| r.as_str()).collect();
    let readme = readme_passage("A skipped version's reason is one of", "(");
    assert_eq!(backquoted(&readme), table, "README.md's skip reasons");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(schemas_dir().join("run-report.schema.json")).unwrap(),
    )
    .unwrap();
    let listed: Vec<&str> = schema["properties"]["skipped"]["propertyNames"]["enum"]
        .as_array()
        .expect("the skip counts' keys are an enum")
        .iter()
        .map(|code| code.as_str().unwrap())
        .collect();
    assert_eq!(listed, table, "run-report.schema.json's skip reasons");
}

#[test]
fn the_readme_names_every_refusal_a_journal_records_and_only_journal_reasons() {
    let passage = readme_passage("A journal line's `reason` is", "**Progress**");
    let named = backquoted(&passage);
    for code in &named {
        if *code == "reason" || code.ends_with('…') {
            continue;
        }
        assert!(
            JournalReason::from_code(code).is_some(),
            "README.md names `{code}` as a journal reason"
        );
    }
    let refusals = JournalReason::all_codes().into_iter().filter(|code| {
        matches!(
            JournalReason::from_code(code),
            Some(JournalReason::Refused(_))
        )
    });
    for refusal in refusals {
        assert!(
            named.contains(&refusal),
            "README.md does not name the refusal `{refusal}`"
        );
    }
}

#[test]
fn the_readme_and_the_schema_list_exactly_the_error_kinds_by_family() {
    let all = FailureKind::all();
    let family = |keep: fn(&FailureKind) -> bool| -> Vec<&'static str> {
        all.iter()
            .filter(|kind| keep(kind))
            .map(|kind| kind.as_str())
            .collect()
    };
    let table = [
        family(|kind| matches!(kind, FailureKind::Library(_))),
        family(|kind| matches!(kind, FailureKind::Apply(_))),
        family(|kind| matches!(kind, FailureKind::Cli(_))),
    ];
    let readme = readme_passage("An error's `kind` is stable:", "; `hint`");
    let groups: Vec<Vec<&str>> = readme
        .split('(')
        .skip(1)
        .map(|group| backquoted(group.split(')').next().unwrap()))
        .collect();
    assert_eq!(
        groups, table,
        "README.md's error kinds: the library's, an apply's, the CLI's"
    );
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(schemas_dir().join("error.schema.json")).unwrap(),
    )
    .unwrap();
    let listed: Vec<&str> = schema["definitions"]["FailureKind"]["enum"]
        .as_array()
        .expect("the error kinds are an enum")
        .iter()
        .map(|code| code.as_str().unwrap())
        .collect();
    assert_eq!(listed, table.concat(), "error.schema.json's error kinds");
}

/// The library crates, whose messages must name library concepts, not the CLI's flags.
const LIBRARY_SOURCES: [&str; 2] = ["../ghpkg/src", "../ghpkg-retention/src"];

#[test]
fn no_library_string_outside_tests_names_a_command_line_flag() {
    let mut offenders = Vec::new();
    for (path, literal) in library_literals() {
        let names_a_flag = literal
            .as_bytes()
            .windows(3)
            .any(|w| w[0] == b'-' && w[1] == b'-' && w[2].is_ascii_lowercase());
        if names_a_flag {
            offenders.push(format!("{}: {literal:?}", path.display()));
        }
    }
    assert!(
        offenders.is_empty(),
        "library messages name CLI flags; name the library's option, field or method instead \
         and map it to the flag in ghpkg-cli's failure.rs:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn every_piece_of_library_advice_the_cli_maps_to_flags_is_still_given_by_the_library() {
    let literals = library_literals();
    for (library, _) in ADVICE_ON_THE_COMMAND_LINE {
        assert!(
            literals
                .iter()
                .any(|(_, literal)| literal.contains(library)),
            "no library message says `{library}` any more: update ADVICE_ON_THE_COMMAND_LINE"
        );
    }
}

#[test]
fn the_string_scanner_reads_values_and_skips_comments_chars_and_tests() {
    let source = r##"
        // "in a comment"
        /* "in a block" */
        fn f<'a>(x: &'a str) -> char { let _ = "one \
            line"; let _ = r#"raw "quoted""#; '"' }
        #[cfg(test)]
        mod tests { fn g() { let _ = "--test-only"; let _ = '}'; } }
        const AFTER: &str = "after\ttab";
    "##;
    assert_eq!(
        string_literals(source),
        ["one line", r#"raw "quoted""#, "after\ttab"]
    );
}

/// Every string literal of the library crates' non-test code, with its file.
fn library_literals() -> Vec<(PathBuf, String)> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in LIBRARY_SOURCES {
        rust_files(&manifest.join(dir), &mut files);
    }
    assert!(
        files.len() > 20,
        "the library sources were not found: {files:?}"
    );
    files
        .into_iter()
        .flat_map(|path| {
            let source = std::fs::read_to_string(&path).unwrap();
            string_literals(&source)
                .into_iter()
                .map(move |literal| (path.clone(), literal))
        })
        .collect()
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
}

/// The values of the string literals in Rust `source`, outside comments and outside items
/// marked `#[cfg(test)]`: enough of Rust's lexer for this repository's sources.
fn string_literals(source: &str) -> Vec<String> {
    let chars: Vec<char> = source.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let starts_with = |i: usize, text: &str| text.chars().enumerate().all(|(k, c)| at(i + k) == c);
    let mut literals = Vec::new();
    let mut depth = 0usize;
    // While inside a `#[cfg(test)]` item: the depth it started at, and whether its body began.
    let mut test_item: Option<(usize, bool)> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let identifier_before = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if starts_with(i, "//") {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if starts_with(i, "/*") {
            i += 2;
            while i < chars.len() && !starts_with(i, "*/") {
                i += 1;
            }
            i += 2;
        } else if starts_with(i, "#[cfg(test)]") {
            test_item.get_or_insert((depth, false));
            i += "#[cfg(test)]".len();
        } else if c == '\'' {
            // A char literal (`'x'`, `'\n'`, `'\u{1F600}'`), or a lifetime.
            if at(i + 1) == '\\' {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
        } else if !identifier_before
            && (c == 'r' || (c == 'b' && at(i + 1) == 'r'))
            && matches!(at(i + 1 + usize::from(c == 'b')), '"' | '#')
        {
            let mut j = i + 1 + usize::from(c == 'b');
            let mut hashes = 0;
            while at(j) == '#' {
                hashes += 1;
                j += 1;
            }
            if at(j) != '"' {
                i += 1;
                continue;
            }
            let close: String = std::iter::once('"')
                .chain("#".repeat(hashes).chars())
                .collect();
            let start = j + 1;
            let mut end = start;
            while end < chars.len() && !starts_with(end, &close) {
                end += 1;
            }
            if test_item.is_none() {
                literals.push(chars[start..end].iter().collect());
            }
            i = end + close.len();
        } else if c == '"' {
            let mut value = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                    match at(i) {
                        '\n' => {
                            while at(i + 1).is_whitespace() {
                                i += 1;
                            }
                        }
                        'n' => value.push('\n'),
                        't' => value.push('\t'),
                        'r' => value.push('\r'),
                        '0' => value.push('\0'),
                        other => value.push(other),
                    }
                } else {
                    value.push(chars[i]);
                }
                i += 1;
            }
            i += 1;
            if test_item.is_none() {
                literals.push(value);
            }
        } else {
            match c {
                '{' => {
                    if let Some((_, body)) = &mut test_item {
                        *body = true;
                    }
                    depth += 1;
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    if test_item.is_some_and(|(start, body)| body && depth == start) {
                        test_item = None;
                    }
                }
                ';' if test_item.is_some_and(|(start, body)| !body && depth == start) => {
                    test_item = None;
                }
                _ => {}
            }
            i += 1;
        }
    }
    literals
}
