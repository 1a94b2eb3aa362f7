//! Switchable failures for resilience tests, drawn from the server's seeded generator so that
//! the same seed and request order give the same faults.
//!
//! Each request suffers at most one fault, of one of two kinds:
//!
//! - **refusals**, decided and acted on before the operation runs, which never change state:
//!   server errors (`5xx`), dropped connections (`drop`), injected secondary-limit `403`s
//!   (`secondary`) and `429`s (`429`); `slow` only delays the request;
//! - **lost answers**, acted on after the operation ran, so a change is applied: `lost` closes
//!   the connection without an answer, `truncate` cuts the answer short (for reads, the body;
//!   for a change, whatever answer it got).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use axum::http::StatusCode;
use rand::Rng;

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

/// The kinds of fault, in the order a draw tries them (kept stable so seeds repeat).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FaultKind {
    Error,
    Drop,
    Truncate,
    Slow,
    Lost,
    Secondary,
    TooMany,
}

impl FaultKind {
    const ALL: [FaultKind; 7] = [
        FaultKind::Error,
        FaultKind::Drop,
        FaultKind::Truncate,
        FaultKind::Slow,
        FaultKind::Lost,
        FaultKind::Secondary,
        FaultKind::TooMany,
    ];

    /// The name in the CLI form.
    fn name(self) -> &'static str {
        match self {
            FaultKind::Error => "5xx",
            FaultKind::Drop => "drop",
            FaultKind::Truncate => "truncate",
            FaultKind::Slow => "slow",
            FaultKind::Lost => "lost",
            FaultKind::Secondary => "secondary",
            FaultKind::TooMany => "429",
        }
    }

    fn from_name(name: &str) -> Option<FaultKind> {
        match name {
            "500" | "5xx" | "error" => Some(FaultKind::Error),
            "drop" => Some(FaultKind::Drop),
            "truncate" => Some(FaultKind::Truncate),
            "slow" => Some(FaultKind::Slow),
            "lost" => Some(FaultKind::Lost),
            "secondary" => Some(FaultKind::Secondary),
            "429" | "too_many" => Some(FaultKind::TooMany),
            _ => None,
        }
    }
}

impl Faults {
    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    fn rate(&self, kind: FaultKind) -> f64 {
        match kind {
            FaultKind::Error => self.error_rate,
            FaultKind::Drop => self.drop_rate,
            FaultKind::Truncate => self.truncate_rate,
            FaultKind::Slow => self.slow_rate,
            FaultKind::Lost => self.lost_rate,
            FaultKind::Secondary => self.secondary_rate,
            FaultKind::TooMany => self.too_many_rate,
        }
    }

    fn rate_mut(&mut self, kind: FaultKind) -> &mut f64 {
        match kind {
            FaultKind::Error => &mut self.error_rate,
            FaultKind::Drop => &mut self.drop_rate,
            FaultKind::Truncate => &mut self.truncate_rate,
            FaultKind::Slow => &mut self.slow_rate,
            FaultKind::Lost => &mut self.lost_rate,
            FaultKind::Secondary => &mut self.secondary_rate,
            FaultKind::TooMany => &mut self.too_many_rate,
        }
    }

    /// Whether no fault can happen.
    pub fn is_none(&self) -> bool {
        FaultKind::ALL.iter().all(|kind| self.rate(*kind) <= 0.0)
    }

