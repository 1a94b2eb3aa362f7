//! Version names parsed and ordered the way each GitHub Packages ecosystem orders them, for
//! `prerelease_only`, `keep_per_major`, `keep_per_minor` and ordering by version.
//!
//! Every parser is bounded: a name longer than [`LONGEST_NAME`] bytes, or with a number that
//! does not fit in a `u64`, is not a version. No input panics.
//!
//! Each ordering is total by construction: a version becomes a sequence of items of a totally
//! ordered type, and two sequences compare item by item, the shorter one padded with the
//! ecosystem's neutral item (the `0` or the empty qualifier that the ecosystem itself pads with).
//! Where an ecosystem's own comparison is not a total order (Maven's is not), the deviation is
//! named at [`Ecosystem::Maven`].

use std::cmp::Ordering;

/// Names longer than this many bytes are not parsed as versions.
const LONGEST_NAME: usize = 256;

/// Which ordering a package type's version names follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Ecosystem {
    /// Semantic Versioning 2.0.0, as the `semver` crate parses it (npm, and container tags).
    ///
    /// Strict `MAJOR.MINOR.PATCH[-PRE][+BUILD]`; one leading `v` or `V` is accepted for every
    /// use (tags are often `v1.2.3`; npm itself cleans `v1.2.3` to `1.2.3`). Build metadata
    /// does not take part in the ordering (SemVer 2.0.0 §10). Pre-release: a non-empty `PRE`.
    /// Not versions: `1.2`, `01.2.3`, `latest`, `sha256:…`.
    Semver,
    /// Maven's `ComparableVersion` (org.apache.maven.artifact.versioning), in a total-order
    /// subset.
    ///
    /// Covered: items split on `.`, `-` and digit/letter transitions; numbers compare as
    /// numbers; qualifiers (case-insensitive) rank `alpha` < `beta` < `milestone` < `rc` = `cr`
    /// < `snapshot` < release (`""` = `ga` = `final` = `release`) < `sp` < any other
    /// (lexically); `a1`/`b1`/`m1` mean alpha/beta/milestone when a digit follows the letter
    /// directly; a number after `-` or after a letter starts a sub-list and ranks below a
    /// number after `.` (`1-1` < `1.1`) and above any qualifier; trailing zeros and release
    /// qualifiers are trimmed (`1.0.0` == `1` == `1-ga`, `1.0-alpha` == `1-alpha`).
    ///
    /// Deviations (the first two keep the order total, the others bound the input or follow
    /// Maven 4):
    /// - a qualifier after `.` counts as after `-` (Maven 4 does this for a last qualifier,
    ///   MNG-7644: `2.0.x` == `2-x`); Maven 3 ranks `1.sp` below `1-alpha`, while `1-alpha`
    ///   < `1` < `1.sp`, which is not transitive;
    /// - a sub-list that opens right after `-` (`1--1`, `1-0-1`) is not nested twice:
    ///   `1-0-1` == `1-1` here, while Maven ranks it lower;
    /// - Maven 4's combination items are not modelled (`rc1` is `rc` then `1`, as in Maven 3),
    ///   but a release qualifier inside a version is kept as Maven 4 keeps it (MNG-7714:
    ///   `1.0.final-redhat` < `1.0-sp1-redhat`);
    /// - only ASCII digits are numbers (as in Maven 4), numbers above `u64::MAX` are rejected
    ///   (Maven uses `BigInteger`), other qualifiers compare by code point after Unicode
    ///   lower-casing (Java compares UTF-16 units);
    /// - the name must start with an ASCII digit (Maven accepts any string).
    ///
    /// Pre-release: any qualifier that ranks below release. `major`/`minor`: the first number
    /// and the number after the first `.` (0 when absent).
    Maven,
    /// NuGet's `NuGetVersion` (NuGet.Versioning).
    ///
    /// Covered: 1 to 4 numeric parts, missing ones 0 (`1.0` == `1.0.0.0`; leading zeros allowed,
    /// `1.01` == `1.1`); release labels after `-`, dot-separated `[0-9A-Za-z-]+`, numeric ones
    /// without leading zeros, compared numerically and before text labels, text labels
    /// case-insensitively (`1.0.0-ALPHA` == `1.0.0-alpha`), fewer labels first; a version
    /// without labels after any with; build metadata after `+` validated and ignored.
    ///
    /// Not covered: NuGet's loose forms (surrounding spaces, `1.`, `1..2`), numeric labels
    /// beyond `i32` (NuGet compares them as text; here they are numbers up to `u64::MAX` and
    /// rejected beyond), labels such as `-1` that NuGet reads as negative numbers (text here).
    /// Pre-release: has labels.
    NuGet,
    /// RubyGems' `Gem::Version` (lib/rubygems/version.rb, RubyGems 3.5 and later).
    ///
    /// Covered: the name must match `^[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`;
    /// `-` reads as `.pre.`; segments split on `.` and digit/letter transitions; canonical
    /// segments drop trailing zero segments and, in a prerelease, the first run of zero
    /// segments that starts a `.`-part and ends right before a letter segment (`1.0.a` ==
    /// `1.a`); segment-wise comparison, padded with 0: numbers numerically, strings by byte,
    /// a string before a number (`1.0.a` < `1.0`). RubyGems before 3.5 dropped only the zeros
    /// before the first letter, so it orders `1.a.0b` above `1.a.b` where 3.5 finds them equal.
    ///
    /// Not covered: surrounding whitespace and the empty name (RubyGems reads it as `0`), and
    /// numbers above `u64::MAX` (RubyGems uses big integers); those are rejected.
    /// Pre-release: the name contains a letter (or a `-`, which reads as `.pre.`).
    RubyGems,
}

impl Ecosystem {
    /// From GitHub's package type string: `npm` → Semver, `maven` → Maven, `nuget` → NuGet,
    /// `rubygems` → RubyGems, `container`/`docker` → Semver (applied to tags). Case-insensitive.
    /// Unknown → None.
    pub(crate) fn of(package_type: &str) -> Option<Ecosystem> {
        const TYPES: [(&str, Ecosystem); 6] = [
            ("npm", Ecosystem::Semver),
            ("container", Ecosystem::Semver),
            ("docker", Ecosystem::Semver),
            ("maven", Ecosystem::Maven),
            ("nuget", Ecosystem::NuGet),
            ("rubygems", Ecosystem::RubyGems),
        ];
        TYPES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(package_type))
            .map(|&(_, ecosystem)| ecosystem)
    }

    /// The ecosystem's name as users know it in messages: `semver`, `Maven`, `NuGet`, `RubyGems`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Ecosystem::Semver => "semver",
            Ecosystem::Maven => "Maven",
            Ecosystem::NuGet => "NuGet",
            Ecosystem::RubyGems => "RubyGems",
        }
    }

    /// Parses `name`; None when it is not a version of this ecosystem.
    pub(crate) fn parse(self, name: &str) -> Option<EcosystemVersion> {
        if name.len() > LONGEST_NAME {
            return None;
        }
        match self {
            Ecosystem::Semver => parse_semver(name),
            Ecosystem::Maven => parse_maven(name),
            Ecosystem::NuGet => parse_nuget(name),
            Ecosystem::RubyGems => parse_rubygems(name),
        }
    }
}

