//! Ages such as `30d`, `2w` or `6 months`: the `older_than` rule.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Months, TimeDelta, Utc};
use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{InstanceType, Metadata, Schema, SchemaObject};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const SECONDS_PER_MINUTE: u64 = 60;
const SECONDS_PER_HOUR: u64 = 60 * SECONDS_PER_MINUTE;
const SECONDS_PER_DAY: u64 = 24 * SECONDS_PER_HOUR;
const SECONDS_PER_WEEK: u64 = 7 * SECONDS_PER_DAY;
/// The average Gregorian month and year, only to refuse ages over a hundred years.
const SECONDS_PER_AVERAGE_MONTH: u64 = 2_629_746;
const LONGEST_AGE_SECONDS: u64 = 100 * 12 * SECONDS_PER_AVERAGE_MONTH;
const LONGEST_INPUT: usize = 64;

/// How old a version must be before `older_than` deletes it.
///
/// Written as one or more `<number><unit>` parts, spaces allowed: `30d`, `2w`, `12h`,
/// `90 days`, `6 months`, `1 month`, `1y`, `1w2d`, `1y 6mo`. Units (case-insensitive):
/// `min`/`minute(s)`, `h`/`hr(s)`/`hour(s)`, `d`/`day(s)`, `w`/`wk(s)`/`week(s)`,
/// `mo`/`mon`/`month(s)`, `y`/`yr(s)`/`year(s)`. A bare `m` is refused as ambiguous.
///
/// Months and years are calendar months ([`chrono::Months`]: 31 March minus one month is
/// 29 or 28 February); the other units are fixed durations. Numbers are whole; the total must
/// be more than zero and at most 100 years.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use ghpkg_retention::Age;
///
/// let now = Utc.with_ymd_and_hms(2024, 8, 31, 12, 0, 0).unwrap();
/// let age: Age = "6 months".parse()?;
/// assert_eq!(age.cutoff(now), Utc.with_ymd_and_hms(2024, 2, 29, 12, 0, 0).unwrap());
/// assert_eq!("1w2d".parse::<Age>()?.cutoff(now), Utc.with_ymd_and_hms(2024, 8, 22, 12, 0, 0).unwrap());
/// assert!("1.5d".parse::<Age>().is_err());
/// # Ok::<(), ghpkg_retention::AgeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Age {
    source: String,
    months: u32,
    seconds: u64,
}

impl Age {
    /// Parses an age; see the type's documentation for the syntax.
    pub fn parse(input: &str) -> Result<Age, AgeError> {
        let fail = |problem| AgeError {
            input: input.to_owned(),
            problem,
        };
        let text = input.trim();
        if text.is_empty() {
            return Err(fail(AgeProblem::Empty));
        }
        if text.len() > LONGEST_INPUT {
            return Err(fail(AgeProblem::TooLong));
        }
        let mut months: u64 = 0;
        let mut seconds: u64 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let digits_end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits_end == 0 {
                return Err(fail(match rest.chars().next() {
                    Some('-') => AgeProblem::Negative,
                    Some('.' | ',') => AgeProblem::Fraction,
                    Some(c) if c.is_alphabetic() => AgeProblem::MissingNumber,
                    _ => AgeProblem::Unexpected(rest.chars().next().unwrap_or(' ')),
                }));
            }
            let number: u64 = rest[..digits_end]
                .parse()
                .map_err(|_| fail(AgeProblem::TooLarge))?;
            rest = &rest[digits_end..];
            if rest.starts_with(['.', ',']) {
                return Err(fail(AgeProblem::Fraction));
            }
            rest = rest.trim_start();
            let unit_end = rest
                .find(|c: char| !c.is_alphabetic())
                .unwrap_or(rest.len());
            if unit_end == 0 {
                return Err(fail(AgeProblem::MissingUnit(number)));
            }
            let unit = rest[..unit_end].to_lowercase();
            rest = rest[unit_end..].trim_start();
            let too_large = || fail(AgeProblem::TooLarge);
            match Unit::parse(&unit).ok_or_else(|| fail(unit_problem(&unit)))? {
                Unit::Months(per) => {
                    let add = number.checked_mul(per).ok_or_else(too_large)?;
                    months = months.checked_add(add).ok_or_else(too_large)?;
                }
                Unit::Seconds(per) => {
                    let add = number.checked_mul(per).ok_or_else(too_large)?;
                    seconds = seconds.checked_add(add).ok_or_else(too_large)?;
                }
            }
        }
        if months == 0 && seconds == 0 {
            return Err(fail(AgeProblem::Zero));
        }
        let approximate = months
            .checked_mul(SECONDS_PER_AVERAGE_MONTH)
            .and_then(|m| m.checked_add(seconds));
        if approximate.is_none_or(|total| total > LONGEST_AGE_SECONDS) {
            return Err(fail(AgeProblem::TooLarge));
        }
        Ok(Age {
            source: input.to_owned(),
            months: u32::try_from(months).map_err(|_| fail(AgeProblem::TooLarge))?,
            seconds,
        })
    }

    /// The age as it was written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The instant `self` before `now`: versions older than this (strictly before it) are old
    /// enough. Calendar months are subtracted first, then the fixed part. If that falls outside
    /// the representable dates, the earliest representable instant is returned, so nothing is
    /// old enough.
    pub fn cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        // At most 100 years of seconds (checked in `parse`), so this always fits an i64.
        let fixed = TimeDelta::seconds(i64::try_from(self.seconds).unwrap_or(i64::MAX / 1000));
        now.checked_sub_months(Months::new(self.months))
            .and_then(|t| t.checked_sub_signed(fixed))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

