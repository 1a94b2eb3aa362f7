//! The journal of an apply: one JSON line per outcome, appended and synced as each deletion (or
//! restore) happens, so that a run killed at any point loses at most its last line, and a rerun
//! resumes where it stopped. Also the atomic file write used for plans.
//!
//! A journal belongs to one plan (each line names the plan's SHA-256) and one target. Reading
//! it is strict — a line that is not a journal line, names another plan, or comes from a future
//! format is an error — except for the last line, which may be cut short by a crash and is then
//! dropped (and cut off the file before anything is appended).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use ghpkg_retention::{Decision, Owner, ReasonCode, Target};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::apply::codes::SkipReason;
use crate::error::{ErrorKind, RefusalReason};

/// The journal format this version writes and reads.
pub const JOURNAL_VERSION: u32 = 1;

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
    /// Every complete line, in order.
    pub entries: Vec<JournalEntry>,
    /// The latest outcome of each version, by package and id.
    pub latest: BTreeMap<(String, u64), Outcome>,
    /// Whether the last line was cut short (by a crash) and dropped.
    pub dropped_partial_line: bool,
}

impl JournalState {
    /// The latest outcome recorded for version `id` of `package`.
    pub fn outcome(&self, package: &str, id: u64) -> Option<Outcome> {
        self.latest.get(&(package.to_string(), id)).copied()
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
        self.state
            .latest
            .insert((entry.package.clone(), entry.version_id), entry.outcome);
        self.state.entries.push(entry);
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
            (Ok(entry), true) => {
                if let Some(entry) = entry {
                    state
                        .latest
                        .insert((entry.package.clone(), entry.version_id), entry.outcome);
                    state.entries.push(entry);
                }
            }
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

/// One line: `None` for a blank line.
fn parse_line(
    path: &Path,
    line_number: usize,
    line: &[u8],
    scope: Option<&JournalScope>,
) -> Result<Option<JournalEntry>, JournalError> {
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
        let mismatch = |expected: String, found: String| JournalError::Mismatch {
            path: path.to_path_buf(),
            line: line_number,
            expected,
            found,
        };
        if let Some(plan) = &scope.plan
            && &entry.plan != plan
        {
            return Err(mismatch(
                format!("plan {plan}"),
                format!("plan {}", entry.plan),
            ));
        }
        let target = &scope.target;
        if entry.host != target.host
            || entry.owner != target.owner
            || entry.package_type != target.package_type
        {
            return Err(mismatch(
                describe(&target.host, &target.owner, &target.package_type),
                describe(&entry.host, &entry.owner, &entry.package_type),
            ));
        }
        if !scope.packages.contains(&entry.package) {
            return Err(mismatch(
                format!("packages {}", scope.packages.join(", ")),
                format!("package {}", entry.package),
            ));
        }
    }
    Ok(Some(entry))
}

fn describe(host: &str, owner: &Owner, package_type: &str) -> String {
    Target {
        host: host.to_string(),
        owner: owner.clone(),
        package_type: package_type.to_string(),
    }
    .to_string()
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, written, synced, then
/// renamed over `path` (and the directory synced), so that `path` is never half written.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
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