/// A parsed version: totally ordered (`Ord`) by the ecosystem's own precedence rules.
///
/// `==` is `cmp() == Equal`, so `1.0` and `1` are equal where the ecosystem says so. Versions
/// of different ecosystems are never equal; they order Semver < Maven < NuGet < RubyGems, an
/// arbitrary order that only keeps `Ord` total.
#[derive(Clone, Debug)]
pub(crate) struct EcosystemVersion {
    /// The first number.
    major: u64,
    /// The second number, 0 when absent.
    minor: u64,
    /// Whether the ecosystem calls this a pre-release.
    prerelease: bool,
    /// What the ordering compares.
    key: Key,
}

impl EcosystemVersion {
    /// The major version: the first number.
    pub(crate) fn major(&self) -> u64 {
        self.major
    }

    /// The minor version: the second number, 0 when absent.
    pub(crate) fn minor(&self) -> u64 {
        self.minor
    }

    /// Whether the ecosystem calls this version a pre-release.
    pub(crate) fn is_prerelease(&self) -> bool {
        self.prerelease
    }
}

impl PartialEq for EcosystemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for EcosystemVersion {}

impl PartialOrd for EcosystemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for EcosystemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// What one ecosystem's ordering compares.
#[derive(Clone, Debug)]
enum Key {
    /// MAJOR.MINOR.PATCH and the pre-release; build metadata is left out.
    Semver {
        /// MAJOR, MINOR, PATCH.
        core: [u64; 3],
        /// Empty for a release; the `semver` crate orders it per SemVer 2.0.0 §11.
        pre: semver::Prerelease,
    },
    /// Maven items after trimming.
    Maven(Vec<MavenItem>),
    /// NuGet's four numbers and its release labels (empty for a release).
    NuGet {
        /// Major, minor, patch, revision.
        numbers: [u64; 4],
        /// The release labels; empty for a release.
        labels: Vec<NuGetLabel>,
    },
    /// RubyGems' canonical segments.
    RubyGems(Vec<GemSegment>),
}

impl Key {
    /// The order of the ecosystems among themselves.
    fn rank(&self) -> u8 {
        match self {
            Key::Semver { .. } => 0,
            Key::Maven(_) => 1,
            Key::NuGet { .. } => 2,
            Key::RubyGems(_) => 3,
        }
    }

