//! Switchable failures for resilience tests, drawn from the server's seeded generator so that
//! the same seed and request order give the same faults.
//!
//! Every kind of fault is one entry of [`FAULT_KINDS`]: its name in a fault specification, the
//! option it takes, how it is drawn, where in the pipeline it acts and its counter in the stats.
//! What it then does is the server's (`inject_fault_before`, `inject_fault_after`), by its
//! [`Effect`]. Adding a fault is an entry there, its `Faults` fields, its `FaultCounts` counter
//! and its effect; the tests check that every entry parses from its name, is counted under its
//! own counter and is documented.
//!
//! Each API request (a Packages or account operation; never the registry's read side or
//! `/_mock`) suffers at most one fault, acting at one of two stages:
//!
//! - **before the operation**, which never changes state: refusals — server errors (`5xx`),
//!   dropped connections (`drop`), injected secondary-limit `403`s (`secondary`) and `429`s
//!   (`429`) — and `slow`, which only delays the request;
//! - **after the operation**, so a change is applied: `lost` closes the connection without an
//!   answer, `truncate` cuts the answer short (for reads, the body; for a change, whatever
//!   answer it got).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use axum::http::StatusCode;
use rand::{Rng, RngCore};

use crate::stats::FaultCounts;

/// How often each kind of fault happens, as shares of API requests (0.0–1.0, summing to at
/// most 1.0; each request suffers at most one fault).
#[derive(Clone, Debug, PartialEq)]
pub struct Faults {
    /// Share of requests answered with a server error from
    /// [`error_statuses`](Faults::error_statuses), without running the operation.
    pub error_rate: f64,
    /// The statuses of server errors, picked evenly (default `500`, `502`, `503`).
    pub error_statuses: Vec<u16>,
    /// Share of requests whose connection is closed without an answer, before the operation
    /// runs (nothing is changed).
    pub drop_rate: f64,
    /// Share of requests whose operation runs (a change is applied) and whose connection is then
    /// closed without an answer.
    pub lost_rate: f64,
    /// Share of requests whose operation runs and whose answer is then cut short: a body is cut
    /// in half under a `Content-Length` that promises all of it; an answer without a body (a
    /// `204`) breaks off inside its status line.
    pub truncate_rate: f64,
    /// Share of requests delayed by an extra [`slow_by`](Faults::slow_by).
    pub slow_rate: f64,
    /// The extra delay of a slow request.
    pub slow_by: Duration,
    /// Share of requests refused with GitHub's secondary-rate-limit `403`, without running the
    /// operation.
    pub secondary_rate: f64,
    /// The `Retry-After` of an injected secondary-limit `403`; `None` sends none, as GitHub
    /// sometimes does (clients should then wait at least a minute).
    pub secondary_retry_after: Option<Duration>,
    /// Share of requests refused with `429 Too Many Requests`, without running the operation.
    pub too_many_rate: f64,
    /// The `Retry-After` of an injected `429`; `None` sends none.
    pub too_many_retry_after: Option<Duration>,
}

/// The default statuses of `5xx` faults.
pub(crate) const DEFAULT_ERROR_STATUSES: [u16; 3] = [500, 502, 503];
/// The default extra delay of `slow=RATE` without `:DURATION`.
const DEFAULT_SLOW_BY: Duration = Duration::from_secs(2);
/// The default `Retry-After` of injected rate-limit refusals without `:DURATION`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

impl Default for Faults {
    fn default() -> Self {
        Self {
            error_rate: 0.0,
            error_statuses: DEFAULT_ERROR_STATUSES.to_vec(),
            drop_rate: 0.0,
            lost_rate: 0.0,
            truncate_rate: 0.0,
            slow_rate: 0.0,
            slow_by: DEFAULT_SLOW_BY,
            secondary_rate: 0.0,
            secondary_retry_after: Some(DEFAULT_RETRY_AFTER),
            too_many_rate: 0.0,
            too_many_retry_after: Some(DEFAULT_RETRY_AFTER),
        }
    }
}

