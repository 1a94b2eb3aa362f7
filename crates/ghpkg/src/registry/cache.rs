//! The manifest cache: manifests by digest on disk. A manifest by digest never changes, so a
//! cached one is never read from the registry again (each read counts as a download). What the
//! cache returns is checked against its digest; a damaged record is ignored and the manifest
//! read again and appended.
//!
//! **One file, appended**: `manifests-v1.pack` holds records, each a header line
//! `ghpkg-manifest sha256:<hex> <length> <media type>` and then the manifest's bytes and a
//! newline. A run scans the headers once (a sequential read that keeps only an index of
//! offsets), then reads each manifest it needs with one seek and one read. A file a manifest
//! (the layout before) cost an open and a directory lookup among 150,000 entries for each read,
//! and a 4 KiB block for a manifest of 700 bytes.
//!
//! The file is hostile like everything from disk: a header that does not parse is skipped to
//! the next line (so a record torn by a crash costs only itself), lengths are bounded before
//! anything is allocated, and a record is only believed when its bytes hash to its digest.
//! Processes that share the directory append whole records in one write each (`O_APPEND`), so
//! they never interleave; a record another process appends after the scan is not seen, only
//! read again.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use super::sha256_hex;

/// Manifests by digest under one directory, in one appended file, `manifests-v1.pack`.
#[derive(Clone)]
pub struct ManifestCache {
    directory: PathBuf,
    pack: Arc<Mutex<Option<Pack>>>,
}

impl std::fmt::Debug for ManifestCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManifestCache")
            .field("directory", &self.directory)
            .finish_non_exhaustive()
    }
}

/// The pack file's name in the cache directory.
const PACK_FILE: &str = "manifests-v1.pack";
/// What every record's header line starts with.
const RECORD_MAGIC: &str = "ghpkg-manifest sha256:";
/// The longest media type a cached manifest may have.
const MAX_MEDIA_TYPE: usize = 255;
/// The largest manifest the cache holds: the registry's own bound on a manifest's body.
const MAX_MANIFEST_BYTES: usize = 8 * 1024 * 1024;
/// The longest header line: the magic, the hex, a length and a media type.
const MAX_HEADER: usize = RECORD_MAGIC.len() + 64 + 1 + 10 + 1 + MAX_MEDIA_TYPE + 1;

/// The open pack: its file and where each manifest's bytes start.
struct Pack {
    /// Opened to read and append; `None` when it could not be opened (nothing is cached).
    file: Option<File>,
    index: HashMap<[u8; 32], Record>,
    /// Media types seen, each once; records refer to them by position.
    media_types: Vec<String>,
    /// Whether the directory holds manifests in the layout before (`sha256/<hex>`).
    legacy: bool,
}

/// Where one manifest lies in the pack.
#[derive(Clone, Copy)]
struct Record {
    offset: u64,
    len: u32,
    media_type: u16,
}

impl ManifestCache {
    /// A cache in `directory` (created when first written).
    pub fn new(directory: PathBuf) -> Self {
        Self {
            directory,
            pack: Arc::new(Mutex::new(None)),
        }
    }