    /// Compares two keys; see [`EcosystemVersion`].
    fn cmp(&self, other: &Key) -> Ordering {
        match (self, other) {
            (Key::Semver { core: a, pre: pa }, Key::Semver { core: b, pre: pb }) => {
                // SemVer 2.0.0 §11: numbers, then pre-release; §10: build metadata ignored.
                a.cmp(b).then_with(|| pa.cmp(pb))
            }
            (Key::Maven(a), Key::Maven(b)) => cmp_padded(a, b, &MAVEN_PAD),
            (
                Key::NuGet {
                    numbers: a,
                    labels: la,
                },
                Key::NuGet {
                    numbers: b,
                    labels: lb,
                },
            ) => a.cmp(b).then_with(|| cmp_nuget_labels(la, lb)),
            (Key::RubyGems(a), Key::RubyGems(b)) => cmp_padded(a, b, &GemSegment::Number(0)),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// Compares two sequences item by item, the shorter padded with `pad`.
fn cmp_padded<T: Ord>(a: &[T], b: &[T], pad: &T) -> Ordering {
    let len = a.len().max(b.len());
    (0..len)
        .map(|i| a.get(i).unwrap_or(pad).cmp(b.get(i).unwrap_or(pad)))
        .find(|ordering| ordering.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// Whether `text` is a non-empty run of ASCII digits.
fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A non-empty run of ASCII digits as a number; None when it is not one or overflows.
fn parse_number(text: &str) -> Option<u64> {
    if is_digits(text) {
        text.parse().ok()
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Semver: https://semver.org/spec/v2.0.0.html, through the `semver` crate's `Version::parse`.

/// Parses a SemVer 2.0.0 version, with one optional leading `v` or `V`.
fn parse_semver(name: &str) -> Option<EcosystemVersion> {
    let bare = name.strip_prefix(['v', 'V']).unwrap_or(name);
    let version = semver::Version::parse(bare).ok()?;
    Some(EcosystemVersion {
        major: version.major,
        minor: version.minor,
        prerelease: !version.pre.is_empty(),
        key: Key::Semver {
            core: [version.major, version.minor, version.patch],
            pre: version.pre,
        },
    })
}

// ---------------------------------------------------------------------------------------------
// Maven: org.apache.maven.artifact.versioning.ComparableVersion (maven-artifact, Maven 3.9 and
// compat/maven-artifact in Maven 4), and its ComparableVersionTest.
//
// Maven parses a version into nested lists: `-` and a digit/letter transition open a sub-list,
// `.` adds to the current one. Since a sub-list is always the last element of its parent, the
// nesting flattens into one sequence where each number remembers whether it opened a sub-list.
// Maven compares an item with a missing one by the item's own rule (0 and release are equal to
// nothing, other qualifiers below or above it); here "nothing" is the release qualifier, which
// makes the comparison lexicographic over one totally ordered item type: qualifiers (by rank,
// release among them) < sub-list numbers < numbers. Zeros that Maven would compare as "equal to
// nothing" are kept only where a positive number follows them in the same list, where both
// rules give the same answer; elsewhere they are trimmed, as Maven's normalize() trims them.

/// How a Maven qualifier ranks; the declaration order is the ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum QualifierRank {
    /// `alpha`, or `a` right before a digit.
    Alpha,
    /// `beta`, or `b` right before a digit.
    Beta,
    /// `milestone`, or `m` right before a digit.
    Milestone,
    /// `rc` or `cr`.
    Rc,
    /// `snapshot`.
    Snapshot,
    /// No qualifier: `ga`, `final`, `release`, or nothing at all.
    Release,
    /// `sp`.
    Sp,
    /// Any other qualifier, ordered lexically after all of the above.
    Other,
}

/// One Maven item; the declaration order is the order between kinds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum MavenItem {
    /// A qualifier, with its text only when its rank is [`QualifierRank::Other`].
    Qualifier(QualifierRank, String),
    /// A number that opens a sub-list: after `-` or after a letter.
    ListNumber(u64),
    /// A number after `.`, or the first one.
    Number(u64),
}

/// What a missing Maven item compares as.
const MAVEN_PAD: MavenItem = MavenItem::Qualifier(QualifierRank::Release, String::new());

/// Which separator came before a Maven token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MavenSeparator {
    /// `.`, or the start of the version.
    Dot,
    /// `-`, or a transition between digits and letters.
    List,
}

/// Parses a Maven version that starts with an ASCII digit.
fn parse_maven(name: &str) -> Option<EcosystemVersion> {
    if !name.as_bytes().first()?.is_ascii_digit() {
        return None;
    }
    // ComparableVersion.parseVersion lower-cases with Locale.ENGLISH first.
    let lower = name.to_lowercase();
    let mut items = Vec::new();
    let mut separator = MavenSeparator::Dot;
    let mut start = 0;
    let mut in_digits = false;
    for (i, c) in lower.char_indices() {
        if c == '.' || c == '-' {
            // An empty item between separators is a 0 (IntItem.ZERO).
            let token = lower.get(start..i)?;
            items.push(maven_item(separator, token, in_digits, false)?);
            separator = if c == '.' {
                MavenSeparator::Dot
            } else {
                MavenSeparator::List
            };
            start = i + 1;
        } else {
            let digit = c.is_ascii_digit();
            if i > start && digit != in_digits {
                // A transition ends the item and opens a sub-list, like `-`.
                let token = lower.get(start..i)?;
                items.push(maven_item(separator, token, in_digits, digit)?);
                separator = MavenSeparator::List;
                start = i;
            }
            in_digits = digit;
        }
    }
    if start < lower.len() {
        let token = lower.get(start..)?;
        items.push(maven_item(separator, token, in_digits, false)?);
    }

    let major = match items.first() {
        Some(MavenItem::Number(n)) => *n,
        _ => 0,
    };
    let minor = match items.get(1) {
        Some(MavenItem::Number(n)) => *n,
        _ => 0,
    };
    let items = trim_maven(items);
    let prerelease = items.iter().any(
        |item| matches!(item, MavenItem::Qualifier(rank, _) if *rank < QualifierRank::Release),
    );
    Some(EcosystemVersion {
        major,
        minor,
        prerelease,
        key: Key::Maven(items),
    })
}

/// One Maven token as an item; None when a number overflows.
fn maven_item(
    separator: MavenSeparator,
    token: &str,
    digits: bool,
    followed_by_digit: bool,
) -> Option<MavenItem> {
    if token.is_empty() || digits {
        let n = if token.is_empty() {
            0
        } else {
            parse_number(token)?
        };
        return Some(match separator {
            MavenSeparator::Dot => MavenItem::Number(n),
            MavenSeparator::List => MavenItem::ListNumber(n),
        });
    }
    // StringItem: a1/b1/m1 short forms, then the aliases and QUALIFIERS ranking.
    let token = match (followed_by_digit, token) {
        (true, "a") => "alpha",
        (true, "b") => "beta",
        (true, "m") => "milestone",
        _ => token,
    };
    let rank = match token {
        "alpha" => QualifierRank::Alpha,
        "beta" => QualifierRank::Beta,
        "milestone" => QualifierRank::Milestone,
        "rc" | "cr" => QualifierRank::Rc,
        "snapshot" => QualifierRank::Snapshot,
        "ga" | "final" | "release" => QualifierRank::Release,
        "sp" => QualifierRank::Sp,
        _ => QualifierRank::Other,
    };
    let text = if rank == QualifierRank::Other {
        token.to_owned()
    } else {
        String::new()
    };
    Some(MavenItem::Qualifier(rank, text))
}

/// Drops the zeros that Maven's normalize() drops (every zero not followed, in its own list,
/// by a positive number) and the trailing items that compare as nothing.
fn trim_maven(items: Vec<MavenItem>) -> Vec<MavenItem> {
    let mut kept = Vec::with_capacity(items.len());
    // Whether a zero right before the item just visited (walking backwards) stays.
    let mut zero_stays = false;
    for item in items.into_iter().rev() {
        let stays = match item {
            MavenItem::Number(0) | MavenItem::ListNumber(0) => zero_stays,
            _ => true,
        };
        zero_stays = match item {
            MavenItem::Number(0) => stays,
            MavenItem::Number(_) => true,
            _ => false,
        };
        if stays {
            kept.push(item);
        }
    }
    kept.reverse();
    while kept.last() == Some(&MAVEN_PAD) {
        kept.pop();
    }
    kept
}

// ---------------------------------------------------------------------------------------------
// NuGet: NuGet.Versioning's NuGetVersion.TryParse (NuGetVersionFactory.cs, SemanticVersionFactory
// .cs) and VersionComparer.Compare (VersionComparer.cs), and VersionComparerTests.

/// One NuGet release label; the declaration order puts numeric labels first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum NuGetLabel {
    /// All digits: compared as a number.
    Numeric(u64),
    /// Anything else, upper-cased: compared as StringComparer.OrdinalIgnoreCase does.
    Text(String),
}

/// Compares release labels: a release (no labels) after any pre-release, then label by label,
/// fewer labels first when all shared ones are equal.
fn cmp_nuget_labels(a: &[NuGetLabel], b: &[NuGetLabel]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.cmp(b),
    }
}

/// Whether `part` is a valid NuGet label or metadata part: `[0-9A-Za-z-]+`.
fn is_label(part: &str) -> bool {
    !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Parses a NuGet version: 1 to 4 numbers, then optional `-labels` and `+metadata`.
fn parse_nuget(name: &str) -> Option<EcosystemVersion> {
    let (rest, metadata) = match name.split_once('+') {
        Some((rest, metadata)) => (rest, Some(metadata)),
        None => (name, None),
    };
    // Metadata: IsValid(metadata, allowLeadingZeros: true).
    if metadata.is_some_and(|metadata| !metadata.split('.').all(is_label)) {
        return None;
    }
    let (numbers_text, labels_text) = match rest.split_once('-') {
        Some((numbers, labels)) => (numbers, Some(labels)),
        None => (rest, None),
    };
    let mut numbers = [0u64; 4];
    for (i, part) in numbers_text.split('.').enumerate() {
        *numbers.get_mut(i)? = parse_number(part)?;
    }
    let mut labels = Vec::new();
    for label in labels_text.into_iter().flat_map(|labels| labels.split('.')) {
        // Labels: IsValidPart(label, allowLeadingZeros: false).
        if !is_label(label) {
            return None;
        }
        labels.push(if is_digits(label) {
            if label.len() > 1 && label.starts_with('0') {
                return None;
            }
            NuGetLabel::Numeric(parse_number(label)?)
        } else {
            NuGetLabel::Text(label.to_ascii_uppercase())
        });
    }
    Some(EcosystemVersion {
        major: numbers[0],
        minor: numbers[1],
        prerelease: !labels.is_empty(),
        key: Key::NuGet { numbers, labels },
    })
}

// ---------------------------------------------------------------------------------------------
// RubyGems: Gem::Version in lib/rubygems/version.rb (VERSION_PATTERN, initialize, prerelease?,
// canonical_segments, <=>), and test/rubygems/test_gem_version.rb.

/// One RubyGems segment; the declaration order puts strings before numbers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum GemSegment {
    /// A run of ASCII letters, compared by byte as Ruby compares strings.
    Text(String),
    /// A run of ASCII digits.
    Number(u64),
}

/// Whether `name` matches RubyGems' VERSION_PATTERN, anchored and without surrounding spaces:
/// `[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`.
fn is_gem_version(name: &str) -> bool {
    let (release, pre) = match name.split_once('-') {
        Some((release, pre)) => (release, Some(pre)),
        None => (name, None),
    };
    let mut parts = release.split('.');
    parts.next().is_some_and(is_digits)
        && parts.all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()))
        && pre.is_none_or(|pre| pre.split('.').all(is_label))
}