/// Where in the pipeline a kind of fault acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// In `inject_fault_before`: after authentication and the rate limits, before the scope
    /// check and the operation, so nothing is changed.
    BeforeOperation,
    /// In `inject_fault_after`: on the operation's answer, after any change was applied.
    AfterOperation,
}

/// One kind of fault: everything the emulator knows about it but what it does.
#[derive(Debug)]
pub(crate) struct FaultKind {
    /// Its name in a fault specification (`--faults`, `Faults`'s `Display`).
    pub name: &'static str,
    /// Other names it is parsed from.
    pub aliases: &'static [&'static str],
    /// Its form in a specification, for `--help` (`slow=R[:DURATION]`).
    pub usage: &'static str,
    /// What it does, for `--help`.
    pub summary: &'static str,
    /// Where it acts.
    pub stage: Stage,
    /// Its share of requests.
    rate: fn(&Faults) -> f64,
    /// Sets its share of requests.
    set_rate: fn(&mut Faults, f64),
    /// The `:OPTION` it takes, if any.
    option: Option<FaultOption>,
    /// What it does to one request, drawn with the server's generator.
    effect: fn(&Faults, &mut dyn RngCore) -> Effect,
    /// Its counter in [`FaultCounts`].
    counter: fn(&mut FaultCounts) -> &mut u64,
    /// That counter's name in the stats JSON (`GET /_mock/stats`).
    pub counter_name: &'static str,
}

/// The `:OPTION` of a kind of fault.
#[derive(Debug)]
struct FaultOption {
    /// Reads the option's text (the specification part it came in, for errors) into `Faults`.
    parse: fn(&mut Faults, &str, &str) -> Result<(), FaultsParseError>,
    /// The option as `Display` prints it; `None` to leave it out.
    print: fn(&Faults) -> Option<String>,
    /// Checks the option's value in `Faults`.
    check: fn(&Faults) -> Result<(), FaultsParseError>,
}

