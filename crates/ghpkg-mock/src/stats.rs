//! Counters of what the emulator answered, for assertions and for `GET /_mock/stats`.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

use crate::faults::FAULT_KINDS;

/// The operation id counted for requests that match no operation.
pub const UNMATCHED_OPERATION: &str = "unmatched";

/// A snapshot of the counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Every API request received (`/_mock/*` excluded), including rejected and faulted ones.
    pub total_requests: u64,
    /// Answers by GitHub operationId (e.g. `packages/list-packages-for-organization`) and HTTP
    /// status. Connections closed without an answer (`drop`, `lost`) have no status and are
    /// counted only in `faults`.
    pub requests: BTreeMap<String, BTreeMap<u16, u64>>,
    /// Requests refused by the rate limits.
    pub rate_limit_rejections: RateLimitRejections,
    /// Faults injected.
    pub faults: FaultCounts,
    /// What the registry's read side (`/v2/…`, `/token`) answered; not in `total_requests`.
    #[serde(default)]
    pub registry: RegistryStats,
}

/// Counters of the registry's read side.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegistryStats {
    /// Every registry request (`/v2/…` and `/token`), whatever its answer.
    pub requests: u64,
    /// `401` challenges sent for a missing, unknown or too narrow registry token.
    pub challenges: u64,
    /// Registry tokens issued by `/token`.
    pub token_exchanges: u64,
    /// Token requests refused (`401`, `403`).
    pub token_refusals: u64,
    /// Successful manifest `GET`s, each one a download of its version.
    pub manifest_reads: u64,
    /// Successful manifest `GET`s by digest.
    pub manifest_reads_by_digest: BTreeMap<String, u64>,
    /// Successful manifest `HEAD`s (not downloads).
    pub manifest_heads: u64,
    /// `404`s for unknown manifests and repositories.
    pub not_found: u64,
    /// Referrers API calls answered with an index.
    pub referrers_calls: u64,
    /// Tag lists answered.
    pub tag_lists: u64,
    /// Injected failures answered instead of a manifest.
    pub failures_injected: u64,
}

impl RegistryStats {
    /// Successful manifest `GET`s of `digest`.
    pub fn manifest_reads_of(&self, digest: &str) -> u64 {
        self.manifest_reads_by_digest
            .get(digest)
            .copied()
            .unwrap_or(0)
    }
}

/// Requests refused by each rate limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitRejections {
    /// By the hourly budget.
    pub primary: u64,
    /// By the concurrency or points-per-minute limit.
    pub secondary: u64,
}

/// Faults injected, by kind: one counter per entry of the fault table (`faults.rs`), which
/// names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultCounts {
    /// Injected server errors (`5xx`), instead of running the operation.
    pub errors: u64,
    /// Connections closed without an answer before the operation ran.
    pub drops: u64,
    /// Connections closed without an answer after the operation ran (changes applied).
    pub lost: u64,
    /// Answers cut short after the operation ran.
    pub truncations: u64,
    /// Answers delayed.
    pub slowdowns: u64,
    /// Injected secondary-rate-limit `403`s.
    pub secondary_limits: u64,
    /// Injected `429 Too Many Requests`.
    pub too_many_requests: u64,
}

impl FaultCounts {
    /// All faults together.
    pub fn total(&self) -> u64 {
        FAULT_KINDS.iter().map(|kind| kind.count_in(self)).sum()
    }
}

/// Makes `packages/list-packages-for-organization` and the generated client's
/// `packages_list_packages_for_organization` compare equal.
fn normalize(operation_id: &str) -> String {
    operation_id.replace(['/', '-'], "_")
}

impl Stats {
    /// Answers with `status` to `operation_id`, given as GitHub's operationId or as the
    /// generated client's snake-case name.
    pub fn count(&self, operation_id: &str, status: u16) -> u64 {
        self.by_operation(operation_id)
            .and_then(|statuses| statuses.get(&status))
            .copied()
            .unwrap_or(0)
    }

    /// All answers to `operation_id` (either spelling), whatever their status.
    pub fn count_operation(&self, operation_id: &str) -> u64 {
        self.by_operation(operation_id)
            .map(|statuses| statuses.values().sum())
            .unwrap_or(0)
    }

    /// Answers with `status` over all operations.
    pub fn count_status(&self, status: u16) -> u64 {
        self.requests
            .values()
            .filter_map(|statuses| statuses.get(&status))
            .sum()
    }

    /// All faults injected.
    pub fn faults_injected(&self) -> u64 {
        self.faults.total()
    }

    fn by_operation(&self, operation_id: &str) -> Option<&BTreeMap<u16, u64>> {
        let wanted = normalize(operation_id);
        self.requests
            .iter()
            .find(|(id, _)| normalize(id) == wanted)
            .map(|(_, statuses)| statuses)
    }
}

/// The live counters.
#[derive(Debug, Default)]
pub(crate) struct Recorder(Mutex<Stats>);

impl Recorder {
    pub fn update(&self, change: impl FnOnce(&mut Stats)) {
        change(&mut self.lock());
    }

    pub fn record_answer(&self, operation_id: &str, status: u16) {
        self.update(|stats| {
            *stats
                .requests
                .entry(operation_id.to_owned())
                .or_default()
                .entry(status)
                .or_default() += 1;
        });
    }

    pub fn snapshot(&self) -> Stats {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, Stats> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accept_both_spellings_of_an_operation() {
        let recorder = Recorder::default();
        recorder.record_answer("packages/list-packages-for-organization", 200);
        recorder.record_answer("packages/list-packages-for-organization", 200);
        recorder.record_answer("packages/list-packages-for-organization", 403);
        let stats = recorder.snapshot();
        assert_eq!(
            stats.count("packages/list-packages-for-organization", 200),
            2
        );
        assert_eq!(
            stats.count("packages_list_packages_for_organization", 403),
            1
        );
        assert_eq!(
            stats.count_operation("packages_list_packages_for_organization"),
            3
        );
        assert_eq!(stats.count_status(200), 2);
        let json = serde_json::to_string(&stats).unwrap();
        assert!(json.contains(r#""200":2"#), "{json}");
        assert_eq!(serde_json::from_str::<Stats>(&json).unwrap(), stats);
    }
}