    /// The directory.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    fn legacy_path(&self, hex: &str) -> PathBuf {
        self.directory.join("sha256").join(hex)
    }

    /// The pack, opened and scanned on first use.
    fn pack(&self) -> MutexGuard<'_, Option<Pack>> {
        let mut pack = self
            .pack
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if pack.is_none() {
            *pack = Some(Pack::open(&self.directory));
        }
        pack
    }

    /// The manifest with sha256 `hex` and its media type, if cached and intact.
    pub(crate) fn get(&self, hex: &str) -> Option<(Bytes, String)> {
        let key = key_of(hex)?;
        let legacy = {
            let mut guard = self.pack();
            let pack = guard.as_mut()?;
            if let Some(found) = pack.read(&key, hex) {
                return Some(found);
            }
            pack.legacy
        };
        // The layout before: read it, move it into the pack.
        let (bytes, media_type) = legacy.then(|| self.get_legacy(hex)).flatten()?;
        self.put(hex, &bytes, &media_type);
        let _ = std::fs::remove_file(self.legacy_path(hex));
        Some((bytes, media_type))
    }

    /// A manifest in the layout before: `sha256/<hex>` holding the media type, a newline and
    /// the bytes.
    fn get_legacy(&self, hex: &str) -> Option<(Bytes, String)> {
        let file = Bytes::from(std::fs::read(self.legacy_path(hex)).ok()?);
        let newline = file
            .iter()
            .take(MAX_MEDIA_TYPE + 1)
            .position(|&b| b == b'\n')?;
        let media_type = std::str::from_utf8(&file[..newline]).ok()?;
        let bytes = file.slice(newline + 1..);
        (valid_media_type(media_type) && sha256_hex(&bytes) == hex)
            .then(|| (bytes, media_type.to_string()))
    }

    /// Caches a manifest; a failure to write only means it is read again next time.
    pub(crate) fn put(&self, hex: &str, bytes: &[u8], media_type: &str) {
        let Some(key) = key_of(hex) else { return };
        if !valid_media_type(media_type) || bytes.len() > MAX_MANIFEST_BYTES {
            return;
        }
        let header = record_header(hex, bytes.len(), media_type);
        let mut record = Vec::with_capacity(header.len() + bytes.len() + 1);
        record.extend_from_slice(header.as_bytes());
        record.extend_from_slice(bytes);
        record.push(b'\n');
        let mut guard = self.pack();
        let Some(pack) = guard.as_mut() else { return };
        if pack.file.is_none() && std::fs::create_dir_all(&self.directory).is_ok() {
            pack.file = open_pack(&self.directory.join(PACK_FILE)).ok();
        }
        let Some(file) = &mut pack.file else { return };
        // One write, appended whole (`O_APPEND`); unsynced: a record a crash loses or tears
        // fails the checks of `get` and is read from the registry again.
        if file.write_all(&record).is_err() {
            return;
        }
        // Where it landed, unless another process appended meanwhile: then `read` finds other
        // bytes there, which fail the digest check, and the manifest is read again.
        if let Ok(end) = file.metadata().map(|m| m.len()) {
            let offset = end.saturating_sub((bytes.len() + 1) as u64);
            pack.remember(key, offset, bytes.len() as u32, media_type);
        }
    }
}

impl Pack {
    /// Opens and scans the pack in `directory`; a missing or unreadable pack is an empty one.
    fn open(directory: &Path) -> Self {
        let path = directory.join(PACK_FILE);
        let mut pack = Pack {
            file: open_pack(&path).ok(),
            index: HashMap::new(),
            media_types: Vec::new(),
            legacy: directory.join("sha256").is_dir(),
        };
        if let Some(file) = &pack.file
            && let Ok(file) = file.try_clone()
        {
            // A scan cut short by an error keeps what it indexed: the rest is read again.
            let _ = pack.scan(file);
        }
        pack
    }

    /// Indexes every record whose header parses, from the start of `file`.
    fn scan(&mut self, mut file: File) -> std::io::Result<()> {
        file.seek(SeekFrom::Start(0))?;
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        let mut offset = 0u64;
        let mut line = Vec::with_capacity(MAX_HEADER);
        loop {
            line.clear();
            let read = (&mut reader)
                .take(MAX_HEADER as u64)
                .read_until(b'\n', &mut line)?;
            if read == 0 {
                return Ok(());
            }
            offset += read as u64;
            // A header may follow the torn rest of a record on the same line.
            let Some((key, len, media_type)) = find_subslice(&line, RECORD_MAGIC.as_bytes())
                .and_then(|start| parse_header(&line[start..]))
            else {
                continue;
            };
            // The bytes must end in the record's newline: else the record was torn and what
            // follows its header is read as lines again, to find the next header.
            let span = i64::from(len) + 1;
            reader.seek_relative(i64::from(len))?;
            let mut end = [0u8];
            let read_end = reader.read(&mut end)?;
            if read_end == 0 || end[0] != b'\n' {
                // Back to just after the header.
                reader.seek_relative(-(i64::from(len) + read_end as i64))?;
                continue;
            }
            self.remember(key, offset, len, media_type);
            offset += span as u64;
        }
    }

    /// Indexes the record of `key` whose `len` bytes start at `offset`.
    fn remember(&mut self, key: [u8; 32], offset: u64, len: u32, media_type: &str) {
        let media_type = self.media_type_index(media_type);
        self.index.insert(
            key,
            Record {
                offset,
                len,
                media_type,
            },
        );
    }