/// Every kind of fault, in the order a draw tries them (kept stable so seeds repeat).
pub(crate) static FAULT_KINDS: [FaultKind; 7] = [
    FaultKind {
        name: "5xx",
        aliases: &["500", "error"],
        usage: "5xx=R[:502|503]",
        summary: "a server error instead of the operation, its status picked evenly from the \
                  listed ones (default 500|502|503)",
        stage: Stage::BeforeOperation,
        rate: |faults| faults.error_rate,
        set_rate: |faults, rate| faults.error_rate = rate,
        option: Some(FaultOption {
            parse: |faults, text, part| {
                faults.error_statuses = parse_statuses(text, part)?;
                Ok(())
            },
            print: |faults| {
                (faults.error_statuses != DEFAULT_ERROR_STATUSES).then(|| {
                    let statuses: Vec<String> =
                        faults.error_statuses.iter().map(u16::to_string).collect();
                    statuses.join("|")
                })
            },
            check: check_error_statuses,
        }),
        effect: |faults, rng| {
            let status = faults.error_statuses[rng.random_range(0..faults.error_statuses.len())];
            Effect::Error(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        },
        counter: |counts| &mut counts.errors,
        counter_name: "errors",
    },
    FaultKind {
        name: "drop",
        aliases: &[],
        usage: "drop=R",
        summary: "the connection is closed without an answer, before the operation runs",
        stage: Stage::BeforeOperation,
        rate: |faults| faults.drop_rate,
        set_rate: |faults, rate| faults.drop_rate = rate,
        option: None,
        effect: |_, _| Effect::Drop,
        counter: |counts| &mut counts.drops,
        counter_name: "drops",
    },
    FaultKind {
        name: "truncate",
        aliases: &[],
        usage: "truncate=R",
        summary: "the operation runs, then its answer is cut short",
        stage: Stage::AfterOperation,
        rate: |faults| faults.truncate_rate,
        set_rate: |faults, rate| faults.truncate_rate = rate,
        option: None,
        effect: |_, _| Effect::Truncate,
        counter: |counts| &mut counts.truncations,
        counter_name: "truncations",
    },
    FaultKind {
        name: "slow",
        aliases: &[],
        usage: "slow=R[:DURATION]",
        summary: "the request is delayed by DURATION (default 2s)",
        stage: Stage::BeforeOperation,
        rate: |faults| faults.slow_rate,
        set_rate: |faults, rate| faults.slow_rate = rate,
        option: Some(FaultOption {
            parse: |faults, text, part| {
                faults.slow_by = humantime::parse_duration(text.trim()).map_err(|e| {
                    FaultsParseError(format!("{text:?} in {part:?} is not a duration: {e}"))
                })?;
                Ok(())
            },
            print: |faults| Some(humantime::format_duration(faults.slow_by).to_string()),
            check: |_| Ok(()),
        }),
        effect: |faults, _| Effect::Slow(faults.slow_by),
        counter: |counts| &mut counts.slowdowns,
        counter_name: "slowdowns",
    },
    FaultKind {
        name: "lost",
        aliases: &[],
        usage: "lost=R",
        summary: "the operation runs (a change is applied), then the connection is closed \
                  without an answer",
        stage: Stage::AfterOperation,
        rate: |faults| faults.lost_rate,
        set_rate: |faults, rate| faults.lost_rate = rate,
        option: None,
        effect: |_, _| Effect::Lost,
        counter: |counts| &mut counts.lost,
        counter_name: "lost",
    },
    FaultKind {
        name: "secondary",
        aliases: &[],
        usage: "secondary=R[:RETRY_AFTER|none]",
        summary: "GitHub's secondary-rate-limit 403, with Retry-After (default 60s; none: \
                  without), instead of the operation",
        stage: Stage::BeforeOperation,
        rate: |faults| faults.secondary_rate,
        set_rate: |faults, rate| faults.secondary_rate = rate,
        option: Some(FaultOption {
            parse: |faults, text, part| {
                faults.secondary_retry_after = parse_retry_after(text, part)?;
                Ok(())
            },
            print: |faults| Some(format_retry_after(faults.secondary_retry_after)),
            check: |_| Ok(()),
        }),
        effect: |faults, _| Effect::SecondaryLimit {
            retry_after: faults.secondary_retry_after,
        },
        counter: |counts| &mut counts.secondary_limits,
        counter_name: "secondary_limits",
    },
    FaultKind {
        name: "429",
        aliases: &["too_many"],
        usage: "429=R[:RETRY_AFTER|none]",
        summary: "429 Too Many Requests, with the same Retry-After rules, instead of the \
                  operation",
        stage: Stage::BeforeOperation,
        rate: |faults| faults.too_many_rate,
        set_rate: |faults, rate| faults.too_many_rate = rate,
        option: Some(FaultOption {
            parse: |faults, text, part| {
                faults.too_many_retry_after = parse_retry_after(text, part)?;
                Ok(())
            },
            print: |faults| Some(format_retry_after(faults.too_many_retry_after)),
            check: |_| Ok(()),
        }),
        effect: |faults, _| Effect::TooManyRequests {
            retry_after: faults.too_many_retry_after,
        },
        counter: |counts| &mut counts.too_many_requests,
        counter_name: "too_many_requests",
    },
];

impl FaultKind {
    /// The kind named `name` (or one of its aliases) in a specification.
    fn named(name: &str) -> Option<&'static FaultKind> {
        FAULT_KINDS
            .iter()
            .find(|kind| kind.name == name || kind.aliases.contains(&name))
    }

    /// Its count in `counts`.
    pub(crate) fn count_in(&self, counts: &FaultCounts) -> u64 {
        let mut counts = *counts;
        *(self.counter)(&mut counts)
    }

    /// Counts one more of it in `counts`.
    pub(crate) fn record_in(&self, counts: &mut FaultCounts) {
        *(self.counter)(counts) += 1;
    }
}