enum Unit {
    Months(u64),
    Seconds(u64),
}

impl Unit {
    fn parse(unit: &str) -> Option<Unit> {
        Some(match unit {
            "min" | "mins" | "minute" | "minutes" => Unit::Seconds(SECONDS_PER_MINUTE),
            "h" | "hr" | "hrs" | "hour" | "hours" => Unit::Seconds(SECONDS_PER_HOUR),
            "d" | "day" | "days" => Unit::Seconds(SECONDS_PER_DAY),
            "w" | "wk" | "wks" | "week" | "weeks" => Unit::Seconds(SECONDS_PER_WEEK),
            "mo" | "mos" | "mon" | "month" | "months" => Unit::Months(1),
            "y" | "yr" | "yrs" | "year" | "years" => Unit::Months(12),
            _ => return None,
        })
    }
}

fn unit_problem(unit: &str) -> AgeProblem {
    if unit == "m" {
        AgeProblem::AmbiguousUnit
    } else {
        AgeProblem::UnknownUnit(unit.to_owned())
    }
}

impl FromStr for Age {
    type Err = AgeError;
    fn from_str(input: &str) -> Result<Age, AgeError> {
        Age::parse(input)
    }
}

impl fmt::Display for Age {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Serialize for Age {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Age {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Age::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Age {
    fn schema_name() -> String {
        "Age".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        string_schema(
            "An age such as `30d`, `2w`, `12h`, `6 months` or `1y`; months and years are calendar months.",
        )
    }
}

pub(crate) fn string_schema(description: &str) -> Schema {
    SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        metadata: Some(Box::new(Metadata {
            description: Some(description.to_owned()),
            ..Metadata::default()
        })),
        ..SchemaObject::default()
    }
    .into()
}

/// An age that could not be parsed: the input and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid age `{input}`: {problem}; write a whole number and a unit, like `30d`, `2w`, `12h`, `6 months` or `1y`"
)]
pub struct AgeError {
    input: String,
    problem: AgeProblem,
}

impl AgeError {
    /// The text that was given.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &AgeProblem {
        &self.problem
    }
}

