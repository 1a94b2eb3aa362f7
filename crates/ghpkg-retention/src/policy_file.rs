//! Policy files: a [`Policy`] written in TOML, and errors that point at the line and column.
//!
//! TOML because the `toml` crate reports every syntax error, unknown key and bad value with
//! its span, and because keys cannot be repeated or silently shadowed as YAML's anchors and
//! implicit types allow (`no` read as `false`, `1.10` as `1.1`).

use std::fmt;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

use crate::policy::{Policy, PolicyError};

/// The longest policy file read, 1 MiB: a policy is a few hundred lines.
pub const MAX_POLICY_BYTES: usize = 1 << 20;

impl Policy {
    /// Reads a policy from TOML and validates it ([`Policy::validate`]). Every error says where
    /// in `text` it is.
    ///
    /// ```
    /// use ghpkg_retention::Policy;
    ///
    /// let error = Policy::from_toml("[[rules]]\nname = \"prs\"\naction = \"delete\"\ntype = \"container\"\nkeep_newst = 3\n").unwrap_err();
    /// assert_eq!((error.line, error.column), (5, 1));
    /// assert!(error.message.contains("keep_newst"));
    /// ```
    pub fn from_toml(text: &str) -> Result<Policy, PolicyFileError> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(PolicyFileError::at(
                text,
                0..0,
                format!(
                    "the policy is {} bytes, more than the {MAX_POLICY_BYTES} a policy may have",
                    text.len()
                ),
            ));
        }
        let policy: Policy = toml::from_str(text).map_err(|error| {
            PolicyFileError::at(
                text,
                error.span().unwrap_or(0..0),
                error.message().trim_end().to_owned(),
            )
        })?;
        policy.validate().map_err(|error| {
            PolicyFileError::at(text, locate(text, &policy, &error), error.to_string())
        })?;
        Ok(policy)
    }
}

/// Where in `text` the key `error` is about is written: the key of the rule, or of the top
/// level, or the rule's table; the start of the file when nothing better is known.
fn locate(text: &str, policy: &Policy, error: &PolicyError) -> Range<usize> {
    let Ok(document) = DeTable::parse(text) else {
        return 0..0;
    };
    let top = document.get_ref();
    let key_in = |table: &DeTable<'_>, wanted: &str| {
        table
            .iter()
            .find(|(key, _)| key.get_ref().as_ref() == wanted)
            .map(|(key, _)| key.span())
    };
    let rule_table = |index: usize| {
        let (_, rules) = top
            .iter()
            .find(|(key, _)| key.get_ref().as_ref() == "rules")?;
        match rules.get_ref() {
            DeValue::Array(rules) => rules.get(index).map(|rule| match rule.get_ref() {
                DeValue::Table(table) => (Some(table.clone()), rule.span()),
                _ => (None, rule.span()),
            }),
            _ => None,
        }
    };
    let in_rule = |index: usize, key: Option<&str>| {
        let (table, span) = rule_table(index)?;
        Some(
            key.zip(table.as_ref())
                .and_then(|(key, table)| key_in(table, key))
                .unwrap_or(span),
        )
    };
    let found = match error {
        PolicyError::NoRules | PolicyError::TooManyRules { .. } => None,
        PolicyError::DuplicateName { name } => policy
            .rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| &rule.name == name)
            .nth(1)
            .and_then(|(index, _)| in_rule(index, Some("name"))),
        PolicyError::Rule { index, problem, .. } => in_rule(*index, problem.key()),
        PolicyError::Shared(error) => error.key().and_then(|key| key_in(top, key)),
    };
    found.unwrap_or(0..0)
}

/// A policy file that cannot be used, with where the problem is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}\n{excerpt}")]
pub struct PolicyFileError {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1, in characters.
    pub column: usize,
    /// What is wrong, and what to do.
    pub message: String,
    /// The line itself with a caret under the problem, as `  7 | text` and `    | ^^^`.
    pub excerpt: String,
}

impl PolicyFileError {
    fn at(text: &str, span: Range<usize>, message: String) -> PolicyFileError {
        let start = floor_char_boundary(text, span.start.min(text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |at| at + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |at| start + at);
        let line = text[..start].matches('\n').count() + 1;
        let column = text[line_start..start].chars().count() + 1;
        let source = text[line_start..line_end].trim_end_matches('\r');
        let end = floor_char_boundary(text, span.end.clamp(start, line_end));
        let width = text[start..end].chars().count().max(1);
        let number = line.to_string();
        let gutter = " ".repeat(number.len());
        let excerpt = format!(
            "{number} | {source}\n{gutter} | {}{}",
            " ".repeat(column - 1),
            "^".repeat(width)
        );
        PolicyFileError {
            line,
            column,
            message,
            excerpt,
        }
    }

    /// The error as `PATH:LINE:COLUMN: message` followed by the excerpt, as compilers write
    /// them (editors and CI annotations link to it).
    pub fn render(&self, path: &str) -> String {
        format!(
            "{path}:{}:{}: {}\n{}",
            self.line, self.column, self.message, self.excerpt
        )
    }
}

impl fmt::Display for crate::policy::RuleAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_point_at_the_key_at_fault() {
        let text =
            "[[rules]]\nname = \"k\"\naction = \"keep\"\ntype = \"npm\"\nolder_than = \"7d\"\n";
        let error = Policy::from_toml(text).unwrap_err();
        assert_eq!((error.line, error.column), (5, 1));
        assert_eq!(error.excerpt, "5 | older_than = \"7d\"\n  | ^^^^^^^^^^");
    }

    #[test]
    fn a_budget_may_be_a_whole_number() {
        let text = "max_percent = 50\nmax_deletions = 10\n[[rules]]\nname = \"a\"\naction = \"delete\"\ntype = \"npm\"\nkeep_newest = 2\n";
        let policy = Policy::from_toml(text).unwrap();
        assert_eq!(policy.max_percent, Some(50.0));
    }

    #[test]
    fn a_file_too_large_is_refused_before_parsing() {
        let text = "#".repeat(MAX_POLICY_BYTES + 1);
        let error = Policy::from_toml(&text).unwrap_err();
        assert!(error.message.contains("more than"), "{}", error.message);
    }

    #[test]
    fn spans_inside_multibyte_text_do_not_panic() {
        for text in [
            "é = 1",
            "[[rules]]\nname = \"é\"\n",
            "\u{feff}x",
            "a = \"\u{1F600}",
        ] {
            let _ = Policy::from_toml(text);
        }
    }
}
