//! The journal of an apply: one JSON line per outcome, appended and synced as each deletion (or
//! restore) happens, so that a run killed at any point loses at most its last line, and a rerun
//! resumes where it stopped. Also the atomic file write used for plans.
//!
//! A journal belongs to one plan (each line names the plan's SHA-256) and one target. Its first
//! line is a [`JournalHeader`]: the plan, the target and the API root the run talked to, so
//! that an undo goes where the run went. Before each DELETE is sent, an *intent* line
//! ([`Outcome::Intent`]) is written and synced; the outcome line follows once GitHub answered.
//! A version found gone later is this journal's deletion only if an intent line says its
//! DELETE was sent ([`JournalState::sent_delete`]); anything else gone was deleted by someone
//! else, and is never counted, journaled or restored as ours.
//!
//! Reading is strict — a line that is not a journal line, names another plan, or comes from a
//! future format is an error — except for the last line, which may be cut short by a crash and
//! is then dropped (and cut off the file before anything is appended). Journals of format 1
//! (no header, no intent lines) still load: see [`JournalState::sent_delete`] for what they
//! prove.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use ghpkg_retention::{Decision, Owner, ReasonCode, Target};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::apply::codes::SkipReason;
use crate::error::{ErrorKind, RefusalReason};

/// The journal format this version writes; it reads this one and every earlier one. Format 2
/// added the header and intent lines.
pub const JOURNAL_VERSION: u32 = 2;

/// The detail format 1 wrote on a planned version it found gone with no journal line and
/// counted as deleted. Such a line proves no DELETE of ours (someone else may have deleted the
/// version), so it is no evidence for [`JournalState::sent_delete`].
const FORMAT_1_FOUND_DELETED: &str = "found deleted since the plan was made, with no journal line";

/// The largest journal read (a line is about 300 bytes; a million deletions fit).
pub const MAX_JOURNAL_BYTES: u64 = 512 * 1024 * 1024;

/// What happened to one version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Deleted by this apply.
    Deleted,
    /// Already gone when its delete was sent (GitHub answered `404`; the package exists).
    AlreadyGone,
    /// GitHub refused (`400`): e.g. a public version with more than 5,000 downloads.
    Refused,
    /// The delete failed; the detail says why. A rerun tries it again.
    Failed,
    /// Not deleted, because it changed since the plan was made (or its parent was not
    /// deleted); the reason says how. A rerun looks at it again.
    Skipped,
    /// Restored from this journal.
    Restored,
    /// Its restore failed or was not possible; the detail says why.
    NotRestored,
    /// Its DELETE is about to be sent: written and synced before it is, so that a version found
    /// gone later is known to be this journal's deletion even when the answer was lost (a
    /// crash, Ctrl-C). The version's outcome line follows once GitHub answered. Not an outcome
    /// of a run: reports never count it.
    Intent,
}

impl Outcome {
    /// The stable name (`deleted`, `already-gone`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Deleted => "deleted",
            Outcome::AlreadyGone => "already-gone",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
            Outcome::Restored => "restored",
            Outcome::NotRestored => "not-restored",
            Outcome::Intent => "intent",
        }
    }

    /// Whether an apply has finished with the version (a rerun leaves it alone).
    pub fn is_final_for_apply(self) -> bool {
        matches!(
            self,
            Outcome::Deleted | Outcome::AlreadyGone | Outcome::Refused | Outcome::Restored
        )
    }
}

/// Why a version's outcome happened: the family of the reason, with its typed code.
///
/// A journal line carries the code alone (`delete:older-than`, `tags-changed`,
/// `last-tagged-version`, `rate-limited`, `outside-restore-window`): the families' codes never
/// overlap, so the code says which family it is. Two reasons are equal (and ordered) by their
/// codes.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum JournalReason {
    /// The plan's reason for deleting it (a `delete:` code): of a version deleted or found
    /// already gone, and of its restore.
    Plan(ReasonCode),
    /// Why the apply skipped the version.
    Skipped(SkipReason),
    /// Why GitHub refused to delete it. Read back from a journal, [`RefusalReason::Other`]
    /// carries GitHub's message from the line's detail.
    Refused(RefusalReason),
    /// The kind of the error that failed its delete or restore.
    Failed(ErrorKind),
    /// Its restore was not tried: it was deleted longer ago than GitHub restores
    /// ([`RESTORE_WINDOW`](crate::apply::RESTORE_WINDOW)).
    OutsideRestoreWindow,
}