/// What is wrong with an age.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgeProblem {
    /// Nothing was given.
    #[error("it is empty")]
    Empty,
    /// More than 64 characters.
    #[error("it is longer than {LONGEST_INPUT} characters")]
    TooLong,
    /// A minus sign: ages count back from now and are always positive.
    #[error("ages cannot be negative")]
    Negative,
    /// A decimal point: numbers are whole.
    #[error("numbers must be whole (write `36h`, not `1.5d`)")]
    Fraction,
    /// A unit without a number before it.
    #[error("a unit needs a number before it")]
    MissingNumber,
    /// A number without a unit after it.
    #[error("`{0}` needs a unit (`{0}d`, `{0}w`, ...)")]
    MissingUnit(u64),
    /// A unit that is not one of the known ones.
    #[error(
        "unknown unit `{0}` (use min, h, d, w, mo or y, or the words: minutes, hours, days, weeks, months, years)"
    )]
    UnknownUnit(String),
    /// `m`, which could be minutes or months.
    #[error("`m` could mean minutes or months: write `min` or `mo`")]
    AmbiguousUnit,
    /// A character that has no place in an age.
    #[error("unexpected `{0}`")]
    Unexpected(char),
    /// The total is zero: every version would be old enough.
    #[error("it is zero, which would make every version old enough")]
    Zero,
    /// More than 100 years, or a number too large to count.
    #[error("it is more than 100 years")]
    TooLarge,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 31, 10, 0, 0).unwrap()
    }

    fn cutoff(text: &str) -> DateTime<Utc> {
        Age::parse(text).unwrap().cutoff(now())
    }

    fn problem(text: &str) -> AgeProblem {
        Age::parse(text).unwrap_err().problem().clone()
    }

    #[test]
    fn fixed_units_are_exact_durations() {
        assert_eq!(cutoff("30d"), now() - TimeDelta::days(30));
        assert_eq!(cutoff("90 days"), now() - TimeDelta::days(90));
        assert_eq!(cutoff("2w"), now() - TimeDelta::days(14));
        assert_eq!(cutoff("12h"), now() - TimeDelta::hours(12));
        assert_eq!(cutoff("45min"), now() - TimeDelta::minutes(45));
        assert_eq!(cutoff("1 Week"), now() - TimeDelta::days(7));
    }

    #[test]
    fn months_and_years_are_calendar_months() {
        assert_eq!(
            cutoff("1 month"),
            Utc.with_ymd_and_hms(2024, 2, 29, 10, 0, 0).unwrap()
        );
        assert_eq!(
            cutoff("6 months"),
            Utc.with_ymd_and_hms(2023, 9, 30, 10, 0, 0).unwrap()
        );
        assert_eq!(
            cutoff("1y"),
            Utc.with_ymd_and_hms(2023, 3, 31, 10, 0, 0).unwrap()
        );
        assert_eq!(
            cutoff("2mo"),
            Utc.with_ymd_and_hms(2024, 1, 31, 10, 0, 0).unwrap()
        );
    }

    #[test]
    fn parts_add_up_months_first() {
        assert_eq!(cutoff("1w2d"), now() - TimeDelta::days(9));
        assert_eq!(
            cutoff("1 month 1d"),
            Utc.with_ymd_and_hms(2024, 2, 28, 10, 0, 0).unwrap()
        );
        assert_eq!(cutoff("1d 12h"), now() - TimeDelta::hours(36));
    }

    #[test]
    fn the_source_text_is_kept_for_the_plan() {
        let age = Age::parse(" 6 months").unwrap();
        assert_eq!(age.as_str(), " 6 months");
        assert_eq!(serde_json::to_string(&age).unwrap(), "\" 6 months\"");
        let back: Age = serde_json::from_str("\" 6 months\"").unwrap();
        assert_eq!(back, age);
    }

    #[test]
    fn bad_ages_say_what_is_wrong() {
        assert_eq!(problem(""), AgeProblem::Empty);
        assert_eq!(problem("   "), AgeProblem::Empty);
        assert_eq!(problem("-3d"), AgeProblem::Negative);
        assert_eq!(problem("1.5d"), AgeProblem::Fraction);
        assert_eq!(problem("d"), AgeProblem::MissingNumber);
        assert_eq!(problem("30"), AgeProblem::MissingUnit(30));
        assert_eq!(
            problem("3 fortnights"),
            AgeProblem::UnknownUnit("fortnights".into())
        );
        assert_eq!(problem("5m"), AgeProblem::AmbiguousUnit);
        assert_eq!(problem("0d"), AgeProblem::Zero);
        assert_eq!(problem("0d 0h"), AgeProblem::Zero);
        assert_eq!(problem("3d+"), AgeProblem::Unexpected('+'));
        assert_eq!(problem(&"1".repeat(65)), AgeProblem::TooLong);
    }

    #[test]
    fn absurd_ages_are_refused() {
        assert_eq!(problem("101y"), AgeProblem::TooLarge);
        assert_eq!(problem("1201 months"), AgeProblem::TooLarge);
        assert_eq!(problem("99999999999999999999999d"), AgeProblem::TooLarge);
        assert_eq!(problem("18446744073709551615w"), AgeProblem::TooLarge);
        assert_eq!(problem("99y 2y"), AgeProblem::TooLarge);
        assert!(Age::parse("100y").is_ok());
        assert!(Age::parse("36500d").is_ok());
    }

    #[test]
    fn the_error_message_names_the_input_and_shows_an_example() {
        let message = Age::parse("1.5d").unwrap_err().to_string();
        assert!(message.contains("`1.5d`"), "{message}");
        assert!(message.contains("36h"), "{message}");
        assert!(message.contains("`30d`"), "{message}");
    }

    #[test]
    fn a_cutoff_before_the_first_representable_date_selects_nothing() {
        let age = Age::parse("100y").unwrap();
        assert_eq!(
            age.cutoff(DateTime::<Utc>::MIN_UTC),
            DateTime::<Utc>::MIN_UTC
        );
    }
}