/// Server errors need at least one status when they can happen, each between 500 and 599.
fn check_error_statuses(faults: &Faults) -> Result<(), FaultsParseError> {
    if faults.error_rate > 0.0 && faults.error_statuses.is_empty() {
        return Err(FaultsParseError(
            "5xx faults need at least one status".to_owned(),
        ));
    }
    if let Some(status) = faults
        .error_statuses
        .iter()
        .find(|status| !(500..=599).contains(*status))
    {
        return Err(FaultsParseError(format!(
            "{status} is not a server error status (500-599)"
        )));
    }
    Ok(())
}

impl Faults {
    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether no fault can happen.
    pub fn is_none(&self) -> bool {
        FAULT_KINDS.iter().all(|kind| (kind.rate)(self) <= 0.0)
    }

    /// Checks that every rate is within 0–1, that they sum to at most 1, and that each option
    /// holds (server errors have at least one status, each between 500 and 599).
    pub fn validate(&self) -> Result<(), FaultsParseError> {
        for kind in &FAULT_KINDS {
            let rate = (kind.rate)(self);
            if !(0.0..=1.0).contains(&rate) {
                return Err(FaultsParseError(format!(
                    "{}={rate}: a rate must be between 0 and 1",
                    kind.name
                )));
            }
        }
        let total: f64 = FAULT_KINDS.iter().map(|kind| (kind.rate)(self)).sum();
        if total > 1.0 + 1e-9 {
            return Err(FaultsParseError(format!(
                "the rates add up to {total}, more than 1"
            )));
        }
        for option in FAULT_KINDS.iter().filter_map(|kind| kind.option.as_ref()) {
            (option.check)(self)?;
        }
        Ok(())
    }

    /// What `--faults` accepts, one line per kind of fault, for `ghpkg-mock serve --help`.
    pub fn help() -> String {
        let mut help = String::from(
            "Injected faults: a comma-separated list of NAME=RATE[:OPTION], rates being shares \
             of API requests (0-1, summing to at most 1; each request suffers at most one), or \
             `none`:\n",
        );
        for kind in &FAULT_KINDS {
            let aliases = if kind.aliases.is_empty() {
                String::new()
            } else {
                format!(" (also {})", kind.aliases.join(", "))
            };
            help.push_str(&format!(
                "  {}{aliases}: {}; counted as faults.{} in /_mock/stats\n",
                kind.usage, kind.summary, kind.counter_name
            ));
        }
        help.push_str(
            "e.g. `5xx=0.05:502|503,drop=0.01,lost=0.01,truncate=0.01,slow=0.01:2s,\
             secondary=0.01:60s,429=0.01:none` (see the README)",
        );
        help
    }

    /// Draws the fault for one request, if any.
    pub(crate) fn draw(&self, rng: &mut impl Rng) -> Option<Fault> {
        if self.is_none() {
            return None;
        }
        let mut draw: f64 = rng.random();
        for kind in &FAULT_KINDS {
            let rate = (kind.rate)(self);
            if draw < rate {
                let effect = (kind.effect)(self, rng);
                return Some(Fault { kind, effect });
            }
            draw -= rate;
        }
        None
    }
}

/// The fault drawn for one request: its kind (its stage and counter) and what it does.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fault {
    /// Its entry of [`FAULT_KINDS`].
    pub kind: &'static FaultKind,
    /// What it does.
    pub effect: Effect,
}

/// What a fault does to its request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Refuse with this server error.
    Error(StatusCode),
    /// Close the connection before the operation runs.
    Drop,
    /// Run the operation, then cut its answer short.
    Truncate,
    /// Delay the request.
    Slow(Duration),
    /// Run the operation, then close the connection without an answer.
    Lost,
    /// Refuse with the secondary-rate-limit `403`.
    SecondaryLimit { retry_after: Option<Duration> },
    /// Refuse with `429 Too Many Requests`.
    TooManyRequests { retry_after: Option<Duration> },
}

/// A fault specification that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid fault specification: {0} (expected e.g. \"5xx=0.05:502|503,drop=0.01,lost=0.01,truncate=0.01,slow=0.01:2s,secondary=0.01:60s,429=0.01:none\")"
)]
pub struct FaultsParseError(String);