impl JournalReason {
    /// The stable code a journal line carries.
    pub fn as_str(&self) -> &'static str {
        match self {
            JournalReason::Plan(code) => code.as_str(),
            JournalReason::Skipped(reason) => reason.as_str(),
            JournalReason::Refused(reason) => reason.as_str(),
            JournalReason::Failed(kind) => kind.as_str(),
            JournalReason::OutsideRestoreWindow => "outside-restore-window",
        }
    }

    /// The reason whose code is `code`, whichever family it belongs to (a refusal of
    /// [`RefusalReason::Other`] without GitHub's message).
    pub fn from_code(code: &str) -> Option<JournalReason> {
        if let Some(code) = ReasonCode::from_code(code).filter(is_deletion) {
            return Some(JournalReason::Plan(code));
        }
        if let Some(reason) = SkipReason::from_code(code) {
            return Some(JournalReason::Skipped(reason));
        }
        if let Some(reason) = refusal_from_code(code) {
            return Some(JournalReason::Refused(reason));
        }
        if let Some(&kind) = ErrorKind::ALL.iter().find(|kind| kind.as_str() == code) {
            return Some(JournalReason::Failed(kind));
        }
        (code == JournalReason::OutsideRestoreWindow.as_str())
            .then_some(JournalReason::OutsideRestoreWindow)
    }

    /// Every code a journal line may carry: the plan's deletion codes, the skip reasons,
    /// GitHub's refusals, the error kinds and `outside-restore-window`, in that order.
    pub fn all_codes() -> Vec<&'static str> {
        let plan = ReasonCode::ALL
            .iter()
            .copied()
            .filter(is_deletion)
            .map(|code| code.as_str());
        let skipped = SkipReason::ALL.iter().map(|reason| reason.as_str());
        let refused = every_refusal().map(|reason| reason.as_str());
        let failed = ErrorKind::ALL.iter().map(|kind| kind.as_str());
        plan.chain(skipped)
            .chain(refused)
            .chain(failed)
            .chain([JournalReason::OutsideRestoreWindow.as_str()])
            .collect()
    }
}

/// Whether `code` is a reason to delete (the only plan reasons a journal records).
fn is_deletion(code: &ReasonCode) -> bool {
    code.decision() == Decision::Delete
}

/// Every refusal, `Other` without a message.
fn every_refusal() -> [RefusalReason; 4] {
    // A refusal added to `RefusalReason` stops this from compiling until it is listed below.
    let _listed_below = |reason: &RefusalReason| match reason {
        RefusalReason::LastTaggedVersion
        | RefusalReason::LastVersion
        | RefusalReason::TooManyDownloads
        | RefusalReason::Other(_) => (),
    };
    [
        RefusalReason::LastTaggedVersion,
        RefusalReason::LastVersion,
        RefusalReason::TooManyDownloads,
        RefusalReason::Other(String::new()),
    ]
}

fn refusal_from_code(code: &str) -> Option<RefusalReason> {
    every_refusal()
        .into_iter()
        .find(|reason| reason.as_str() == code)
}

impl std::fmt::Display for JournalReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for JournalReason {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for JournalReason {}

impl PartialOrd for JournalReason {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for JournalReason {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for JournalReason {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Serialize for JournalReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for JournalReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        JournalReason::from_code(&code).ok_or_else(|| {
            serde::de::Error::custom(format_args!("unknown journal reason `{code}`"))
        })
    }
}

/// One line of the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalEntry {
    /// The journal format ([`JOURNAL_VERSION`]).
    pub journal: u32,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The SHA-256 of the plan being applied.
    pub plan: String,
    /// The GitHub host.
    pub host: String,
    /// Whose package.
    pub owner: Owner,
    /// The package type.
    pub package_type: String,
    /// The package name.
    pub package: String,
    /// The version id.
    pub version_id: u64,
    /// The version name (a digest for container images).
    pub name: String,
    /// The version's tags when the plan was made.
    pub tags: Vec<String>,
    /// What happened.
    pub outcome: Outcome,
    /// Why: the plan's reason code for a deletion or restore, or the skip reason, GitHub's
    /// refusal or the error kind.
    pub reason: JournalReason,
    /// More detail, when there is any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The first line of a journal: what it was written for and where the run talked to, so that
/// an undo (`restore_from_journal`) goes to the same API. Journals of format 1 have none; the
/// header line is the one with an `api_url`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalHeader {
    /// The journal format ([`JOURNAL_VERSION`]).
    pub journal: u32,
    /// When the journal was started.
    pub at: DateTime<Utc>,
    /// The SHA-256 of the plan being applied.
    pub plan: String,
    /// The GitHub host, as every line names it.
    pub host: String,
    /// The REST API root the run talked to (`https://api.github.com`,
    /// `https://HOST/api/v3`, `http://127.0.0.1:PORT`); never with credentials.
    pub api_url: String,
    /// Whose packages.
    pub owner: Owner,
    /// The package type.
    pub package_type: String,
}

/// A journal that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// Reading, writing or syncing failed.
    #[error("journal {path}: {source}")]
    Io {
        /// The journal file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// A line (not the last) is not a journal line.
    #[error(
        "journal {path}, line {line}: not a ghpkg journal line ({problem}); the file was edited \
         or is not a journal — use another file"
    )]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// A line comes from a newer ghpkg.
    #[error(
        "journal {path}, line {line}: written by a newer ghpkg (format {found}); upgrade ghpkg \
         to read it"
    )]
    FutureFormat {
        /// The journal file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// The format it names.
        found: u32,
    },
    /// A line names another plan or target than the one at hand.
    #[error(
        "journal {path}, line {line}: it records {found}, not {expected}; a journal belongs to \
         one plan — use a new journal file for this plan"
    )]
    Mismatch {
        /// The journal file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// What this plan expects.
        expected: String,
        /// What the line says.
        found: String,
    },
    /// The file is larger than [`MAX_JOURNAL_BYTES`].
    #[error("journal {path} is larger than {MAX_JOURNAL_BYTES} bytes; it is not a journal")]
    TooLarge {
        /// The journal file.
        path: PathBuf,
    },
}

