//! Tag patterns: a glob by default, a regex after `re:`, always matched against the whole tag.

use std::fmt;
use std::str::FromStr;

use globset::{GlobBuilder, GlobMatcher};
use regex::{Regex, RegexBuilder};
use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::Schema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::age::string_schema;

const REGEX_PREFIX: &str = "re:";
const LONGEST_PATTERN: usize = 1024;
/// The compiled size limit of one regex (the `regex` crate's default is 10 MiB).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A pattern that selects tags.
///
/// - `pr-*`, `v1.?`, `{main,dev}-*`: a glob ([`globset`] syntax), matched against the whole tag.
/// - `re:v\d+\.\d+`: a regex (the [`regex`] crate, which runs in linear time), matched
///   against the **whole** tag as if written `^(?:v\d+\.\d+)$`; `re:v1` does not match `v10`.
///   Compiled regexes are limited to 1 MiB.
///
/// Matching is case-sensitive, like tags.
///
/// ```
/// use ghpkg_retention::TagPattern;
///
/// let pr = TagPattern::parse("pr-*")?;
/// assert!(pr.is_match("pr-12"));
/// assert!(!pr.is_match("main-pr-12"));
/// let release = TagPattern::parse(r"re:v\d+")?;
/// assert!(release.is_match("v10"));
/// assert!(!release.is_match("v10-rc1"));
/// assert!(TagPattern::parse("re:(").is_err());
/// # Ok::<(), ghpkg_retention::PatternError>(())
/// ```
#[derive(Clone)]
pub struct TagPattern {
    source: String,
    matcher: Matcher,
}

#[derive(Clone)]
enum Matcher {
    Glob(GlobMatcher),
    Regex(Regex),
}

impl TagPattern {
    /// Parses a glob, or a regex after `re:`.
    pub fn parse(pattern: &str) -> Result<TagPattern, PatternError> {
        if pattern.len() > LONGEST_PATTERN {
            return Err(PatternError::TooLong {
                pattern: pattern.chars().take(40).collect::<String>() + "…",
                limit: LONGEST_PATTERN,
            });
        }
        let matcher = match pattern.strip_prefix(REGEX_PREFIX) {
            Some(regex) => Matcher::Regex(compile_whole_match_regex(pattern, regex)?),
            None => Matcher::Glob(compile_glob(pattern)?),
        };
        Ok(TagPattern {
            source: pattern.to_owned(),
            matcher,
        })
    }

    /// Whether the pattern matches the whole of `tag`.
    pub fn is_match(&self, tag: &str) -> bool {
        match &self.matcher {
            Matcher::Glob(glob) => glob.is_match(tag),
            Matcher::Regex(regex) => regex.is_match(tag),
        }
    }

    /// The pattern as it was written, `re:` included.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

fn compile_glob(pattern: &str) -> Result<GlobMatcher, PatternError> {
    if pattern.is_empty() {
        return Err(PatternError::Empty);
    }
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .map(|glob| glob.compile_matcher())
        .map_err(|error| PatternError::Glob {
            pattern: pattern.to_owned(),
            message: error.kind().to_string(),
        })
}

fn compile_whole_match_regex(pattern: &str, regex: &str) -> Result<Regex, PatternError> {
    if regex.is_empty() {
        return Err(PatternError::Empty);
    }
    let build = |text: &str| {
        RegexBuilder::new(text)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|error| PatternError::Regex {
                pattern: pattern.to_owned(),
                message: error.to_string(),
            })
    };
    // Compiling the regex alone first proves it is balanced, so wrapping it cannot change its
    // meaning (`a)|(b` would otherwise become `^(?:a)|(b)$`).
    build(regex)?;
    build(&format!("^(?:{regex})$"))
}

impl FromStr for TagPattern {
    type Err = PatternError;
    fn from_str(pattern: &str) -> Result<TagPattern, PatternError> {
        TagPattern::parse(pattern)
    }
}

impl PartialEq for TagPattern {
    fn eq(&self, other: &TagPattern) -> bool {
        self.source == other.source
    }
}

impl Eq for TagPattern {}

impl fmt::Debug for TagPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TagPattern").field(&self.source).finish()
    }
}

impl fmt::Display for TagPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Serialize for TagPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for TagPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TagPattern::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for TagPattern {
    fn schema_name() -> String {
        "TagPattern".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        string_schema(
            "A glob matched against the whole tag (`pr-*`), or a regex after `re:` matched against the whole tag (`re:v\\d+`).",
        )
    }
}

