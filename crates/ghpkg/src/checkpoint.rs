//! Listing checkpoints: the pages of a version listing, saved on disk as they arrive, so that a
//! listing that fails late (a `500` at page 900 of 1,500, after the retries) resumes where it
//! stopped instead of starting over.
//!
//! One file per listing, keyed by the API root, the owner, the package type and name and the
//! page size: a header line, then one line per full page, in order. A resumed listing starts
//! again at the last saved page (the overlap): it must come back with the same versions, or
//! the checkpoint is dropped and the package is listed afresh. A checkpoint older than its
//! [`ListingCheckpoints::max_age`] (from the listing's first start), or one that does not read
//! back whole and in order, is ignored. A resumed listing is held to the same completeness check
//! as a fresh one (GitHub's `version_count`); the file is removed once a listing is complete.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ghpkg_retention::VersionFacts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The format of the files; another is ignored.
const FORMAT: u32 = 1;
/// The default [`ListingCheckpoints::max_age`].
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60 * 60);
/// A checkpoint file larger than this is not read (150,000 versions take about 30 MB).
const MAX_FILE_BYTES: u64 = 1 << 30;

/// Where version listings keep their checkpoints, and how old one may be to resume from. Give
/// it to [`PackageHandle::with_checkpoints`](crate::PackageHandle::with_checkpoints).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListingCheckpoints {
    directory: PathBuf,
    max_age: Duration,
}

impl ListingCheckpoints {
    /// Checkpoints in `directory` (created when first written), resumed within an hour.
    pub fn new(directory: impl Into<PathBuf>) -> Self {
        Self {
            directory: directory.into(),
            max_age: DEFAULT_MAX_AGE,
        }
    }

    /// Resume only from a listing that first started at most `max_age` ago.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// The directory.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    fn path(&self, key: &ListingKey) -> PathBuf {
        let digest = Sha256::digest(key.describe().as_bytes());
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        self.directory.join(format!("{hex}.jsonl"))
    }

    /// The saved pages of `key`'s listing, when there are any worth resuming from.
    pub(crate) fn load(&self, key: &ListingKey, now: DateTime<Utc>) -> Option<Saved> {
        let path = self.path(key);
        let file = File::open(&path).ok()?;
        if file.metadata().ok()?.len() > MAX_FILE_BYTES {
            return None;
        }
        let mut lines = BufReader::new(file).lines();
        let header: Header = serde_json::from_str(&lines.next()?.ok()?).ok()?;
        let age = now.signed_duration_since(header.started_at).to_std().ok()?;
        if header.format != FORMAT || header.key != *key || age > self.max_age {
            return None;
        }
        let mut pages = Vec::new();
        for line in lines {
            // A torn last line (the process died writing it) ends the pages read.
            let Ok(line) = line else { break };
            let Ok(page) = serde_json::from_str::<SavedPage>(&line) else {
                break;
            };
            if page.page as usize != pages.len() + 1
                || page.versions.len() != key.per_page as usize
                || page.versions.iter().any(|version| version.id == 0)
            {
                return None;
            }
            pages.push(page.versions);
        }
        // Resuming from the second page or later gains something.
        (pages.len() >= 2).then_some(Saved {
            started_at: header.started_at,
            pages,
        })
    }

    /// Starts writing `key`'s checkpoint: a new one, or (`resumed`) the pages kept from the
    /// saved one. A checkpoint that cannot be written only means no resume.
    pub(crate) fn writer(
        &self,
        key: &ListingKey,
        started_at: DateTime<Utc>,
        kept: &[Vec<VersionFacts>],
    ) -> Writer {
        let path = self.path(key);
        let file = (|| {
            std::fs::create_dir_all(&self.directory)?;
            let temporary = path.with_extension(format!("{}.tmp", std::process::id()));
            let mut file = BufWriter::new(File::create(&temporary)?);
            let header = Header {
                format: FORMAT,
                key: key.clone(),
                started_at,
            };
            serde_json::to_writer(&mut file, &header)?;
            file.write_all(b"\n")?;
            for (index, versions) in kept.iter().enumerate() {
                write_page(&mut file, index as u32 + 1, versions)?;
            }
            file.flush()?;
            std::fs::rename(&temporary, &path)?;
            std::io::Result::Ok(file)
        })()
        .ok();
        Writer {
            path,
            file,
            pages: kept.len() as u32,
        }
    }
}

