//! Switchable failures for resilience tests: server errors, dropped connections, cut-short
//! bodies and slow answers, drawn from the server's seeded generator so runs repeat.
//!
//! A fault is decided before the operation runs and a faulted request never changes state:
//! errors and drops answer instead of the operation, and a truncation of a request that would
//! change state (DELETE, POST) answers a cut-short `502` without running it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use axum::http::StatusCode;
use rand::Rng;

/// How often each kind of fault happens, as shares of API requests (0.0–1.0, summing to at
/// most 1.0; each request suffers at most one fault).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Share of requests answered `500`, `502` or `503` (picked evenly).
    pub error_rate: f64,
    /// Share of requests whose connection is closed without an answer.
    pub drop_rate: f64,
    /// Share of requests whose body is cut off halfway (the `Content-Length` promises more).
    pub truncate_rate: f64,
    /// Share of requests delayed by an extra [`slow_by`](Faults::slow_by).
    pub slow_rate: f64,
    /// The extra delay of a slow request.
    pub slow_by: Duration,
}

/// The default extra delay of `slow=RATE` without `:DURATION`.
const DEFAULT_SLOW_BY: Duration = Duration::from_secs(2);

impl Faults {
    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether no fault can happen.
    pub fn is_none(&self) -> bool {
        self.error_rate <= 0.0
            && self.drop_rate <= 0.0
            && self.truncate_rate <= 0.0
            && self.slow_rate <= 0.0
    }

    /// Checks that every rate is within 0–1 and that they sum to at most 1.
    pub fn validate(&self) -> Result<(), FaultsParseError> {
        let rates = [
            ("500", self.error_rate),
            ("drop", self.drop_rate),
            ("truncate", self.truncate_rate),
            ("slow", self.slow_rate),
        ];
        for (name, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(FaultsParseError(format!(
                    "{name}={rate}: a rate must be between 0 and 1"
                )));
            }
        }
        let total: f64 = rates.iter().map(|(_, rate)| rate).sum();
        if total > 1.0 + 1e-9 {
            return Err(FaultsParseError(format!(
                "the rates add up to {total}, more than 1"
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
        for (rate, kind) in [
            (self.error_rate, FaultKind::Error),
            (self.drop_rate, FaultKind::Drop),
            (self.truncate_rate, FaultKind::Truncate),
            (self.slow_rate, FaultKind::Slow),
        ] {
            if draw < rate {
                return match kind {
                    FaultKind::Error => Fault::Error(
                        [
                            StatusCode::INTERNAL_SERVER_ERROR,
                            StatusCode::BAD_GATEWAY,
                            StatusCode::SERVICE_UNAVAILABLE,
                        ][rng.random_range(0..3)],
                    ),
                    FaultKind::Drop => Fault::Drop,
                    FaultKind::Truncate => Fault::Truncate,
                    FaultKind::Slow => Fault::Slow(self.slow_by),
                };
            }
            draw -= rate;
        }
        Fault::None
    }
}

enum FaultKind {
    Error,
    Drop,
    Truncate,
    Slow,
}

/// The fault chosen for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    Error(StatusCode),
    Drop,
    Truncate,
    Slow(Duration),
}

/// A fault specification that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid fault specification: {0} (expected e.g. \"500=0.05,drop=0.01,truncate=0.01,slow=0.01:2s\")"
)]
pub struct FaultsParseError(String);

impl FromStr for Faults {
    type Err = FaultsParseError;

    /// Parses `500=0.05,drop=0.01,truncate=0.01,slow=0.01:2s` (any subset, any order;
    /// `error` and `5xx` mean `500`; `none` or an empty string mean no faults).
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
            let (rate, duration) = match value.split_once(':') {
                Some((rate, duration)) => (rate, Some(duration)),
                None => (value, None),
            };
            let rate: f64 = rate
                .trim()
                .parse()
                .map_err(|_| FaultsParseError(format!("{rate:?} in {part:?} is not a number")))?;
            if duration.is_some() && name.trim() != "slow" {
                return Err(FaultsParseError(format!(
                    "only slow takes a duration, in {part:?}"
                )));
            }
            match name.trim() {
                "500" | "5xx" | "error" => faults.error_rate = rate,
                "drop" => faults.drop_rate = rate,
                "truncate" => faults.truncate_rate = rate,
                "slow" => {
                    faults.slow_rate = rate;
                    faults.slow_by = match duration {
                        Some(d) => humantime::parse_duration(d.trim()).map_err(|e| {
                            FaultsParseError(format!("{d:?} in {part:?} is not a duration: {e}"))
                        })?,
                        None => DEFAULT_SLOW_BY,
                    };
                }
                other => {
                    return Err(FaultsParseError(format!(
                        "unknown fault {other:?} (known: 500, drop, truncate, slow)"
                    )));
                }
            }
        }
        faults.validate()?;
        Ok(faults)
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            return f.write_str("none");
        }
        let mut parts = Vec::new();
        if self.error_rate > 0.0 {
            parts.push(format!("500={}", self.error_rate));
        }
        if self.drop_rate > 0.0 {
            parts.push(format!("drop={}", self.drop_rate));
        }
        if self.truncate_rate > 0.0 {
            parts.push(format!("truncate={}", self.truncate_rate));
        }
        if self.slow_rate > 0.0 {
            parts.push(format!(
                "slow={}:{}",
                self.slow_rate,
                humantime::format_duration(self.slow_by)
            ));
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
    fn the_cli_form_parses_and_prints_back() {
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
            }
        );
        assert_eq!(faults.to_string().parse::<Faults>().unwrap(), faults);
        assert!("none".parse::<Faults>().unwrap().is_none());
    }

    #[test]
    fn nonsense_is_rejected_with_a_reason() {
        for (spec, reason) in [
            ("500=2", "between 0 and 1"),
            ("500=0.6,drop=0.6", "add up"),
            ("boom=0.1", "unknown fault"),
            ("drop", "no '='"),
            ("drop=0.1:2s", "only slow"),
        ] {
            let error = spec.parse::<Faults>().unwrap_err().to_string();
            assert!(error.contains(reason), "{spec}: {error}");
        }
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
}