/// A tag pattern that could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// An empty pattern (or `re:` with nothing after it).
    #[error("empty tag pattern: write a glob like `pr-*`, or a regex after `re:` like `re:v\\d+`")]
    Empty,
    /// A pattern longer than the limit.
    #[error("tag pattern `{pattern}` is longer than {limit} characters")]
    TooLong {
        /// The start of the pattern.
        pattern: String,
        /// The longest pattern accepted.
        limit: usize,
    },
    /// A glob that does not parse.
    #[error(
        "invalid glob `{pattern}`: {message}; a glob matches the whole tag, like `pr-*` or `v1.*`"
    )]
    Glob {
        /// The pattern as given.
        pattern: String,
        /// What the glob parser said.
        message: String,
    },
    /// A regex that does not parse, or that compiles to more than 1 MiB.
    #[error(
        "invalid regex `{pattern}`: {message}; after `re:` write a regex matched against the whole tag, like `re:v\\d+`"
    )]
    Regex {
        /// The pattern as given, `re:` included.
        pattern: String,
        /// What the regex parser said.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, tag: &str) -> bool {
        TagPattern::parse(pattern).unwrap().is_match(tag)
    }

    #[test]
    fn globs_match_the_whole_tag() {
        assert!(matches("pr-*", "pr-1"));
        assert!(matches("pr-*", "pr-"));
        assert!(!matches("pr-*", "xpr-1"));
        assert!(matches("latest", "latest"));
        assert!(!matches("latest", "latest-1"));
        assert!(matches("v1.?", "v1.2"));
        assert!(matches("{main,dev}-*", "dev-3"));
        assert!(matches("[0-9]*", "1abc"));
        assert!(!matches("PR-*", "pr-1"));
    }

    #[test]
    fn regexes_match_the_whole_tag() {
        assert!(matches(r"re:v\d+", "v10"));
        assert!(!matches(r"re:v\d+", "v10-rc"));
        assert!(!matches(r"re:v\d+", "xv10"));
        assert!(matches("re:a|ab", "ab"));
        assert!(matches("re:pr-.*|dev", "dev"));
        assert!(!matches("re:pr-.*|dev", "devel"));
        assert!(matches("re:(?i)LATEST", "latest"));
    }

    #[test]
    fn an_unbalanced_regex_cannot_escape_the_anchors() {
        let error = TagPattern::parse("re:a)|(b").unwrap_err();
        assert!(matches!(error, PatternError::Regex { .. }), "{error:?}");
    }

    #[test]
    fn bad_patterns_are_refused_by_name() {
        let glob = TagPattern::parse("pr-[").unwrap_err();
        assert!(
            matches!(&glob, PatternError::Glob { pattern, .. } if pattern == "pr-["),
            "{glob:?}"
        );
        assert!(glob.to_string().contains("`pr-[`"));
        let regex = TagPattern::parse("re:(").unwrap_err();
        assert!(
            matches!(&regex, PatternError::Regex { pattern, .. } if pattern == "re:("),
            "{regex:?}"
        );
        assert!(regex.to_string().contains("`re:(`"));
        assert_eq!(TagPattern::parse(""), Err(PatternError::Empty));
        assert_eq!(TagPattern::parse("re:"), Err(PatternError::Empty));
        assert!(matches!(
            TagPattern::parse(&"a".repeat(2000)),
            Err(PatternError::TooLong { limit: 1024, .. })
        ));
    }

    #[test]
    fn a_regex_that_compiles_too_large_is_refused() {
        let error = TagPattern::parse(r"re:\w{1000}\w{1000}").unwrap_err();
        assert!(
            matches!(&error, PatternError::Regex { message, .. } if message.contains("size limit")),
            "{error:?}"
        );
    }

    #[test]
    fn patterns_serialize_as_written() {
        let pattern = TagPattern::parse(r"re:v\d+").unwrap();
        let json = serde_json::to_string(&pattern).unwrap();
        assert_eq!(json, r#""re:v\\d+""#);
        assert_eq!(serde_json::from_str::<TagPattern>(&json).unwrap(), pattern);
        let error = serde_json::from_str::<TagPattern>("\"re:(\"").unwrap_err();
        assert!(error.to_string().contains("invalid regex"));
    }
}