/// Parses a `Retry-After` option: a duration (`60s`, `1m`, or bare seconds `60`) or `none`.
fn parse_retry_after(text: &str, part: &str) -> Result<Option<Duration>, FaultsParseError> {
    let text = text.trim();
    if text == "none" {
        return Ok(None);
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Some(Duration::from_secs(seconds)));
    }
    humantime::parse_duration(text).map(Some).map_err(|e| {
        FaultsParseError(format!(
            "{text:?} in {part:?} is not a duration or \"none\": {e}"
        ))
    })
}

/// Parses `502|503` into statuses.
fn parse_statuses(text: &str, part: &str) -> Result<Vec<u16>, FaultsParseError> {
    text.split('|')
        .map(|status| {
            status.trim().parse::<u16>().map_err(|_| {
                FaultsParseError(format!("{status:?} in {part:?} is not an HTTP status"))
            })
        })
        .collect()
}

fn format_retry_after(retry_after: Option<Duration>) -> String {
    retry_after.map_or_else(
        || "none".to_owned(),
        |d| humantime::format_duration(d).to_string(),
    )
}

impl FromStr for Faults {
    type Err = FaultsParseError;

    /// Parses a comma-separated list of `NAME=RATE[:OPTION]` (any subset, any order; `none` or
    /// an empty string mean no faults); the names and options are [`Faults::help`]'s.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut faults = Faults::none();
        let spec = spec.trim();
        if spec.is_empty() || spec == "none" {
            return Ok(faults);
        }
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| FaultsParseError(format!("{part:?} has no '='")))?;
            let (rate, option) = match value.split_once(':') {
                Some((rate, option)) => (rate, Some(option)),
                None => (value, None),
            };
            let rate: f64 = rate
                .trim()
                .parse()
                .map_err(|_| FaultsParseError(format!("{rate:?} in {part:?} is not a number")))?;
            let kind = FaultKind::named(name.trim()).ok_or_else(|| {
                let known: Vec<&str> = FAULT_KINDS.iter().map(|kind| kind.name).collect();
                FaultsParseError(format!(
                    "unknown fault {:?} (known: {})",
                    name.trim(),
                    known.join(", ")
                ))
            })?;
            (kind.set_rate)(&mut faults, rate);
            match (&kind.option, option) {
                (_, None) => {}
                (Some(parser), Some(text)) => (parser.parse)(&mut faults, text, part)?,
                (None, Some(_)) => {
                    return Err(FaultsParseError(format!(
                        "{} takes no option, in {part:?}",
                        kind.name
                    )));
                }
            }
        }
        faults.validate()?;
        Ok(faults)
    }
}