/// Parses a RubyGems version.
fn parse_rubygems(name: &str) -> Option<EcosystemVersion> {
    if !is_gem_version(name) {
        return None;
    }
    // Gem::Version#initialize: `-` reads as `.pre.`.
    let expanded = name.replace('-', ".pre.");
    // partition_segments: /\d+|[a-z]+/i, with whether each segment starts a `.`-part.
    let mut segments: Vec<(bool, GemSegment)> = Vec::new();
    for part in expanded.split('.').filter(|part| !part.is_empty()) {
        let mut rest = part;
        let mut starts_part = true;
        while let Some(first) = rest.bytes().next() {
            let digit = first.is_ascii_digit();
            let end = rest
                .bytes()
                .position(|b| b.is_ascii_digit() != digit)
                .unwrap_or(rest.len());
            let (run, tail) = rest.split_at_checked(end)?;
            let segment = if digit {
                GemSegment::Number(parse_number(run)?)
            } else {
                GemSegment::Text(run.to_owned())
            };
            segments.push((starts_part, segment));
            starts_part = false;
            rest = tail;
        }
    }
    let major = match segments.first() {
        Some((_, GemSegment::Number(n))) => *n,
        _ => 0,
    };
    let minor = match segments.get(1) {
        Some((_, GemSegment::Number(n))) => *n,
        _ => 0,
    };
    // prerelease?: /[a-zA-Z]/ on the expanded version.
    let prerelease = expanded.bytes().any(|b| b.is_ascii_alphabetic());
    let segments = canonical_gem_segments(segments, prerelease);
    Some(EcosystemVersion {
        major,
        minor,
        prerelease,
        key: Key::RubyGems(segments),
    })
}