    /// Checks that every rate is within 0–1, that they sum to at most 1, and that server errors
    /// have at least one status, each between 500 and 599.
    pub fn validate(&self) -> Result<(), FaultsParseError> {
        for kind in FaultKind::ALL {
            let rate = self.rate(kind);
            if !(0.0..=1.0).contains(&rate) {
                return Err(FaultsParseError(format!(
                    "{}={rate}: a rate must be between 0 and 1",
                    kind.name()
                )));
            }
        }
        let total: f64 = FaultKind::ALL.iter().map(|kind| self.rate(*kind)).sum();
        if total > 1.0 + 1e-9 {
            return Err(FaultsParseError(format!(
                "the rates add up to {total}, more than 1"
            )));
        }
        if self.error_rate > 0.0 && self.error_statuses.is_empty() {
            return Err(FaultsParseError(
                "5xx faults need at least one status".to_owned(),
            ));
        }
        if let Some(status) = self
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

    /// Draws the fault for one request.
    pub(crate) fn draw(&self, rng: &mut impl Rng) -> Fault {
        if self.is_none() {
            return Fault::None;
        }
        let mut draw: f64 = rng.random();
        for kind in FaultKind::ALL {
            let rate = self.rate(kind);
            if draw < rate {
                return self.fault_of(kind, rng);
            }
            draw -= rate;
        }
        Fault::None
    }

    fn fault_of(&self, kind: FaultKind, rng: &mut impl Rng) -> Fault {
        match kind {
            FaultKind::Error => {
                let status = self.error_statuses[rng.random_range(0..self.error_statuses.len())];
                Fault::Error(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                )
            }
            FaultKind::Drop => Fault::Drop,
            FaultKind::Truncate => Fault::Truncate,
            FaultKind::Slow => Fault::Slow(self.slow_by),
            FaultKind::Lost => Fault::Lost,
            FaultKind::Secondary => Fault::SecondaryLimit {
                retry_after: self.secondary_retry_after,
            },
            FaultKind::TooMany => Fault::TooManyRequests {
                retry_after: self.too_many_retry_after,
            },
        }
    }
}

/// The fault chosen for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
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
    SecondaryLimit {
        retry_after: Option<Duration>,
    },
    /// Refuse with `429 Too Many Requests`.
    TooManyRequests {
        retry_after: Option<Duration>,
    },
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
    /// an empty string mean no faults):
    ///
    /// - `5xx=0.05` (also `500` or `error`), `5xx=0.05:502|503` to choose the statuses;
    /// - `drop=0.01`, `lost=0.01`, `truncate=0.01`;
    /// - `slow=0.01:2s` (2 s when the duration is left out);
    /// - `secondary=0.01:60s` and `429=0.01:60s` (also `too_many`), with `Retry-After` in
    ///   seconds or as a duration, or `none` to send none (60 s when left out).
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
            let kind = FaultKind::from_name(name.trim()).ok_or_else(|| {
                FaultsParseError(format!(
                    "unknown fault {:?} (known: 5xx, drop, lost, truncate, slow, secondary, 429)",
                    name.trim()
                ))
            })?;
            *faults.rate_mut(kind) = rate;
            match (kind, option) {
                (_, None) => {}
                (FaultKind::Error, Some(statuses)) => {
                    faults.error_statuses = parse_statuses(statuses, part)?;
                }
                (FaultKind::Slow, Some(duration)) => {
                    faults.slow_by = humantime::parse_duration(duration.trim()).map_err(|e| {
                        FaultsParseError(format!("{duration:?} in {part:?} is not a duration: {e}"))
                    })?;
                }
                (FaultKind::Secondary, Some(retry_after)) => {
                    faults.secondary_retry_after = parse_retry_after(retry_after, part)?;
                }
                (FaultKind::TooMany, Some(retry_after)) => {
                    faults.too_many_retry_after = parse_retry_after(retry_after, part)?;
                }
                (FaultKind::Drop | FaultKind::Lost | FaultKind::Truncate, Some(_)) => {
                    return Err(FaultsParseError(format!(
                        "{} takes no option, in {part:?}",
                        kind.name()
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
        for kind in FaultKind::ALL {
            let rate = self.rate(kind);
            if rate <= 0.0 {
                continue;
            }
            let option = match kind {
                FaultKind::Error if self.error_statuses == DEFAULT_ERROR_STATUSES => None,
                FaultKind::Error => Some(
                    self.error_statuses
                        .iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join("|"),
                ),
                FaultKind::Slow => Some(humantime::format_duration(self.slow_by).to_string()),
                FaultKind::Secondary => Some(format_retry_after(self.secondary_retry_after)),
                FaultKind::TooMany => Some(format_retry_after(self.too_many_retry_after)),
                FaultKind::Drop | FaultKind::Lost | FaultKind::Truncate => None,
            };
            match option {
                Some(option) => parts.push(format!("{}={rate}:{option}", kind.name())),
                None => parts.push(format!("{}={rate}", kind.name())),
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
        let draws: Vec<Fault> = (0..10_000).map(|_| faults.draw(&mut rng)).collect();
        let errors = draws
            .iter()
            .filter(|f| matches!(f, Fault::Error(_)))
            .count();
        let drops = draws.iter().filter(|f| **f == Fault::Drop).count();
        assert!((1_800..2_200).contains(&errors), "{errors}");
        assert!((800..1_200).contains(&drops), "{drops}");
    }

    #[test]
    fn server_errors_take_only_the_chosen_statuses() {
        let faults: Faults = "5xx=1:502|503".parse().unwrap();
        let mut rng = StdRng::seed_from_u64(3);
        let statuses: std::collections::BTreeSet<u16> = (0..1_000)
            .map(|_| match faults.draw(&mut rng) {
                Fault::Error(status) => status.as_u16(),
                other => panic!("expected a server error, drew {other:?}"),
            })
            .collect();
        assert_eq!(statuses.into_iter().collect::<Vec<_>>(), [502, 503]);
    }

    #[test]
    fn new_kinds_are_drawn_at_their_rates() {
        let faults: Faults = "lost=0.2,secondary=0.1,429=0.1".parse().unwrap();
        let mut rng = StdRng::seed_from_u64(5);
        let draws: Vec<Fault> = (0..10_000).map(|_| faults.draw(&mut rng)).collect();
        let count = |wanted: fn(&Fault) -> bool| draws.iter().filter(|f| wanted(f)).count();
        let lost = count(|f| *f == Fault::Lost);
        let secondary = count(|f| matches!(f, Fault::SecondaryLimit { .. }));
        let too_many = count(|f| matches!(f, Fault::TooManyRequests { .. }));
        assert!((1_800..2_200).contains(&lost), "{lost}");
        assert!((800..1_200).contains(&secondary), "{secondary}");
        assert!((800..1_200).contains(&too_many), "{too_many}");
    }
}
