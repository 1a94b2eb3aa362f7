//! One row per figure: measured, floor (or target), their ratio, and whether the target is met.

use serde::Serialize;

/// One measured figure.
#[derive(Debug, Serialize)]
pub struct Figure {
    pub scenario: &'static str,
    pub metric: &'static str,
    pub unit: &'static str,
    pub measured: f64,
    /// The theoretical floor (or ceiling, for throughput) the figure is judged against.
    pub floor: f64,
    /// measured ÷ floor (for throughput: measured ÷ allowed).
    pub ratio: f64,
    /// The target, in words.
    pub target: &'static str,
    pub met: bool,
}

impl Figure {
    /// A figure judged against a ceiling `target` rather than a floor: its ratio is to the
    /// target, met when `measured` is at most it.
    pub fn at_most(
        scenario: &'static str,
        metric: &'static str,
        unit: &'static str,
        measured: f64,
        target: f64,
        words: &'static str,
    ) -> Figure {
        Figure {
            scenario,
            metric,
            unit,
            measured,
            floor: target,
            ratio: measured / target,
            target: words,
            met: measured <= target,
        }
    }
}

/// Prints the table.
pub fn print_table(figures: &[Figure]) {
    println!(
        "{:<34} {:<26} {:>12} {:>12} {:>8}  {:<28} met",
        "scenario", "metric", "measured", "floor", "ratio", "target"
    );
    for f in figures {
        println!(
            "{:<34} {:<26} {:>12} {:>12} {:>8.3}  {:<28} {}",
            f.scenario,
            format!("{} ({})", f.metric, f.unit),
            format_number(f.measured),
            format_number(f.floor),
            f.ratio,
            f.target,
            if f.met { "yes" } else { "NO" }
        );
    }
}

fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e12 {
        format!("{value:.0}")
    } else {
        format!("{value:.3}")
    }
}