/// What a journal says so far.
#[derive(Clone, Debug, Default)]
pub struct JournalState {
    /// The header line, if the journal has one (format 1 journals do not).
    pub header: Option<JournalHeader>,
    /// Every complete line after the header, in order, intent lines included.
    pub entries: Vec<JournalEntry>,
    /// The latest outcome of each version, by package and id.
    pub latest: BTreeMap<(String, u64), Outcome>,
    /// The versions whose DELETE this journal's runs sent (see [`JournalState::sent_delete`]).
    pub sent: BTreeSet<(String, u64)>,
    /// Whether the last line was cut short (by a crash) and dropped.
    pub dropped_partial_line: bool,
}

impl JournalState {
    /// The latest outcome recorded for version `id` of `package`.
    pub fn outcome(&self, package: &str, id: u64) -> Option<Outcome> {
        self.latest.get(&(package.to_string(), id)).copied()
    }

    /// Whether a run of this journal sent a DELETE for version `id` of `package`: an intent
    /// line says so. In a format 1 line (written before intent lines existed), a `deleted`
    /// line written after GitHub's answer or an `already-gone` line is the same evidence; a
    /// line format 1 wrote for a version it merely found gone is not. A version gone without
    /// this evidence was deleted by someone else.
    pub fn sent_delete(&self, package: &str, id: u64) -> bool {
        self.sent.contains(&(package.to_string(), id))
    }

    /// Whether a restore from this journal brings version `id` of `package` back: its latest
    /// outcome is `deleted`, and a run of this journal sent its DELETE.
    pub fn is_restorable(&self, package: &str, id: u64) -> bool {
        self.outcome(package, id) == Some(Outcome::Deleted) && self.sent_delete(package, id)
    }

    fn record(&mut self, entry: JournalEntry) {
        let key = (entry.package.clone(), entry.version_id);
        if proves_delete_sent(&entry) {
            self.sent.insert(key.clone());
        }
        self.latest.insert(key, entry.outcome);
        self.entries.push(entry);
    }
}

/// Whether `entry` shows that a DELETE of its version was sent (see
/// [`JournalState::sent_delete`]).
fn proves_delete_sent(entry: &JournalEntry) -> bool {
    match entry.outcome {
        Outcome::Intent => true,
        Outcome::Deleted if entry.journal == 1 => {
            entry.detail.as_deref() != Some(FORMAT_1_FOUND_DELETED)
        }
        Outcome::AlreadyGone => entry.journal == 1,
        _ => false,
    }
}

/// What every line of one journal must agree on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalScope {
    /// The plan's SHA-256; `None` accepts any plan (for restores).
    pub plan: Option<String>,
    /// The target.
    pub target: Target,
    /// The packages of the plan; lines naming another package are refused.
    pub packages: Vec<String>,
}

/// An open journal, appended to line by line.
#[derive(Debug)]
pub struct Journal {
    writer: JournalWriter,
    state: JournalState,
}