impl fmt::Display for Faults {
    /// The CLI form, which parses back to the same `Faults`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            return f.write_str("none");
        }
        let mut parts = Vec::new();
        for kind in &FAULT_KINDS {
            let rate = (kind.rate)(self);
            if rate <= 0.0 {
                continue;
            }
            match kind.option.as_ref().and_then(|option| (option.print)(self)) {
                Some(option) => parts.push(format!("{}={rate}:{option}", kind.name)),
                None => parts.push(format!("{}={rate}", kind.name)),
            }
        }
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn the_old_cli_form_still_parses_and_prints_back() {
        let faults: Faults = "500=0.05,drop=0.01,truncate=0.01,slow=0.01:2s"
            .parse()
            .unwrap();
        assert_eq!(
            faults,
            Faults {
                error_rate: 0.05,
                drop_rate: 0.01,
                truncate_rate: 0.01,
                slow_rate: 0.01,
                slow_by: Duration::from_secs(2),
                ..Faults::none()
            }
        );
        assert_eq!(faults.error_statuses, [500, 502, 503]);
        assert_eq!(faults.to_string().parse::<Faults>().unwrap(), faults);
        assert!("none".parse::<Faults>().unwrap().is_none());
        assert_eq!("error=0.1".parse::<Faults>().unwrap().error_rate, 0.1);
    }

    #[test]
    fn every_new_fault_parses_and_round_trips_through_display() {
        let faults: Faults =
            "5xx=0.05:502|503,lost=0.02,secondary=0.01:30s,429=0.01:none,truncate=0.01"
                .parse()
                .unwrap();
        assert_eq!(
            faults,
            Faults {
                error_rate: 0.05,
                error_statuses: vec![502, 503],
                lost_rate: 0.02,
                truncate_rate: 0.01,
                secondary_rate: 0.01,
                secondary_retry_after: Some(Duration::from_secs(30)),
                too_many_rate: 0.01,
                too_many_retry_after: None,
                ..Faults::none()
            }
        );
        let printed = faults.to_string();
        assert!(printed.contains("5xx=0.05:502|503"), "{printed}");
        assert!(printed.contains("429=0.01:none"), "{printed}");
        assert_eq!(printed.parse::<Faults>().unwrap(), faults);
        let defaults: Faults = "secondary=0.5,too_many=0.5".parse().unwrap();
        assert_eq!(
            defaults.secondary_retry_after,
            Some(Duration::from_secs(60))
        );
        assert_eq!(defaults.too_many_retry_after, Some(Duration::from_secs(60)));
        assert_eq!(
            "secondary=1:90"
                .parse::<Faults>()
                .unwrap()
                .secondary_retry_after,
            Some(Duration::from_secs(90))
        );
    }

    #[test]
    fn nonsense_is_rejected_with_a_reason() {
        for (spec, reason) in [
            ("500=2", "between 0 and 1"),
            ("500=0.6,drop=0.6", "add up"),
            ("lost=0.6,secondary=0.6", "add up"),
            ("boom=0.1", "unknown fault"),
            ("drop", "no '='"),
            ("drop=0.1:2s", "takes no option"),
            ("lost=0.1:2s", "takes no option"),
            ("5xx=0.1:404", "not a server error"),
            ("5xx=0.1:abc", "not an HTTP status"),
            ("secondary=0.1:soon", "not a duration"),
        ] {
            let error = spec.parse::<Faults>().unwrap_err().to_string();
            assert!(error.contains(reason), "{spec}: {error}");
        }
        let no_statuses = Faults {
            error_rate: 0.1,
            error_statuses: vec![],
            ..Faults::none()
        };
        assert!(no_statuses.validate().is_err());
    }

    #[test]
    fn draws_follow_the_rates() {
        let faults: Faults = "500=0.2,drop=0.1".parse().unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        let draws: Vec<Option<Effect>> = (0..10_000)
            .map(|_| faults.draw(&mut rng).map(|fault| fault.effect))
            .collect();
        let errors = draws
            .iter()
            .filter(|f| matches!(f, Some(Effect::Error(_))))
            .count();
        let drops = draws.iter().filter(|f| **f == Some(Effect::Drop)).count();
        assert!((1_800..2_200).contains(&errors), "{errors}");
        assert!((800..1_200).contains(&drops), "{drops}");
    }

    #[test]
    fn server_errors_take_only_the_chosen_statuses() {
        let faults: Faults = "5xx=1:502|503".parse().unwrap();
        let mut rng = StdRng::seed_from_u64(3);
        let statuses: std::collections::BTreeSet<u16> = (0..1_000)
            .map(|_| match faults.draw(&mut rng).map(|fault| fault.effect) {
                Some(Effect::Error(status)) => status.as_u16(),
                other => panic!("expected a server error, drew {other:?}"),
            })
            .collect();
        assert_eq!(statuses.into_iter().collect::<Vec<_>>(), [502, 503]);
    }

    #[test]
    fn new_kinds_are_drawn_at_their_rates() {
        let faults: Faults = "lost=0.2,secondary=0.1,429=0.1".parse().unwrap();
        let mut rng = StdRng::seed_from_u64(5);
        let draws: Vec<Effect> = (0..10_000)
            .filter_map(|_| faults.draw(&mut rng).map(|fault| fault.effect))
            .collect();
        let count = |wanted: fn(&Effect) -> bool| draws.iter().filter(|f| wanted(f)).count();
        let lost = count(|f| *f == Effect::Lost);
        let secondary = count(|f| matches!(f, Effect::SecondaryLimit { .. }));
        let too_many = count(|f| matches!(f, Effect::TooManyRequests { .. }));
        assert!((1_800..2_200).contains(&lost), "{lost}");
        assert!((800..1_200).contains(&secondary), "{secondary}");
        assert!((800..1_200).contains(&too_many), "{too_many}");
    }

    #[test]
    fn every_kind_parses_from_its_name_and_aliases_and_only_sets_its_own_rate() {
        for kind in &FAULT_KINDS {
            for name in std::iter::once(kind.name).chain(kind.aliases.iter().copied()) {
                let faults: Faults = format!("{name}=0.25").parse().unwrap();
                for other in &FAULT_KINDS {
                    let expected = if std::ptr::eq(other, kind) { 0.25 } else { 0.0 };
                    assert_eq!((other.rate)(&faults), expected, "{name}: {}", other.name);
                }
                assert_eq!(faults.to_string().parse::<Faults>().unwrap(), faults);
                let mut rng = StdRng::seed_from_u64(0);
                let one: Faults = format!("{name}=1").parse().unwrap();
                let drawn = one.draw(&mut rng).expect("a rate of 1 always draws");
                assert!(std::ptr::eq(drawn.kind, kind), "{name}");
            }
        }
    }

    #[test]
    fn every_kind_has_its_own_counter_and_every_counter_a_kind() {
        let json = |counts: &FaultCounts| serde_json::to_value(counts).unwrap();
        let fields: Vec<String> = json(&FaultCounts::default())
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let mut names: Vec<String> = FAULT_KINDS
            .iter()
            .map(|kind| kind.counter_name.to_owned())
            .collect();
        names.sort();
        let mut sorted_fields = fields.clone();
        sorted_fields.sort();
        assert_eq!(
            names, sorted_fields,
            "one counter per kind, one kind per counter"
        );
        for kind in &FAULT_KINDS {
            let mut counts = FaultCounts::default();
            kind.record_in(&mut counts);
            assert_eq!(kind.count_in(&counts), 1);
            assert_eq!(counts.total(), 1);
            for field in &fields {
                let expected = u64::from(field == kind.counter_name);
                assert_eq!(json(&counts)[field], expected, "{}: {field}", kind.name);
            }
        }
    }

    #[test]
    fn every_kind_is_documented_in_the_help_and_the_readme() {
        const README: &str = include_str!("../README.md");
        let help = Faults::help();
        for kind in &FAULT_KINDS {
            assert!(help.contains(kind.usage), "--help lacks {}", kind.usage);
            for name in std::iter::once(kind.name).chain(kind.aliases.iter().copied()) {
                assert!(
                    README.contains(&format!("`{name}=R")),
                    "the README's fault table lacks `{name}=R`"
                );
            }
            assert!(
                README.contains(&format!("`{}`", kind.counter_name)),
                "the README's stats lack the counter `{}`",
                kind.counter_name
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_kind_acts_on_a_request_and_is_counted_once_under_its_counter() {
        use crate::server::{MockOptions, MockServer};
        for kind in &FAULT_KINDS {
            let mut faults: Faults = format!("{}=1", kind.name).parse().unwrap();
            faults.slow_by = Duration::from_millis(1);
            let server = MockServer::start(MockOptions {
                faults,
                ..MockOptions::default()
            })
            .await
            .unwrap();
            let url = format!("{}/users/octocat", server.base_url());
            // `drop`, `lost` and `truncate` leave no usable answer; the count is what matters.
            if let Ok(answer) = reqwest::get(url).await {
                let _ = answer.bytes().await;
            }
            let stats = server.stats();
            assert_eq!(kind.count_in(&stats.faults), 1, "{}", kind.name);
            assert_eq!(stats.faults_injected(), 1, "{}", kind.name);
        }
    }
}