/// What identifies one listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ListingKey {
    /// The API root.
    pub api: String,
    /// The owner, as `Owner`'s `Display` gives it.
    pub owner: String,
    /// The package type.
    pub package_type: String,
    /// The package name.
    pub package: String,
    /// Versions per page.
    pub per_page: u32,
}

impl ListingKey {
    fn describe(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    key: ListingKey,
    started_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct SavedPage {
    page: u32,
    versions: Vec<VersionFacts>,
}

fn write_page(file: &mut impl Write, page: u32, versions: &[VersionFacts]) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct PageRef<'a> {
        page: u32,
        versions: &'a [VersionFacts],
    }
    serde_json::to_writer(&mut *file, &PageRef { page, versions })?;
    file.write_all(b"\n")
}

/// The pages a checkpoint saved, from page 1, each full.
#[derive(Debug)]
pub(crate) struct Saved {
    /// When the listing first started.
    pub started_at: DateTime<Utc>,
    /// The pages, in order.
    pub pages: Vec<Vec<VersionFacts>>,
}

/// Appends a listing's pages to its checkpoint as they arrive.
#[derive(Debug)]
pub(crate) struct Writer {
    path: PathBuf,
    file: Option<BufWriter<File>>,
    pages: u32,
}

impl Writer {
    /// Saves the next page (a full one); a failure to write stops the checkpoint, not the
    /// listing.
    pub fn page(&mut self, versions: &[VersionFacts]) {
        let Some(file) = &mut self.file else { return };
        let written = write_page(file, self.pages + 1, versions).and_then(|()| file.flush());
        match written {
            Ok(()) => self.pages += 1,
            Err(_) => self.file = None,
        }
    }

    /// The listing is over (complete, or to be started afresh): the checkpoint goes.
    pub fn remove(mut self) {
        self.file = None;
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ListingKey {
        ListingKey {
            api: "http://127.0.0.1:1".into(),
            owner: "organization acme".into(),
            package_type: "npm".into(),
            package: "pkg".into(),
            per_page: 2,
        }
    }

    fn version(id: u64) -> VersionFacts {
        VersionFacts {
            id,
            name: format!("1.0.{id}"),
            tags: Vec::new(),
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn pages_come_back_in_order_within_the_age_and_only_for_their_listing() {
        let dir = tempfile::tempdir().unwrap();
        let checkpoints = ListingCheckpoints::new(dir.path()).max_age(Duration::from_secs(60));
        let now = Utc::now();
        let mut writer = checkpoints.writer(&key(), now, &[]);
        for page in 0..3 {
            writer.page(&[version(page * 2 + 1), version(page * 2 + 2)]);
        }
        drop(writer);
        let saved = checkpoints.load(&key(), now).expect("saved");
        assert_eq!(saved.pages.len(), 3);
        assert_eq!(saved.pages[2][1].id, 6);
        // Another listing, an old checkpoint: nothing.
        let other = ListingKey {
            package: "other".into(),
            ..key()
        };
        assert!(checkpoints.load(&other, now).is_none());
        assert!(
            checkpoints
                .load(&key(), now + chrono::Duration::seconds(61))
                .is_none()
        );
        // A torn last line ends the pages; a page out of order drops the checkpoint.
        let path = checkpoints.path(&key());
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{text}{{\"page\":4,\"vers")).unwrap();
        assert_eq!(checkpoints.load(&key(), now).unwrap().pages.len(), 3);
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(&path, [lines[0], lines[2], lines[1]].join("\n")).unwrap();
        assert!(checkpoints.load(&key(), now).is_none());
    }

    #[test]
    fn one_page_is_not_worth_resuming_and_a_removed_checkpoint_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let checkpoints = ListingCheckpoints::new(dir.path());
        let now = Utc::now();
        let mut writer = checkpoints.writer(&key(), now, &[]);
        writer.page(&[version(1), version(2)]);
        assert!(checkpoints.load(&key(), now).is_none());
        writer.page(&[version(3), version(4)]);
        assert!(checkpoints.load(&key(), now).is_some());
        writer.remove();
        assert!(!checkpoints.path(&key()).exists());
    }
}
