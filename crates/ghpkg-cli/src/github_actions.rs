//! Inside GitHub Actions (`GITHUB_ACTIONS=true`): step outputs appended to the file named by
//! `GITHUB_OUTPUT`, and a markdown summary appended to the file named by
//! `GITHUB_STEP_SUMMARY`. Nothing is written to the variables themselves, and nothing happens
//! outside Actions.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

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

/// Escapes `|` and line breaks so that `text` stays inside one markdown table cell.
pub fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