    fn media_type_index(&mut self, media_type: &str) -> u16 {
        match self.media_types.iter().position(|m| m == media_type) {
            Some(found) => found as u16,
            None if self.media_types.len() < usize::from(u16::MAX) => {
                self.media_types.push(media_type.to_string());
                (self.media_types.len() - 1) as u16
            }
            // A pack of more than 65,535 media types is hostile: its records read as this one.
            None => u16::MAX,
        }
    }

    /// The record of `key`, if it is there and its bytes hash to `hex`.
    fn read(&mut self, key: &[u8; 32], hex: &str) -> Option<(Bytes, String)> {
        let record = *self.index.get(key)?;
        let media_type = self
            .media_types
            .get(usize::from(record.media_type))?
            .clone();
        let file = self.file.as_mut()?;
        file.seek(SeekFrom::Start(record.offset)).ok()?;
        let mut bytes = vec![0; record.len as usize + 1];
        file.read_exact(&mut bytes).ok()?;
        if bytes.pop() != Some(b'\n') || sha256_hex(&bytes) != hex {
            return None;
        }
        Some((Bytes::from(bytes), media_type))
    }
}

/// A record's header line: the magic, the digest's hex, the length and the media type.
fn record_header(hex: &str, len: usize, media_type: &str) -> String {
    format!("{RECORD_MAGIC}{hex} {len} {media_type}\n")
}