/// Writes lines to an open [`Journal`] from concurrent tasks: each line is written and synced on
/// a blocking thread, so that a sync (milliseconds on most disks) never stalls the deletions in
/// flight. Get one with [`Journal::writer`]; record what it wrote with [`Journal::note`].
#[derive(Clone, Debug)]
pub struct JournalWriter {
    path: Arc<Path>,
    /// Held while a line is written and synced, so lines never interleave.
    file: Arc<Mutex<File>>,
}

impl JournalWriter {
    /// Writes `entry` as one line and syncs it, on a blocking thread. The line is on disk when
    /// this returns; if the future is dropped first, the line is still written whole (or not at
    /// all, if the thread had not started).
    pub async fn write(&self, entry: &JournalEntry) -> Result<(), JournalError> {
        let line = self.line(entry)?;
        let writer = self.clone();
        match tokio::task::spawn_blocking(move || writer.write_line(&line)).await {
            Ok(written) => written,
            Err(join) => Err(self.io(std::io::Error::other(join))),
        }
    }

    /// Writes `entry` as one line and syncs it on this thread.
    pub fn write_blocking(&self, entry: &JournalEntry) -> Result<(), JournalError> {
        self.write_line(&self.line(entry)?)
    }

    fn line(&self, entry: &JournalEntry) -> Result<Vec<u8>, JournalError> {
        let mut line = serde_json::to_vec(entry).map_err(|error| self.io(error.into()))?;
        line.push(b'\n');
        Ok(line)
    }

    fn write_line(&self, line: &[u8]) -> Result<(), JournalError> {
        // A writer that panicked mid-line left at most a torn last line, which `open` cuts off.
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // One write of the whole line, then a sync: a crash leaves the line whole or torn at
        // the end of the file, where `open` cuts it off.
        file.write_all(line).map_err(|error| self.io(error))?;
        file.sync_data().map_err(|error| self.io(error))
    }

    fn io(&self, source: std::io::Error) -> JournalError {
        JournalError::Io {
            path: self.path.to_path_buf(),
            source,
        }
    }
}

impl Journal {
    /// Opens (or creates) the journal at `path`, reads it strictly against `scope`, and cuts off
    /// a last line that a crash left incomplete.
    pub fn open(path: &Path, scope: &JournalScope) -> Result<Journal, JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        if file.metadata().map_err(io)?.len() > MAX_JOURNAL_BYTES {
            return Err(JournalError::TooLarge {
                path: path.to_path_buf(),
            });
        }
        let mut text = Vec::new();
        file.read_to_end(&mut text).map_err(io)?;
        let (state, complete_len) = parse(path, &text, Some(scope))?;
        if complete_len < text.len() {
            // Appending after a torn line would glue the next line to it.
            file.set_len(complete_len as u64).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        file.seek(SeekFrom::End(0)).map_err(io)?;
        Ok(Journal {
            writer: JournalWriter {
                path: path.into(),
                file: Arc::new(Mutex::new(file)),
            },
            state,
        })
    }

    /// Reads the journal at `path` without opening it for writing, checking every line against
    /// `scope` when given.
    pub fn read(path: &Path, scope: Option<&JournalScope>) -> Result<JournalState, JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        if file.metadata().map_err(io)?.len() > MAX_JOURNAL_BYTES {
            return Err(JournalError::TooLarge {
                path: path.to_path_buf(),
            });
        }
        let mut text = Vec::new();
        file.take(MAX_JOURNAL_BYTES)
            .read_to_end(&mut text)
            .map_err(io)?;
        parse(path, &text, scope).map(|(state, _)| state)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.writer.path
    }

    /// What the journal says so far, including what this process appended.
    pub fn state(&self) -> &JournalState {
        &self.state
    }

    /// Appends `entry` as one line and syncs it to disk before returning.
    pub fn append(&mut self, entry: JournalEntry) -> Result<(), JournalError> {
        self.writer.write_blocking(&entry)?;
        self.note(entry);
        Ok(())
    }

    /// A writer for appending from concurrent tasks; pass each entry it wrote to [`note`].
    ///
    /// [`note`]: Journal::note
    pub fn writer(&self) -> JournalWriter {
        self.writer.clone()
    }

    /// Records in [`state`](Journal::state) an entry that a [`JournalWriter`] wrote.
    pub fn note(&mut self, entry: JournalEntry) {
        self.state.record(entry);
    }

    /// Writes `header` as the journal's first line, if the journal is new (it has no lines);
    /// a journal already started keeps what it has (a format 1 journal gets no header).
    pub fn write_header_if_new(&mut self, header: JournalHeader) -> Result<(), JournalError> {
        if self.state.header.is_some() || !self.state.entries.is_empty() {
            return Ok(());
        }
        let mut line = serde_json::to_vec(&header).map_err(|error| self.writer.io(error.into()))?;
        line.push(b'\n');
        self.writer.write_line(&line)?;
        self.state.header = Some(header);
        Ok(())
    }
}

