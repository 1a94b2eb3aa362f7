//! Printing: the one place that writes to standard output and standard error, through
//! [`printable`], so that no control character a server or a file sent reaches the terminal.
//! `--json` prints one document on standard output; otherwise people get aligned tables,
//! relative times, and colour only on a terminal and never with `NO_COLOR` (`anstream` decides,
//! per stream).
//!
//! - [`table`]: aligned columns.
//! - [`time`]: "3 months ago", and numbers with thousands separators.
//! - [`names`]: digests and tags cut to what a column can show.
//! - [`plan`]: a retention plan as a person reads it.
//! - [`report`]: what an apply or a restore did.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};

use anstyle::{AnsiColor, Effects, Style};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::failure::Failure;
use crate::shapes::ErrorReport;

pub mod names;
pub mod plan;
pub mod report;
pub mod table;
pub mod time;

/// Section headings and package names.
pub const HEADING: Style = Style::new().effects(Effects::BOLD);
/// What is deleted.
pub const DELETE: Style = AnsiColor::Red.on_default();
/// What is kept.
pub const KEEP: Style = AnsiColor::Green.on_default();
/// Secondary detail.
pub const DIM: Style = Style::new().effects(Effects::DIMMED);
/// Warnings.
pub const WARN: Style = AnsiColor::Yellow.on_default().effects(Effects::BOLD);
/// Errors.
pub const ERROR: Style = AnsiColor::Red.on_default().effects(Effects::BOLD);

/// `text` in `style` (the escape codes are stripped where colour is off).
pub fn styled(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// `word` with its first letter in upper case: `deleted` → `Deleted`.
pub fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// How this run prints.
#[derive(Clone, Debug)]
pub struct Output {
    /// `--json`: one document on standard output, nothing else there.
    pub json: bool,
    /// `--quiet`: no progress and no informational messages.
    pub quiet: bool,
    /// "Now", for relative times (fixed by `--now`).
    pub now: DateTime<Utc>,
}

impl Output {
    /// Prints `value` as pretty JSON, one document, on standard output.
    pub fn json<T: Serialize>(&self, value: &T) {
        // Written as it is serialized: a plan of 150,000 versions is never held as text.
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        let _ = serde_json::to_writer_pretty(&mut stdout, value);
        let _ = stdout.write_all(b"\n");
        let _ = stdout.flush();
    }

    /// Prints `text` for people on standard output (colour stripped where it is off).
    pub fn text(&self, text: &str) {
        let mut stdout = anstream::stdout().lock();
        let _ = stdout.write_all(printable(text).as_bytes());
        let _ = stdout.flush();
    }

    /// A writer of text for people to standard output, which prints what it is given a
    /// chunk of whole lines at a time (a plan of 150,000 versions is never held as text).
    pub fn text_writer(&self) -> TextWriter<'_> {
        TextWriter {
            output: self,
            buffer: String::new(),
        }
    }

    /// An informational message on standard error, unless `--quiet` or `--json`.
    pub fn note(&self, message: &str) {
        if self.quiet || self.json {
            return;
        }
        let _ = writeln!(anstream::stderr(), "{}", printable(message));
    }

    /// A warning on standard error, unless `--quiet`.
    pub fn warn(&self, message: &str) {
        if self.quiet {
            return;
        }
        let _ = writeln!(
            anstream::stderr(),
            "{} {}",
            styled(WARN, "warning:"),
            printable(message)
        );
    }

    /// Prints why the command stopped: the error shape on standard output with `--json`,
    /// `error:` and `hint:` lines on standard error otherwise.
    pub fn failure(&self, failure: &Failure) {
        if self.json {
            self.json(&ErrorReport::from(failure));
            return;
        }
        let mut stderr = anstream::stderr().lock();
        let _ = writeln!(
            stderr,
            "{} {}",
            styled(ERROR, "error:"),
            printable(&failure.message)
        );
        if let Some(hint) = &failure.hint {
            let _ = writeln!(stderr, "{} {}", styled(DIM, "hint:"), printable(hint));
        }
    }

    /// Whether progress bars may be drawn: standard error is a terminal, and neither `--json`
    /// nor `--quiet` was given.
    pub fn shows_progress(&self) -> bool {
        !self.json && !self.quiet && std::io::stderr().is_terminal()
    }
}

/// A warning on standard error that neither `--quiet` nor `--json` silences: for the settings
/// that put the token at risk.
pub fn alert(message: &str) {
    let _ = writeln!(
        anstream::stderr(),
        "{} {}",
        styled(WARN, "warning:"),
        printable(message)
    );
}

/// Text for people on its way to standard output: see [`Output::text_writer`]. What is left is
/// printed when it is dropped.
pub struct TextWriter<'a> {
    output: &'a Output,
    buffer: String,
}

/// How much a [`TextWriter`] holds before it prints.
const TEXT_CHUNK: usize = 1 << 16;

impl std::fmt::Write for TextWriter<'_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.buffer.push_str(text);
        // Whole lines only: a colour code never spans a line, so none is split.
        if self.buffer.len() >= TEXT_CHUNK
            && let Some(end) = self.buffer.rfind('\n')
        {
            self.output.text(&self.buffer[..=end]);
            self.buffer.drain(..=end);
        }
        Ok(())
    }
}

impl Drop for TextWriter<'_> {
    fn drop(&mut self) {
        if !self.buffer.is_empty() {
            self.output.text(&self.buffer);
        }
    }
}

/// Asks `question` on standard error (the caller checked that it is a terminal) and returns the
/// line typed on standard input.
pub fn ask(question: &str) -> String {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{}? [y/N] ", printable(question));
    let _ = stderr.flush();
    let mut answer = String::new();
    let _ = std::io::BufRead::read_line(&mut std::io::stdin().lock(), &mut answer);
    answer
}

/// `text` as it may reach a terminal: our colour codes (`ESC [ … m`), line breaks and tabs
/// pass; every other control character — from a package name, a tag or an error message a
/// server sent, which could move the cursor, retitle the window or hide a line — is shown as
/// `U+FFFD`. The one place text for people is made safe to print.
pub fn printable(text: &str) -> Cow<'_, str> {
    let safe = |c: char| !c.is_control() || c == '\n' || c == '\t';
    if text.chars().all(safe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(sequence) = colour_code(rest) {
            out.push_str(sequence);
            rest = &rest[sequence.len()..];
            continue;
        }
        out.push(if safe(c) {
            c
        } else {
            char::REPLACEMENT_CHARACTER
        });
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// The colour code (`ESC [`, digits and `;`, then `m`) that `text` starts with, if any.
fn colour_code(text: &str) -> Option<&str> {
    let parameters = text.strip_prefix("\u{1b}[")?;
    let length = parameters
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    (parameters.as_bytes().get(length) == Some(&b'm')).then(|| &text[..2 + length + 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_codes_line_breaks_and_tabs_pass_and_other_control_characters_do_not() {
        let ours = styled(DELETE, "deleted");
        assert_eq!(printable(&ours), ours);
        assert_eq!(printable("a\tb\nc"), "a\tb\nc");
        assert!(matches!(printable("plain text"), Cow::Borrowed(_)));
        // A tag that retitles the window, clears the screen, returns the carriage and rings.
        let hostile = "v1\u{1b}]0;pwned\u{7}\u{1b}[2J\rx\u{9b}31m";
        assert_eq!(
            printable(hostile),
            "v1\u{fffd}]0;pwned\u{fffd}\u{fffd}[2J\u{fffd}x\u{fffd}31m"
        );
    }
}
