//! Times and numbers as people read them.

use chrono::{DateTime, Utc};

/// `at` relative to `now`: "just now", "5 minutes ago", "3 months ago", "in 2 days".
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds();
    let (magnitude, past) = (seconds.unsigned_abs(), seconds >= 0);
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    if magnitude < 45 {
        return "just now".to_string();
    }
    let (count, unit) = if magnitude < 45 * MINUTE {
        (magnitude.div_ceil(MINUTE).max(1), "minute")
    } else if magnitude < 22 * HOUR {
        ((magnitude + HOUR / 2) / HOUR, "hour")
    } else if magnitude < 30 * DAY {
        ((magnitude + DAY / 2) / DAY, "day")
    } else if magnitude < 365 * DAY {
        ((magnitude + 15 * DAY) / (30 * DAY), "month")
    } else {
        (magnitude / (365 * DAY), "year")
    };
    let count = count.max(1);
    let plural = if count == 1 { "" } else { "s" };
    if past {
        format!("{count} {unit}{plural} ago")
    } else {
        format!("in {count} {unit}{plural}")
    }
}

/// A time as RFC 3339 in UTC, to the second: `2025-06-01T12:00:00Z`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `n` with thousands separators: `3,000`.
pub fn count(n: impl Into<u64>) -> String {
    let digits = n.into().to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `count` and `noun`, pluralised with an `s`: `1 version`, `3,000 versions`.
pub fn counted(n: usize, noun: &str) -> String {
    let plural = if n == 1 { "" } else { "s" };
    format!("{} {noun}{plural}", count(n as u64))
}

/// A duration as `1h 02m`, `3m 20s` or `12s`.
pub fn duration(duration: std::time::Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m {:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h {:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn times_read_as_people_say_them() {
        let now = DateTime::parse_from_rfc3339("2025-06-01T12:00:00Z")
            .unwrap()
            .to_utc();
        let ago = |delta: TimeDelta| relative(now - delta, now);
        assert_eq!(ago(TimeDelta::seconds(10)), "just now");
        assert_eq!(ago(TimeDelta::minutes(5)), "5 minutes ago");
        assert_eq!(ago(TimeDelta::hours(1)), "1 hour ago");
        assert_eq!(ago(TimeDelta::days(3)), "3 days ago");
        assert_eq!(ago(TimeDelta::days(95)), "3 months ago");
        assert_eq!(ago(TimeDelta::days(800)), "2 years ago");
        assert_eq!(ago(TimeDelta::days(-2)), "in 2 days");
    }

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(count(0u64), "0");
        assert_eq!(count(999u64), "999");
        assert_eq!(count(3000u64), "3,000");
        assert_eq!(count(1234567u64), "1,234,567");
        assert_eq!(counted(1, "version"), "1 version");
        assert_eq!(counted(2, "version"), "2 versions");
    }
}