/// Where `needle` first starts in `haystack`.
fn find_subslice(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn open_pack(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
}

/// A header line's digest, length and media type, if it is a well-formed header.
fn parse_header(line: &[u8]) -> Option<([u8; 32], u32, &str)> {
    let line = std::str::from_utf8(line.strip_suffix(b"\n")?).ok()?;
    let rest = line.strip_prefix(RECORD_MAGIC)?;
    let (hex, rest) = rest.split_once(' ')?;
    let (len, media_type) = rest.split_once(' ')?;
    let len: u32 = len.parse().ok()?;
    (len as usize <= MAX_MANIFEST_BYTES && valid_media_type(media_type)).then_some((
        key_of(hex)?,
        len,
        media_type,
    ))
}

/// The 32 bytes a lower-case hex digest spells, if it spells them.
fn key_of(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let mut key = [0; 32];
    for (byte, pair) in key.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(key)
}

fn valid_media_type(media_type: &str) -> bool {
    !media_type.is_empty()
        && media_type.len() <= MAX_MEDIA_TYPE
        && media_type.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

    fn manifest(n: usize) -> (Vec<u8>, String) {
        let bytes = format!(r#"{{"schemaVersion":2,"n":{n}}}"#).into_bytes();
        let hex = sha256_hex(&bytes);
        (bytes, hex)
    }

    #[test]
    fn cached_manifests_come_back_in_this_run_and_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ManifestCache::new(dir.path().to_path_buf());
        let (bytes, hex) = manifest(1);
        assert!(cache.get(&hex).is_none());
        cache.put(&hex, &bytes, OCI_MANIFEST);
        let (got, media_type) = cache.get(&hex).unwrap();
        assert_eq!((&got[..], media_type.as_str()), (&bytes[..], OCI_MANIFEST));
        let next_run = ManifestCache::new(dir.path().to_path_buf());
        assert_eq!(&next_run.get(&hex).unwrap().0[..], &bytes[..]);
    }

    #[test]
    fn a_damaged_record_is_not_trusted_and_costs_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ManifestCache::new(dir.path().to_path_buf());
        let manifests: Vec<_> = (0..3).map(manifest).collect();
        for (bytes, hex) in &manifests {
            cache.put(hex, bytes, OCI_MANIFEST);
        }
        let path = dir.path().join(PACK_FILE);
        let mut pack = std::fs::read(&path).unwrap();
        // The first manifest's last byte of content.
        let first_end = pack.iter().position(|&b| b == b'}').unwrap();
        pack[first_end] ^= 1;
        std::fs::write(&path, &pack).unwrap();
        let next_run = ManifestCache::new(dir.path().to_path_buf());
        assert!(next_run.get(&manifests[0].1).is_none(), "damaged");
        assert!(next_run.get(&manifests[1].1).is_some(), "intact");
        // Read again and appended: the later record wins.
        next_run.put(&manifests[0].1, &manifests[0].0, OCI_MANIFEST);
        let again = ManifestCache::new(dir.path().to_path_buf());
        assert!(again.get(&manifests[0].1).is_some());
    }

    #[test]
    fn a_record_torn_by_a_crash_costs_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ManifestCache::new(dir.path().to_path_buf());
        let (first, first_hex) = manifest(1);
        cache.put(&first_hex, &first, OCI_MANIFEST);
        let path = dir.path().join(PACK_FILE);
        // A crash halfway through the second record's bytes.
        let (torn, torn_hex) = manifest(2);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        let header = record_header(&torn_hex, torn.len(), OCI_MANIFEST);
        file.write_all(header.as_bytes()).unwrap();
        file.write_all(&torn[..torn.len() / 2]).unwrap();
        drop(file);
        let next_run = ManifestCache::new(dir.path().to_path_buf());
        let (third, third_hex) = manifest(3);
        next_run.put(&third_hex, &third, OCI_MANIFEST);
        let after = ManifestCache::new(dir.path().to_path_buf());
        assert!(after.get(&first_hex).is_some());
        assert!(after.get(&torn_hex).is_none());
        assert!(
            after.get(&third_hex).is_some(),
            "found again after the torn bytes"
        );
    }

    #[test]
    fn caches_sharing_a_directory_append_without_losing_each_others_records() {
        let dir = tempfile::tempdir().unwrap();
        let manifests: Vec<_> = (0..200).map(manifest).collect();
        std::thread::scope(|scope| {
            for half in manifests.chunks(100) {
                let cache = ManifestCache::new(dir.path().to_path_buf());
                scope.spawn(move || {
                    for (bytes, hex) in half {
                        cache.put(hex, bytes, OCI_MANIFEST);
                    }
                });
            }
        });
        let next_run = ManifestCache::new(dir.path().to_path_buf());
        for (bytes, hex) in &manifests {
            assert_eq!(&next_run.get(hex).unwrap().0[..], &bytes[..]);
        }
    }

    #[test]
    fn a_cache_of_the_file_a_manifest_layout_moves_into_the_pack() {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, hex) = manifest(1);
        let old = dir.path().join("sha256").join(&hex);
        std::fs::create_dir_all(old.parent().unwrap()).unwrap();
        let mut file = format!("{OCI_MANIFEST}\n").into_bytes();
        file.extend_from_slice(&bytes);
        std::fs::write(&old, file).unwrap();
        let cache = ManifestCache::new(dir.path().to_path_buf());
        assert_eq!(cache.get(&hex).unwrap().1, OCI_MANIFEST);
        assert!(!old.exists(), "moved");
        let next_run = ManifestCache::new(dir.path().to_path_buf());
        assert_eq!(&next_run.get(&hex).unwrap().0[..], &bytes[..]);
        // A damaged old file is not trusted.
        let (other, other_hex) = manifest(2);
        let damaged = dir.path().join("sha256").join(&other_hex);
        std::fs::write(
            &damaged,
            [OCI_MANIFEST.as_bytes(), b"\n", &other[1..]].concat(),
        )
        .unwrap();
        assert!(next_run.get(&other_hex).is_none());
    }

    proptest::proptest! {
        #[test]
        fn a_hostile_pack_never_yields_what_its_digest_does_not_say(
            junk in proptest::collection::vec(proptest::num::u8::ANY, 0..600),
            lie in proptest::num::u32::ANY,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let (bytes, hex) = manifest(7);
            // A header that lies about the length, junk, then a true record.
            let mut pack = record_header(&hex, lie as usize, OCI_MANIFEST).into_bytes();
            pack.extend_from_slice(&junk);
            pack.push(b'\n');
            pack.extend_from_slice(record_header(&hex, bytes.len(), OCI_MANIFEST).as_bytes());
            pack.extend_from_slice(&bytes);
            pack.push(b'\n');
            std::fs::write(dir.path().join(PACK_FILE), &pack).unwrap();
            let cache = ManifestCache::new(dir.path().to_path_buf());
            if let Some((got, _)) = cache.get(&hex) {
                proptest::prop_assert_eq!(&got[..], &bytes[..]);
            }
        }
    }
}