/// Gem::Version#canonical_segments: drops trailing zero segments (never the first one), then,
/// in a prerelease, the first run of zero segments that starts a `.`-part and ends right
/// before a letter segment.
fn canonical_gem_segments(
    mut segments: Vec<(bool, GemSegment)>,
    prerelease: bool,
) -> Vec<GemSegment> {
    let is_zero = |segment: &GemSegment| *segment == GemSegment::Number(0);
    while segments.len() > 1 && segments.last().is_some_and(|(_, segment)| is_zero(segment)) {
        segments.pop();
    }
    if prerelease {
        let run = (0..segments.len()).find_map(|start| {
            let (starts_part, first) = segments.get(start)?;
            if !*starts_part || !is_zero(first) {
                return None;
            }
            let zeros = segments
                .get(start..)?
                .iter()
                .take_while(|(_, s)| is_zero(s))
                .count();
            match segments.get(start + zeros) {
                Some((_, GemSegment::Text(_))) => Some(start..start + zeros),
                _ => None,
            }
        });
        if let Some(run) = run {
            segments.drain(run);
        }
    }
    segments.into_iter().map(|(_, segment)| segment).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Parses `name`, failing the test when it is not a version.
    fn v(ecosystem: Ecosystem, name: &str) -> EcosystemVersion {
        ecosystem
            .parse(name)
            .unwrap_or_else(|| panic!("{} should parse {name:?}", ecosystem.name()))
    }

    /// Asserts that each name sorts strictly below every later one, both ways round.
    fn assert_ascending(ecosystem: Ecosystem, names: &[&str]) {
        let versions: Vec<_> = names.iter().map(|name| v(ecosystem, name)).collect();
        for (i, low) in versions.iter().enumerate() {
            for (j, high) in versions.iter().enumerate().skip(i + 1) {
                assert_eq!(
                    low.cmp(high),
                    Ordering::Less,
                    "{}: expected {} < {}",
                    ecosystem.name(),
                    names[i],
                    names[j]
                );
                assert_eq!(
                    high.cmp(low),
                    Ordering::Greater,
                    "{} > {}",
                    names[j],
                    names[i]
                );
                assert_ne!(low, high);
            }
        }
    }

    /// Asserts that two names are equal versions, both ways round.
    fn assert_same(ecosystem: Ecosystem, a: &str, b: &str) {
        let (va, vb) = (v(ecosystem, a), v(ecosystem, b));
        assert_eq!(
            va.cmp(&vb),
            Ordering::Equal,
            "{}: expected {a} == {b}",
            ecosystem.name()
        );
        assert_eq!(
            vb.cmp(&va),
            Ordering::Equal,
            "{}: expected {b} == {a}",
            ecosystem.name()
        );
        assert_eq!(va, vb);
    }

    /// Asserts major, minor and is_prerelease of one name.
    fn assert_parts(ecosystem: Ecosystem, name: &str, major: u64, minor: u64, prerelease: bool) {
        let version = v(ecosystem, name);
        assert_eq!(
            (version.major(), version.minor(), version.is_prerelease()),
            (major, minor, prerelease),
            "{}: {name}",
            ecosystem.name()
        );
    }

    const ALL: [Ecosystem; 4] = [
        Ecosystem::Semver,
        Ecosystem::Maven,
        Ecosystem::NuGet,
        Ecosystem::RubyGems,
    ];

    #[test]
    fn of_maps_github_package_types() {
        assert_eq!(Ecosystem::of("npm"), Some(Ecosystem::Semver));
        assert_eq!(Ecosystem::of("container"), Some(Ecosystem::Semver));
        assert_eq!(Ecosystem::of("Docker"), Some(Ecosystem::Semver));
        assert_eq!(Ecosystem::of("MAVEN"), Some(Ecosystem::Maven));
        assert_eq!(Ecosystem::of("nuget"), Some(Ecosystem::NuGet));
        assert_eq!(Ecosystem::of("RubyGems"), Some(Ecosystem::RubyGems));
        assert_eq!(Ecosystem::of("pypi"), None);
        assert_eq!(Ecosystem::of(""), None);
        assert_eq!(Ecosystem::of("npm "), None);
        let names: Vec<_> = ALL.iter().map(|e| e.name()).collect();
        assert_eq!(names, ["semver", "Maven", "NuGet", "RubyGems"]);
    }

    #[test]
    fn every_ecosystem_rejects_non_versions() {
        let long = format!("1.{}", "1".repeat(298));
        let long_dotted = "1.".repeat(150);
        for ecosystem in ALL {
            for name in [
                "latest",
                "sha256:abc",
                "",
                long.as_str(),
                long_dotted.as_str(),
                "99999999999999999999999.0.0",
                "1.2.99999999999999999999999",
                "main",
                " ",
            ] {
                assert!(
                    ecosystem.parse(name).is_none(),
                    "{} parsed {name:?}",
                    ecosystem.name()
                );
            }
        }
    }

    #[test]
    fn names_of_256_bytes_parse_and_longer_ones_do_not() {
        for (ecosystem, prefix) in [
            (Ecosystem::Semver, "1.0.0-"),
            (Ecosystem::Maven, "1.0-"),
            (Ecosystem::NuGet, "1.0-"),
            (Ecosystem::RubyGems, "1.0."),
        ] {
            let name = format!("{prefix}{}", "a".repeat(256 - prefix.len()));
            assert_eq!(name.len(), 256);
            assert!(ecosystem.parse(&name).is_some(), "{}", ecosystem.name());
            assert!(
                ecosystem.parse(&format!("{name}a")).is_none(),
                "{}",
                ecosystem.name()
            );
        }
    }

    // ------------------------------------------------------------------------ Semver

    #[test]
    fn semver_precedence_from_semver_org_section_11() {
        // https://semver.org/spec/v2.0.0.html §11.
        assert_ascending(
            Ecosystem::Semver,
            &[
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-alpha.beta",
                "1.0.0-beta",
                "1.0.0-beta.2",
                "1.0.0-beta.11",
                "1.0.0-rc.1",
                "1.0.0",
            ],
        );
        assert_ascending(Ecosystem::Semver, &["1.0.0", "2.0.0", "2.1.0", "2.1.1"]);
        assert_ascending(
            Ecosystem::Semver,
            &["0.9.9", "0.10.0", "1.9.0", "1.10.0", "1.11.0"],
        );
    }

    #[test]
    fn semver_ignores_build_metadata_and_a_leading_v() {
        // §10: build metadata MUST be ignored when determining version precedence.
        assert_same(Ecosystem::Semver, "1.0.0+20130313144700", "1.0.0");
        assert_same(
            Ecosystem::Semver,
            "1.0.0-beta+exp.sha.5114f85",
            "1.0.0-beta+other",
        );
        assert_same(Ecosystem::Semver, "v1.2.3", "1.2.3");
        assert_same(Ecosystem::Semver, "V1.2.3-rc.1", "1.2.3-rc.1");
    }

    #[test]
    fn semver_rejects_what_is_not_strict_semver() {
        for name in [
            "1.2", "1", "01.2.3", "1.2.3-", "1.2.3+", "1.2.3-01", "vv1.2.3", "v", "1.2.3.4",
            " 1.2.3", "1.2.3 ", "=1.2.3", "1.2.x",
        ] {
            assert!(Ecosystem::Semver.parse(name).is_none(), "parsed {name:?}");
        }
    }

    #[test]
    fn semver_parts() {
        assert_parts(Ecosystem::Semver, "1.2.3", 1, 2, false);
        assert_parts(Ecosystem::Semver, "v10.20.30-rc.1", 10, 20, true);
        assert_parts(Ecosystem::Semver, "0.0.1+build.7", 0, 0, false);
        assert_parts(Ecosystem::Semver, "2.0.0-0", 2, 0, true);
    }

    // ------------------------------------------------------------------------ Maven

    #[test]
    fn maven_qualifier_order_from_its_documentation() {
        assert_ascending(
            Ecosystem::Maven,
            &[
                "1-alpha",
                "1-beta",
                "1-milestone",
                "1-rc",
                "1-snapshot",
                "1",
                "1-sp",
                "1-xyz",
            ],
        );
        assert_same(Ecosystem::Maven, "1.0.0", "1");
        assert_same(Ecosystem::Maven, "1-rc", "1-cr");
    }

    #[test]
    fn maven_versions_qualifier_from_comparable_version_test() {
        // ComparableVersionTest.VERSIONS_QUALIFIER.
        assert_ascending(
            Ecosystem::Maven,
            &[
                "1-alpha2snapshot",
                "1-alpha2",
                "1-alpha-123",
                "1-beta-2",
                "1-beta123",
                "1-m2",
                "1-m11",
                "1-rc",
                "1-cr2",
                "1-rc123",
                "1-SNAPSHOT",
                "1",
                "1-sp",
                "1-sp2",
                "1-sp123",
                "1-abc",
                "1-def",
                "1-pom-1",
                "1-1-snapshot",
                "1-1",
                "1-2",
                "1-123",
            ],
        );
    }

    #[test]
    fn maven_versions_number_from_comparable_version_test() {
        // ComparableVersionTest.VERSIONS_NUMBER.
        assert_ascending(
            Ecosystem::Maven,
            &[
                "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c",
                "2.1-1", "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2",
                "11.m11", "11", "11.a", "11b", "11c", "11m",
            ],
        );
    }

    #[test]
    fn maven_equalities_from_comparable_version_test() {
        // ComparableVersionTest.testVersionsEqual and testVersionsHaveSameOrderButAreNotEqual.
        for (a, b) in [
            ("1", "1.0"),
            ("1", "1.0.0"),
            ("1.0", "1.0.0"),
            ("1", "1-0"),
            ("1", "1.0-0"),
            ("1.0", "1.0-0"),
            ("1a", "1-a"),
            ("1a", "1.0-a"),
            ("1a", "1.0.0-a"),
            ("1.0a", "1-a"),
            ("1.0.0a", "1-a"),
            ("1x", "1-x"),
            ("1x", "1.0-x"),
            ("1x", "1.0.0-x"),
            ("1.0x", "1-x"),
            ("1.0.0x", "1-x"),
            ("1cr", "1rc"),
            ("1a1", "1-alpha-1"),
            ("1b2", "1-beta-2"),
            ("1m3", "1-milestone-3"),
            ("1X", "1x"),
            ("1A", "1a"),
            ("1B", "1b"),
            ("1M", "1m"),
            ("1Cr", "1Rc"),
            ("1cR", "1rC"),
            ("1m3", "1Milestone3"),
            ("1m3", "1MileStone3"),
            ("1m3", "1MILESTONE3"),
            ("1ga", "1"),
            ("1release", "1"),
            ("1final", "1"),
            ("1GA", "1"),
            ("1RELeaSE", "1"),
            ("1FINAL", "1"),
            ("1.0.0-alpha1", "1.0.0-ALPHA1"),
            ("1.a", "1.A"),
            ("1.é", "1.É"),
            (
                "1-abcdefghijklmnopqrstuvwxyz",
                "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            ),
            ("0000000000000000001", "1"),
            ("0000000000000000000", "0"),
            ("5.4.2.Final", "5.4.2"),
            ("5.3.7.RELEASE", "5.3.7"),
        ] {
            assert_same(Ecosystem::Maven, a, b);
        }
    }

    #[test]
    fn maven_comparisons_from_comparable_version_test() {
        // ComparableVersionTest.testVersionComparing, testLeadingZeroes and the MNG-* cases.
        for (low, high) in [
            ("1", "2"),
            ("1.5", "2"),
            ("1", "2.5"),
            ("1.0", "1.1"),
            ("1.1", "1.2"),
            ("1.0.0", "1.1"),
            ("1.0.1", "1.1"),
            ("1.1", "1.2.0"),
            ("1.0-alpha-1", "1.0"),
            ("1.0-alpha-1", "1.0-alpha-2"),
            ("1.0-alpha-1", "1.0-beta-1"),
            ("1.0-beta-1", "1.0-SNAPSHOT"),
            ("1.0-SNAPSHOT", "1.0"),
            ("1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"),
            ("1.0", "1.0-1"),
            ("1.0-1", "1.0-2"),
            ("1.0.0", "1.0-1"),
            ("2.0-1", "2.0.1"),
            ("2.0.1-klm", "2.0.1-lmn"),
            ("2.0.1", "2.0.1-xyz"),
            ("2.0.1", "2.0.1-123"),
            ("2.0.1-xyz", "2.0.1-123"),
            ("0.7", "2"),
            ("0.2", "1.0.7"),
            // MNG-5568.
            ("6.1.0rc3", "6.1.0"),
            ("6.1.0rc3", "6.1H.5-beta"),
            ("6.1.0", "6.1H.5-beta"),
            // MNG-6572.
            ("20190126.230843", "1234567890.12345"),
            ("1234567890.12345", "123456789012345.1H.5-beta"),
            (
                "123456789012345.1H.5-beta",
                "12345678901234567890.1H.5-beta",
            ),
            // MNG-6964.
            ("1-0.alpha", "1"),
            ("1-0.beta", "1"),
            ("1-0.alpha", "1-0.beta"),
            // MNG-7714.
            ("1.0.final-redhat", "1.0-sp1-redhat"),
            ("1.0.final-redhat", "1.0-sp-1-redhat"),
            ("1.0.final-redhat", "1.0-sp.1-redhat"),
        ] {
            assert_ascending(Ecosystem::Maven, &[low, high]);
        }
        // MNG-7644: 1.0.0.X1 < 1.0.0-X2, and 2.0.X == 2-X == 2.0.0.X, for any string X.
        for x in [
            "abc",
            "alpha",
            "a",
            "beta",
            "b",
            "def",
            "milestone",
            "m",
            "RC",
        ] {
            assert_ascending(
                Ecosystem::Maven,
                &[&format!("1.0.0.{x}1"), &format!("1.0.0-{x}2")],
            );
            assert_same(Ecosystem::Maven, &format!("2-{x}"), &format!("2.0.{x}"));
            assert_same(Ecosystem::Maven, &format!("2-{x}"), &format!("2.0.0.{x}"));
        }
    }

    #[test]
    fn maven_deviations_are_the_documented_ones() {
        // A qualifier after `.` counts as after `-`, so 1-alpha < 1 < 1.sp stays transitive.
        assert_same(Ecosystem::Maven, "1.sp", "1-sp");
        assert_ascending(Ecosystem::Maven, &["1-alpha", "1", "1.sp"]);
        // A sub-list right after `-` is not nested twice.
        assert_same(Ecosystem::Maven, "1-0-1", "1-1");
        assert_same(Ecosystem::Maven, "1--1", "1-1");
        // A release qualifier inside a version stays a marker (Maven 4, MNG-7714).
        assert_ascending(
            Ecosystem::Maven,
            &["1.0.final-redhat", "1-sp-redhat", "1-redhat"],
        );
    }

    #[test]
    fn maven_rejects_names_that_do_not_start_with_a_number() {
        for name in ["alpha", "-1", ".1", "v1.0", "é", "\u{0668}"] {
            assert!(Ecosystem::Maven.parse(name).is_none(), "parsed {name:?}");
        }
    }

    #[test]
    fn maven_parts() {
        assert_parts(Ecosystem::Maven, "1.2.3", 1, 2, false);
        assert_parts(Ecosystem::Maven, "1.2.3-SNAPSHOT", 1, 2, true);
        assert_parts(Ecosystem::Maven, "2.0.0-M1", 2, 0, true);
        assert_parts(Ecosystem::Maven, "3-rc2", 3, 0, true);
        assert_parts(Ecosystem::Maven, "3.1-1", 3, 1, false);
        assert_parts(Ecosystem::Maven, "5.4.2.Final", 5, 4, false);
        assert_parts(Ecosystem::Maven, "4.0.CR1", 4, 0, true);
        assert_parts(Ecosystem::Maven, "1.0-sp1", 1, 0, false);
        assert_parts(Ecosystem::Maven, "7", 7, 0, false);
        assert_parts(Ecosystem::Maven, "0.0", 0, 0, false);
        assert_parts(Ecosystem::Maven, "1.0-alpha1-redhat", 1, 0, true);
    }

    // ------------------------------------------------------------------------ NuGet

    #[test]
    fn nuget_equalities_from_version_comparer_tests() {
        // VersionComparerTests.VersionComparisonDefaultEqual(WithNuGetVersion).
        for (a, b) in [
            ("1.0.0", "1.0.0"),
            ("1.0.0-BETA", "1.0.0-beta"),
            ("1.0.0-BETA+AA", "1.0.0-beta+aa"),
            ("1.0.0-BETA.X.y.5.77.0+AA", "1.0.0-beta.x.y.5.77.0+aa"),
            ("1.0.0", "1.0.0+beta"),
            ("1.0", "1.0.0.0"),
            ("1.0+test", "1.0.0.0"),
            ("1.0.0.1-1.2.A", "1.0.0.1-1.2.a+A"),
            ("1.0.01", "1.0.1.0"),
            ("1.0.0-ALPHA", "1.0.0-alpha"),
            ("1", "1.0.0.0"),
        ] {
            assert_same(Ecosystem::NuGet, a, b);
        }
    }

    #[test]
    fn nuget_comparisons_from_version_comparer_tests() {
        // VersionComparerTests.VersionComparisonDefaultLess and ...NotEqualWithNuGetVersion.
        for (low, high) in [
            ("0.0.0", "1.0.0"),
            ("1.0.0", "1.1.0"),
            ("1.0.0", "1.0.1"),
            ("1.999.9999", "2.1.1"),
            ("1.0.0-BETA", "1.0.0-beta2"),
            ("1.0.0-beta+AA", "1.0.0+aa"),
            ("1.0.0-BETA", "1.0.0-beta.1+AA"),
            ("1.0.0-BETA.X.y.5.77.0+AA", "1.0.0-beta.x.y.5.79.0+aa"),
            ("1.0.0-BETA.X.y.5.79.0+AA", "1.0.0-beta.x.y.5.790.0+abc"),
            ("1.0", "1.0.0.1"),
            ("1.0.0.1-1.2.A", "1.0.0.1-1.2.a.A+A"),
            ("1.0.01", "1.0.1.2"),
        ] {
            assert_ascending(Ecosystem::NuGet, &[low, high]);
        }
        // Numeric labels before text labels; a release after its pre-releases; the revision.
        assert_ascending(
            Ecosystem::NuGet,
            &[
                "1.0.0-1",
                "1.0.0-2",
                "1.0.0-10",
                "1.0.0-alpha",
                "1.0.0-rc.1",
                "1.0.0",
                "1.0.0.1",
            ],
        );
    }

    #[test]
    fn nuget_rejects_invalid_versions() {
        for name in [
            "1.2.3.4.5",
            "1.0.0-",
            "1.0.0-beta..1",
            "1.0.0-01",
            "1.0.0-beta_1",
            "1.0.0+",
            "1.0.0+a..b",
            "1.0.0+a+b",
            "1..2",
            "1.",
            ".1",
            "v1.0.0",
            "-1.0",
            "1.0.0-é",
            " 1.0",
        ] {
            assert!(Ecosystem::NuGet.parse(name).is_none(), "parsed {name:?}");
        }
        // Leading zeros are fine in metadata and in version numbers.
        assert!(Ecosystem::NuGet.parse("1.0.0+001").is_some());
        assert!(Ecosystem::NuGet.parse("01.002").is_some());
        assert!(Ecosystem::NuGet.parse("1.0.0-0").is_some());
        assert!(Ecosystem::NuGet.parse("1.0.0-0a").is_some());
    }

    #[test]
    fn nuget_parts() {
        assert_parts(Ecosystem::NuGet, "1", 1, 0, false);
        assert_parts(Ecosystem::NuGet, "1.2", 1, 2, false);
        assert_parts(Ecosystem::NuGet, "1.2.3.4", 1, 2, false);
        assert_parts(Ecosystem::NuGet, "6.0.0-preview.7.21377.19", 6, 0, true);
        assert_parts(Ecosystem::NuGet, "2.1.0+sha.abc", 2, 1, false);
    }

    // ------------------------------------------------------------------------ RubyGems

    #[test]
    fn rubygems_orderings_from_test_gem_version() {
        // test_gem_version.rb: test_spaceship, test_semver, test_frozen_version.
        assert_ascending(Ecosystem::RubyGems, &["1.0.a", "1.0.b", "1.0"]);
        for (low, high) in [
            ("1.0.a", "1.0"),
            ("0.0.0", "1.8.2"),
            ("1.8.2.a", "1.8.2"),
            ("1.8.2.a", "1.8.2.b"),
            ("1.8.2.a9", "1.8.2.a10"),
            ("0.0.beta", "0.0.beta.1"),
            ("0.0.beta", "0.beta.1"),
            ("5.a", "5.0.0.rc2"),
            ("5.0.0.rc2", "5.x"),
            ("1.0.0-alpha", "1.0.0-alpha.1"),
            ("1.0.0-alpha.1", "1.0.0-beta.2"),
            ("1.0.0-beta.2", "1.0.0-beta.11"),
            ("1.0.0-beta.11", "1.0.0-rc.1"),
            ("1.0.0-rc1", "1.0.0"),
            ("1.0.0-1", "1"),
            ("1.freeze.test", "1"),
            ("1.A", "1.a"),
        ] {
            assert_ascending(Ecosystem::RubyGems, &[low, high]);
        }
    }

    #[test]
    fn rubygems_equalities_from_test_gem_version() {
        // test_spaceship, test_equals2, test_hash, test_canonical_segments.
        for (a, b) in [
            ("1.0", "1.0.0"),
            ("1.0.0", "1"),
            ("0.beta.1", "0.0.beta.1"),
            ("1.2.b1", "1.2.b.1"),
            ("1.2", "1.2.0"),
            ("1.2.pre.1", "1.2.0.pre.1.0"),
            ("1.0.0.a.1.0", "1.a.1"),
            ("1.2.3-1", "1.2.3.pre.1"),
            // canonical_segments' second regex, RubyGems 3.5 and later.
            ("1.2.3-0.beta1", "1.2.3.pre.beta1"),
            ("1.a.0b", "1.a.b"),
        ] {
            assert_same(Ecosystem::RubyGems, a, b);
        }
    }

    #[test]
    fn rubygems_rejects_what_version_pattern_rejects() {
        // test_initialize_invalid, plus the pattern's edges.
        for name in [
            "junk",
            "1.0\n2.0",
            "1..2",
            "1.2 3.4",
            "2.3422222.222.222222222.22222.ads0as.dasd0.ddd2222.2.qd3e.",
            "1.",
            "1-",
            "1.0-a..b",
            "a.1",
            ".1",
            "1.0_1",
            " 1.0",
            "1.0 ",
        ] {
            assert!(Ecosystem::RubyGems.parse(name).is_none(), "parsed {name:?}");
        }
        assert!(Ecosystem::RubyGems.parse("1.0-a-b.c-").is_some());
    }

    #[test]
    fn rubygems_parts() {
        // test_prerelease.
        for name in [
            "1.2.0.a",
            "2.9.b",
            "22.1.50.0.d",
            "1.2.d.42",
            "1.A",
            "1-1",
            "1-a",
        ] {
            assert!(v(Ecosystem::RubyGems, name).is_prerelease(), "{name}");
        }
        for name in ["1.2.0", "2.9", "22.1.50.0"] {
            assert!(!v(Ecosystem::RubyGems, name).is_prerelease(), "{name}");
        }
        assert_parts(Ecosystem::RubyGems, "7.1.3", 7, 1, false);
        assert_parts(Ecosystem::RubyGems, "7.1.3.rc1", 7, 1, true);
        assert_parts(Ecosystem::RubyGems, "3", 3, 0, false);
        assert_parts(Ecosystem::RubyGems, "3.a", 3, 0, true);
        assert_parts(Ecosystem::RubyGems, "3.1b", 3, 1, true);
        assert!(
            Ecosystem::RubyGems.parse("3a").is_none(),
            "the first part is digits only"
        );
    }

    #[test]
    fn versions_of_different_ecosystems_are_never_equal() {
        let semver = v(Ecosystem::Semver, "1.0.0");
        let maven = v(Ecosystem::Maven, "1.0.0");
        let nuget = v(Ecosystem::NuGet, "1.0.0");
        let gem = v(Ecosystem::RubyGems, "1.0.0");
        assert_ne!(semver, maven);
        assert!(semver < maven && maven < nuget && nuget < gem);
    }

    // ------------------------------------------------------------------------ properties

    /// Checks that `cmp` is a total order on three versions, and `==` agrees with it.
    fn check_total_order(a: &EcosystemVersion, b: &EcosystemVersion, c: &EcosystemVersion) {
        let all = [a, b, c];
        for x in all {
            assert_eq!(x.cmp(x), Ordering::Equal);
            for y in all {
                assert_eq!(x.cmp(y), y.cmp(x).reverse(), "antisymmetry: {x:?} {y:?}");
                assert_eq!(x == y, x.cmp(y) == Ordering::Equal, "eq: {x:?} {y:?}");
                assert_eq!(x.partial_cmp(y), Some(x.cmp(y)));
                for z in all {
                    if x <= y && y <= z {
                        assert!(x <= z, "transitivity: {x:?} <= {y:?} <= {z:?}");
                    }
                    if x == y && y == z {
                        assert_eq!(x, z);
                    }
                }
            }
        }
    }

    /// Valid SemVer names over a small alphabet, so that ties and near-ties are common.
    fn semver_name() -> impl Strategy<Value = String> {
        let number = prop::sample::select(vec!["0", "1", "2", "10"]);
        let pre = prop::collection::vec(
            prop::sample::select(vec![
                "alpha", "beta", "rc", "0", "1", "2", "11", "x-y", "RC",
            ]),
            0..4,
        );
        let build = prop::option::of(prop::sample::select(vec!["build", "001", "sha.5114f85"]));
        let v = prop::sample::select(vec!["", "v", "V"]);
        (v, number.clone(), number.clone(), number, pre, build).prop_map(
            |(v, major, minor, patch, pre, build)| {
                let mut name = format!("{v}{major}.{minor}.{patch}");
                if !pre.is_empty() {
                    name = format!("{name}-{}", pre.join("."));
                }
                if let Some(build) = build {
                    name = format!("{name}+{build}");
                }
                name
            },
        )
    }

    /// Maven names: a number, then separators and tokens in any mix.
    fn maven_name() -> impl Strategy<Value = String> {
        let token = prop::sample::select(vec![
            "0",
            "1",
            "2",
            "10",
            "alpha",
            "a",
            "b",
            "m",
            "beta",
            "milestone",
            "rc",
            "cr",
            "SNAPSHOT",
            "ga",
            "final",
            "release",
            "sp",
            "xyz",
            "redhat",
        ]);
        let separator = prop::sample::select(vec![".", "-", "", "..", "-."]);
        let first = prop::sample::select(vec!["0", "1", "2", "01"]);
        (first, prop::collection::vec((separator, token), 0..6)).prop_map(|(first, rest)| {
            let mut name = first.to_owned();
            for (separator, token) in rest {
                name.push_str(separator);
                name.push_str(token);
            }
            name
        })
    }

    /// NuGet names: 1 to 4 numbers, labels, metadata.
    fn nuget_name() -> impl Strategy<Value = String> {
        let number = prop::sample::select(vec!["0", "1", "2", "10", "01"]);
        let labels = prop::collection::vec(
            prop::sample::select(vec!["alpha", "ALPHA", "Beta", "0", "1", "2", "10", "rc-1"]),
            0..4,
        );
        let metadata = prop::option::of(prop::sample::select(vec!["AA", "aa", "001", "x.y"]));
        (prop::collection::vec(number, 1..=4), labels, metadata).prop_map(
            |(numbers, labels, metadata)| {
                let mut name = numbers.join(".");
                if !labels.is_empty() {
                    name = format!("{name}-{}", labels.join("."));
                }
                if let Some(metadata) = metadata {
                    name = format!("{name}+{metadata}");
                }
                name
            },
        )
    }

    /// RubyGems names: a number, `.`-parts and letter/digit runs, an optional `-` part.
    fn rubygems_name() -> impl Strategy<Value = String> {
        let token = prop::sample::select(vec!["0", "1", "2", "10", "a", "b", "pre", "rc", "A"]);
        let separator = prop::sample::select(vec![".", ""]);
        let pre = prop::option::of(prop::collection::vec(
            prop::sample::select(vec!["0", "1", "a", "pre", "b-1", "-"]),
            1..3,
        ));
        let first = prop::sample::select(vec!["0", "1", "2", "00"]);
        (first, prop::collection::vec((separator, token), 0..6), pre).prop_map(
            |(first, rest, pre)| {
                let mut name = first.to_owned();
                for (i, (separator, token)) in rest.into_iter().enumerate() {
                    // The first `.`-part is digits only.
                    name.push_str(if i == 0 { "." } else { separator });
                    name.push_str(token);
                }
                if let Some(pre) = pre {
                    name = format!("{name}-{}", pre.join("."));
                }
                name
            },
        )
    }

    /// Arbitrary strings, and version-like ones that reach deeper into the parsers.
    fn any_name() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[0-9a-zA-Z.+_-]{0,40}",
            "[0-9][0-9a-zA-Zé.+-]{0,300}",
            "v?[0-9]{1,25}(\\.[0-9]{1,25}){0,4}(-[0-9a-zA-Z.-]{0,20})?(\\+[0-9a-zA-Z.-]{0,20})?",
        ]
    }

    proptest! {
        #[test]
        fn semver_parse_never_panics(name in any_name()) {
            let _ = Ecosystem::Semver.parse(&name);
        }

        #[test]
        fn maven_parse_never_panics(name in any_name()) {
            let _ = Ecosystem::Maven.parse(&name);
        }

        #[test]
        fn nuget_parse_never_panics(name in any_name()) {
            let _ = Ecosystem::NuGet.parse(&name);
        }

        #[test]
        fn rubygems_parse_never_panics(name in any_name()) {
            let _ = Ecosystem::RubyGems.parse(&name);
        }

        #[test]
        fn semver_is_a_total_order(a in semver_name(), b in semver_name(), c in semver_name()) {
            let [a, b, c] = [&a, &b, &c].map(|name| v(Ecosystem::Semver, name));
            check_total_order(&a, &b, &c);
        }

        #[test]
        fn maven_is_a_total_order(a in maven_name(), b in maven_name(), c in maven_name()) {
            let [a, b, c] = [&a, &b, &c].map(|name| v(Ecosystem::Maven, name));
            check_total_order(&a, &b, &c);
        }

        #[test]
        fn nuget_is_a_total_order(a in nuget_name(), b in nuget_name(), c in nuget_name()) {
            let [a, b, c] = [&a, &b, &c].map(|name| v(Ecosystem::NuGet, name));
            check_total_order(&a, &b, &c);
        }

        #[test]
        fn rubygems_is_a_total_order(
            a in rubygems_name(),
            b in rubygems_name(),
            c in rubygems_name(),
        ) {
            let [a, b, c] = [&a, &b, &c].map(|name| v(Ecosystem::RubyGems, name));
            check_total_order(&a, &b, &c);
        }
    }
}
