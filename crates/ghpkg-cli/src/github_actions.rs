//! Inside GitHub Actions (`GITHUB_ACTIONS=true`): step outputs appended to the file named by
//! `GITHUB_OUTPUT`, and a markdown summary appended to the file named by
//! `GITHUB_STEP_SUMMARY`. Nothing is written to the variables themselves, and nothing happens
//! outside Actions.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::shapes::PackageOutcomeInfo;

/// The files GitHub Actions reads after a step.
#[derive(Clone, Debug)]
pub struct GithubActions {
    output_file: Option<PathBuf>,
    summary_file: Option<PathBuf>,
}

impl GithubActions {
    /// The step's files, when running inside GitHub Actions.
    pub fn detect() -> Option<GithubActions> {
        if std::env::var("GITHUB_ACTIONS").ok().as_deref() != Some("true") {
            return None;
        }
        let file = |name: &str| {
            std::env::var_os(name)
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
        };
        Some(GithubActions {
            output_file: file("GITHUB_OUTPUT"),
            summary_file: file("GITHUB_STEP_SUMMARY"),
        })
    }

    /// Appends `outputs` to the output file, as `name=value` lines (a value with a line break
    /// in the multi-line `name<<DELIMITER` form).
    pub fn set_outputs(&self, outputs: &[(&str, String)]) -> std::io::Result<()> {
        let Some(path) = &self.output_file else {
            return Ok(());
        };
        let mut text = String::new();
        for (name, value) in outputs {
            if value.contains(['\n', '\r']) {
                let delimiter = delimiter_for(value);
                text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
            } else {
                text.push_str(&format!("{name}={value}\n"));
            }
        }
        append(path, &text)
    }

    /// Appends `markdown` to the step summary.
    pub fn summarize(&self, markdown: &str) -> std::io::Result<()> {
        let Some(path) = &self.summary_file else {
            return Ok(());
        };
        append(path, markdown)
    }
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(text.as_bytes())
}

/// A heredoc delimiter that does not occur in `value`.
fn delimiter_for(value: &str) -> String {
    let mut delimiter = "ghpkg_EOF".to_string();
    while value.contains(&delimiter) {
        delimiter.push('_');
    }
    delimiter
}

/// How loud an annotation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// `::error`: the job should go red.
    Error,
    /// `::warning`: worth a look.
    Warning,
}

/// A workflow command that annotates the run (`::error title=TITLE::MESSAGE`), one line,
/// printed on standard output for the runner to pick up.
pub fn annotation(level: Level, title: &str, message: &str) -> String {
    let level = match level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    let property = escape_data(title).replace(':', "%3A").replace(',', "%2C");
    format!("::{level} title={property}::{}\n", escape_data(message))
}

/// A workflow command's data with `%` and line breaks escaped, as the runner unescapes them.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The annotations for `packages`: an error for each one not done, naming why and what to
/// do.
pub fn not_done_annotations(packages: &[PackageOutcomeInfo]) -> String {
    packages
        .iter()
        .filter_map(|package| {
            let reason = package.reason?;
            let message = [package.detail.as_deref(), package.what_to_do.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" — ");
            Some(annotation(
                Level::Error,
                &format!("ghpkg: {} not done ({reason})", package.package),
                &message,
            ))
        })
        .collect()
}

/// How many of `packages` were not done, as the `not-done` output says it.
pub fn not_done_count(packages: &[PackageOutcomeInfo]) -> String {
    crate::outcomes::not_done(packages).len().to_string()
}

/// `packages` as the `outcomes` output: compact JSON, `[{"package", "outcome", "reason"}]`
/// (a workflow reads it with `fromJSON`).
pub fn outcomes_output(packages: &[PackageOutcomeInfo]) -> String {
    let entries: Vec<serde_json::Value> = packages
        .iter()
        .map(|package| {
            serde_json::json!({
                "package": package.package,
                "outcome": package.outcome,
                "reason": package.reason,
            })
        })
        .collect();
    serde_json::Value::Array(entries).to_string()
}

/// The step summary's section on `packages` not done: what was not done, why, and what to do;
/// empty when every package was done.
pub fn not_done_markdown(packages: &[PackageOutcomeInfo], exit: u8) -> String {
    let not_done = crate::outcomes::not_done(packages);
    if not_done.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "**Not done: {} of {} packages** (exit {exit}). Nothing was deleted in them that \
         was not sent.\n\n| package | reason | what happened | what to do |\n|---|---|---|---|\n",
        not_done.len(),
        packages.len()
    );
    for package in not_done {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            markdown_cell(&package.package),
            package.reason.map(|r| r.as_str()).unwrap_or_default(),
            markdown_cell(package.detail.as_deref().unwrap_or("")),
            markdown_cell(package.what_to_do.as_deref().unwrap_or(""))
        ));
    }
    out.push('\n');
    out
}

/// Escapes `|` and line breaks so that `text` stays inside one markdown table cell.
pub fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_annotation_is_one_line_whatever_its_message_holds() {
        assert_eq!(
            annotation(
                Level::Error,
                "ghpkg: web/app, not done: tls",
                "50% of\nit\r"
            ),
            "::error title=ghpkg%3A web/app%2C not done%3A tls::50%25 of%0Ait%0D\n"
        );
        assert_eq!(
            annotation(Level::Warning, "t", "m"),
            "::warning title=t::m\n"
        );
    }

    #[test]
    fn outputs_are_appended_and_multiline_values_use_a_delimiter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("output");
        std::fs::write(&path, "earlier=1\n").unwrap();
        let actions = GithubActions {
            output_file: Some(path.clone()),
            summary_file: None,
        };
        actions
            .set_outputs(&[("deleted", "3".into()), ("notes", "a\nghpkg_EOF\nb".into())])
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "earlier=1\ndeleted=3\nnotes<<ghpkg_EOF_\na\nghpkg_EOF\nb\nghpkg_EOF_\n"
        );
    }
}