/// Parses journal text: every complete line strictly, a last line without its newline leniently
/// (dropped if it does not parse). Returns the state and the length of the complete lines.
fn parse(
    path: &Path,
    text: &[u8],
    scope: Option<&JournalScope>,
) -> Result<(JournalState, usize), JournalError> {
    let mut state = JournalState::default();
    let mut offset = 0;
    let mut line_number = 0;
    while offset < text.len() {
        line_number += 1;
        let rest = &text[offset..];
        let (line, complete) = match rest.iter().position(|&b| b == b'\n') {
            Some(end) => (&rest[..end], true),
            None => (rest, false),
        };
        match (parse_line(path, line_number, line, scope), complete) {
            (Ok(Some(Line::Header(header))), true) => state.header = Some(*header),
            (Ok(Some(Line::Entry(entry))), true) => state.record(*entry),
            (Ok(None), true) => {}
            // The last line, without its newline: a crash cut it. Drop it.
            (Ok(_) | Err(JournalError::Corrupt { .. }), false) => {
                state.dropped_partial_line = true;
                return Ok((state, offset));
            }
            (Err(error), _) => return Err(error),
        }
        offset += line.len() + 1;
    }
    Ok((state, text.len()))
}

/// A parsed line.
enum Line {
    Header(Box<JournalHeader>),
    Entry(Box<JournalEntry>),
}

/// One line: `None` for a blank line.
fn parse_line(
    path: &Path,
    line_number: usize,
    line: &[u8],
    scope: Option<&JournalScope>,
) -> Result<Option<Line>, JournalError> {
    let corrupt = |problem: String| JournalError::Corrupt {
        path: path.to_path_buf(),
        line: line_number,
        problem,
    };
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|error| corrupt(error.to_string()))?;
    if let Some(found) = value.get("journal").and_then(serde_json::Value::as_u64)
        && found > u64::from(JOURNAL_VERSION)
    {
        return Err(JournalError::FutureFormat {
            path: path.to_path_buf(),
            line: line_number,
            found: u32::try_from(found).unwrap_or(u32::MAX),
        });
    }
    if value.get("api_url").is_some() {
        if line_number != 1 {
            return Err(corrupt("a header line after the first line".into()));
        }
        let header: JournalHeader =
            serde_json::from_value(value).map_err(|error| corrupt(error.to_string()))?;
        if let Some(scope) = scope {
            check_scope(path, line_number, scope, &header.plan, &target_of(&header))?;
        }
        return Ok(Some(Line::Header(Box::new(header))));
    }
    let mut entry: JournalEntry =
        serde_json::from_value(value).map_err(|error| corrupt(error.to_string()))?;
    if let (JournalReason::Refused(RefusalReason::Other(message)), Some(detail)) =
        (&mut entry.reason, &entry.detail)
    {
        // The line keeps GitHub's message as its detail.
        message.clone_from(detail);
    }
    if entry.version_id == 0 {
        return Err(corrupt("version id 0".into()));
    }
    if let Some(scope) = scope {
        let target = Target {
            host: entry.host.clone(),
            owner: entry.owner.clone(),
            package_type: entry.package_type.clone(),
        };
        check_scope(path, line_number, scope, &entry.plan, &target)?;
        if !scope.packages.contains(&entry.package) {
            return Err(JournalError::Mismatch {
                path: path.to_path_buf(),
                line: line_number,
                expected: format!("packages {}", scope.packages.join(", ")),
                found: format!("package {}", entry.package),
            });
        }
    }
    Ok(Some(Line::Entry(Box::new(entry))))
}

/// Refuses a line of another plan or target than `scope`'s.
fn check_scope(
    path: &Path,
    line_number: usize,
    scope: &JournalScope,
    plan: &str,
    target: &Target,
) -> Result<(), JournalError> {
    let mismatch = |expected: String, found: String| JournalError::Mismatch {
        path: path.to_path_buf(),
        line: line_number,
        expected,
        found,
    };
    if let Some(expected) = &scope.plan
        && expected != plan
    {
        return Err(mismatch(format!("plan {expected}"), format!("plan {plan}")));
    }
    if target != &scope.target {
        return Err(mismatch(scope.target.to_string(), target.to_string()));
    }
    Ok(())
}

fn target_of(header: &JournalHeader) -> Target {
    Target {
        host: header.host.clone(),
        owner: header.owner.clone(),
        package_type: header.package_type.clone(),
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, written, synced, then
/// renamed over `path` (and the directory synced), so that `path` is never half written.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically_with(path, |file| file.write_all(bytes))
}

/// [`write_atomically`], with the content written by `write` (buffered) instead of held whole:
/// a plan of 150,000 versions goes to disk as it is serialized.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    replace_file(path, write)
}

fn replace_file(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"))?;
    let temporary = directory.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::io::BufWriter::new(File::create(&temporary)?);
        write(&mut file)?;
        let file = file.into_inner().map_err(|error| error.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, path)?;
        if let Ok(directory) = File::open(&directory) {
            let _ = directory.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            host: "github.com".into(),
            owner: Owner::Org("acme".into()),
            package_type: "container".into(),
        }
    }

    fn scope() -> JournalScope {
        JournalScope {
            plan: Some("abc".into()),
            target: target(),
            packages: vec!["web/app".into()],
        }
    }

    fn entry(id: u64, outcome: Outcome) -> JournalEntry {
        JournalEntry {
            journal: JOURNAL_VERSION,
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            plan: "abc".into(),
            host: "github.com".into(),
            owner: Owner::Org("acme".into()),
            package_type: "container".into(),
            package: "web/app".into(),
            version_id: id,
            name: format!("sha256:{id:064x}"),
            tags: vec![],
            outcome,
            reason: JournalReason::Plan(ReasonCode::OlderThan),
            detail: None,
        }
    }

    #[test]
    fn appended_lines_are_read_back_and_the_latest_outcome_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut journal = Journal::open(&path, &scope()).unwrap();
        journal.append(entry(1, Outcome::Failed)).unwrap();
        journal.append(entry(1, Outcome::Deleted)).unwrap();
        journal.append(entry(2, Outcome::Skipped)).unwrap();
        drop(journal);
        let state = Journal::read(&path, Some(&scope())).unwrap();
        assert_eq!(state.entries.len(), 3);
        assert_eq!(state.outcome("web/app", 1), Some(Outcome::Deleted));
        assert_eq!(state.outcome("web/app", 2), Some(Outcome::Skipped));
    }

    #[test]
    fn a_line_cut_by_a_crash_is_dropped_and_cut_off_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let whole = serde_json::to_string(&entry(1, Outcome::Deleted)).unwrap();
        let torn = serde_json::to_string(&entry(2, Outcome::Deleted)).unwrap();
        std::fs::write(&path, format!("{whole}\n{}", &torn[..torn.len() / 2])).unwrap();
        let mut journal = Journal::open(&path, &scope()).unwrap();
        assert!(journal.state().dropped_partial_line);
        assert_eq!(journal.state().entries.len(), 1);
        journal.append(entry(3, Outcome::Deleted)).unwrap();
        drop(journal);
        let state = Journal::read(&path, Some(&scope())).unwrap();
        assert!(!state.dropped_partial_line, "the file is whole again");
        assert_eq!(
            state
                .entries
                .iter()
                .map(|e| e.version_id)
                .collect::<Vec<_>>(),
            [1, 3]
        );
    }

    #[test]
    fn a_corrupt_line_in_the_middle_is_an_error_not_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let whole = serde_json::to_string(&entry(1, Outcome::Deleted)).unwrap();
        std::fs::write(
            &path,
            format!("{whole}\n{{\"journal\":1,\"garbage\n{whole}\n"),
        )
        .unwrap();
        let error = Journal::read(&path, Some(&scope())).unwrap_err();
        assert!(
            matches!(error, JournalError::Corrupt { line: 2, .. }),
            "{error}"
        );
    }

    #[test]
    fn lines_of_another_plan_package_or_owner_and_future_formats_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut other_package = entry(1, Outcome::Deleted);
        other_package.package = "other/app".into();
        let mut other_owner = entry(1, Outcome::Deleted);
        other_owner.owner = Owner::Org("evil".into());
        let mut other_plan = entry(1, Outcome::Deleted);
        other_plan.plan = "def".into();
        for line in [other_package, other_owner, other_plan] {
            std::fs::write(&path, serde_json::to_string(&line).unwrap() + "\n").unwrap();
            let error = Journal::read(&path, Some(&scope())).unwrap_err();
            assert!(matches!(error, JournalError::Mismatch { .. }), "{error}");
        }
        let mut future = serde_json::to_value(entry(1, Outcome::Deleted)).unwrap();
        future["journal"] = 99.into();
        std::fs::write(&path, future.to_string() + "\n").unwrap();
        let error = Journal::read(&path, Some(&scope())).unwrap_err();
        assert!(
            matches!(error, JournalError::FutureFormat { found: 99, .. }),
            "{error}"
        );
    }

    /// Lines as ghpkg wrote them while the reason was a bare string: one per reason family.
    const LINES_OF_UNTYPED_REASONS: &str = concat!(
        r#"{"journal":1,"at":"2023-11-14T22:13:20Z","plan":"abc","host":"github.com","owner":{"org":"acme"},"package_type":"container","package":"web/app","version_id":1,"name":"sha256:1","tags":[],"outcome":"deleted","reason":"delete:older-than"}"#,
        "\n",
        r#"{"journal":1,"at":"2023-11-14T22:13:20Z","plan":"abc","host":"github.com","owner":{"org":"acme"},"package_type":"container","package":"web/app","version_id":2,"name":"sha256:2","tags":["v2"],"outcome":"skipped","reason":"tags-changed","detail":"tags were [v2] when planned, now [v2, v3]"}"#,
        "\n",
        r#"{"journal":1,"at":"2023-11-14T22:13:20Z","plan":"abc","host":"github.com","owner":{"org":"acme"},"package_type":"container","package":"web/app","version_id":3,"name":"sha256:3","tags":[],"outcome":"refused","reason":"last-tagged-version","detail":"You cannot delete the last tagged version of a package."}"#,
        "\n",
        r#"{"journal":1,"at":"2023-11-14T22:13:20Z","plan":"abc","host":"github.com","owner":{"org":"acme"},"package_type":"container","package":"web/app","version_id":4,"name":"sha256:4","tags":[],"outcome":"refused","reason":"other","detail":"Something GitHub said."}"#,
        "\n",
        r#"{"journal":1,"at":"2023-11-14T22:13:20Z","plan":"abc","host":"github.com","owner":{"org":"acme"},"package_type":"container","package":"web/app","version_id":5,"name":"sha256:5","tags":[],"outcome":"failed","reason":"rate-limited","detail":"rate limited"}"#,
        "\n",
        r#"{"journal":1,"at":"2023-11-14T22:13:20Z","plan":"abc","host":"github.com","owner":{"org":"acme"},"package_type":"container","package":"web/app","version_id":1,"name":"sha256:1","tags":[],"outcome":"not-restored","reason":"outside-restore-window","detail":"deleted on 2023-11-14; GitHub restores within 30 days"}"#,
        "\n",
        r#"{"journal":1,"at":"2023-11-14T22:13:20Z","plan":"abc","host":"github.com","owner":{"org":"acme"},"package_type":"container","package":"web/app","version_id":1,"name":"sha256:1","tags":[],"outcome":"restored","reason":"delete:older-than"}"#,
        "\n",
    );

    #[test]
    fn a_journal_written_with_untyped_reasons_loads_and_writes_back_the_same_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        std::fs::write(&path, LINES_OF_UNTYPED_REASONS).unwrap();
        let state = Journal::read(&path, Some(&scope())).unwrap();
        let reasons: Vec<&JournalReason> = state.entries.iter().map(|e| &e.reason).collect();
        assert_eq!(
            reasons,
            [
                &JournalReason::Plan(ReasonCode::OlderThan),
                &JournalReason::Skipped(SkipReason::TagsChanged),
                &JournalReason::Refused(RefusalReason::LastTaggedVersion),
                &JournalReason::Refused(RefusalReason::Other(String::new())),
                &JournalReason::Failed(ErrorKind::RateLimited),
                &JournalReason::OutsideRestoreWindow,
                &JournalReason::Plan(ReasonCode::OlderThan),
            ]
        );
        assert!(matches!(
            &state.entries[3].reason,
            JournalReason::Refused(RefusalReason::Other(message)) if message == "Something GitHub said."
        ));
        let written: String = state
            .entries
            .iter()
            .map(|entry| serde_json::to_string(entry).unwrap() + "\n")
            .collect();
        assert_eq!(written, LINES_OF_UNTYPED_REASONS);
    }

    #[test]
    fn every_reason_code_names_exactly_one_reason_and_round_trips() {
        let mut seen = std::collections::BTreeSet::new();
        for code in JournalReason::all_codes() {
            assert!(seen.insert(code), "{code} is in two reason families");
            let reason = JournalReason::from_code(code).expect(code);
            assert_eq!(reason.as_str(), code);
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(
                serde_json::from_str::<JournalReason>(&json).unwrap(),
                reason
            );
        }
    }

    #[test]
    fn a_plan_reason_to_keep_is_no_journal_reason() {
        assert!(JournalReason::from_code(ReasonCode::NewestN.as_str()).is_none());
        assert!(!JournalReason::all_codes().contains(&"keep:newest-n"));
    }

    #[test]
    fn a_line_with_an_unknown_reason_is_not_a_journal_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut line = serde_json::to_value(entry(1, Outcome::Deleted)).unwrap();
        line["reason"] = "because".into();
        std::fs::write(&path, line.to_string() + "\n").unwrap();
        let error = Journal::read(&path, Some(&scope())).unwrap_err();
        assert!(
            matches!(&error, JournalError::Corrupt { problem, .. } if problem.contains("unknown journal reason `because`")),
            "{error}"
        );
    }

    fn header() -> JournalHeader {
        JournalHeader {
            journal: JOURNAL_VERSION,
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            plan: "abc".into(),
            host: "github.com".into(),
            api_url: "https://api.github.com".into(),
            owner: Owner::Org("acme".into()),
            package_type: "container".into(),
        }
    }

    #[test]
    fn the_header_is_written_once_as_the_first_line_and_never_into_a_journal_already_begun() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut journal = Journal::open(&path, &scope()).unwrap();
        journal.write_header_if_new(header()).unwrap();
        journal.append(entry(1, Outcome::Deleted)).unwrap();
        journal.write_header_if_new(header()).unwrap();
        drop(journal);
        let state = Journal::read(&path, Some(&scope())).unwrap();
        assert_eq!(state.header, Some(header()));
        assert_eq!(state.entries.len(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("api_url").count(), 1, "{text}");

        // A journal of format 1 (lines, no header) gets none when a run resumes it.
        let old = dir.path().join("old.jsonl");
        let mut line = serde_json::to_value(entry(1, Outcome::Deleted)).unwrap();
        line["journal"] = 1.into();
        std::fs::write(&old, line.to_string() + "\n").unwrap();
        let mut journal = Journal::open(&old, &scope()).unwrap();
        journal.write_header_if_new(header()).unwrap();
        drop(journal);
        assert!(Journal::read(&old, None).unwrap().header.is_none());
    }

    #[test]
    fn a_header_after_the_first_line_or_of_another_plan_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let line = serde_json::to_string(&entry(1, Outcome::Deleted)).unwrap();
        let head = serde_json::to_string(&header()).unwrap();
        std::fs::write(&path, format!("{line}\n{head}\n")).unwrap();
        let error = Journal::read(&path, Some(&scope())).unwrap_err();
        assert!(
            matches!(error, JournalError::Corrupt { line: 2, .. }),
            "{error}"
        );
        let mut other_plan = header();
        other_plan.plan = "def".into();
        let head = serde_json::to_string(&other_plan).unwrap();
        std::fs::write(&path, format!("{head}\n{line}\n")).unwrap();
        let error = Journal::read(&path, Some(&scope())).unwrap_err();
        assert!(
            matches!(error, JournalError::Mismatch { line: 1, .. }),
            "{error}"
        );
    }

    #[test]
    fn only_an_intent_line_or_a_format_1_line_of_a_delete_sent_proves_the_delete_ours() {
        let mut state = JournalState::default();
        state.record(entry(1, Outcome::Intent));
        state.record(entry(1, Outcome::Deleted));
        // Written by this format without an intent line: found gone, or skipped.
        state.record(entry(2, Outcome::Deleted));
        state.record(entry(3, Outcome::AlreadyGone));
        let format_1 = |id: u64, outcome: Outcome, detail: Option<&str>| JournalEntry {
            journal: 1,
            detail: detail.map(String::from),
            ..entry(id, outcome)
        };
        state.record(format_1(4, Outcome::Deleted, None));
        state.record(format_1(5, Outcome::AlreadyGone, None));
        state.record(format_1(6, Outcome::Deleted, Some(FORMAT_1_FOUND_DELETED)));
        state.record(format_1(7, Outcome::Skipped, None));
        let sent: Vec<u64> = (1..=7)
            .filter(|&id| state.sent_delete("web/app", id))
            .collect();
        assert_eq!(sent, [1, 4, 5]);
        let restorable: Vec<u64> = (1..=7)
            .filter(|&id| state.is_restorable("web/app", id))
            .collect();
        assert_eq!(restorable, [1, 4]);
    }

    #[test]
    fn atomic_writes_replace_the_whole_file_and_leave_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
