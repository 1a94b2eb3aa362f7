//! The emulator's own record of every change it applied, for tests that must not trust what the
//! client says it did: each delete or restore of a package or a version, in the order applied,
//! whether or not its answer reached the client.

use chrono::{DateTime, Utc};
use ghpkg_api::types::PackageType;
use serde::{Deserialize, Serialize};

/// One applied mutation, as [`MockServer::changes`](crate::MockServer::changes) and
/// `GET /_mock/changes` report it.
///
/// ```json
/// {"sequence":1,"at":"2025-06-01T12:00:00Z","operation_id":"packages/delete-package-version-for-org",
///  "owner":"acme","package_type":"container","package_name":"web/app","version_id":100001,"actor":"octocat"}
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedChange {
    /// Position in the log: 1 for the first change, then 2, 3, … with no gaps.
    pub sequence: u64,
    /// When it was applied, on the emulator's clock (whole seconds, like the `deleted_at` it set).
    pub at: DateTime<Utc>,
    /// GitHub's operationId of the request that applied it.
    pub operation_id: String,
    /// Login of the package's owner, as the fixture spells it.
    pub owner: String,
    /// The package's type.
    pub package_type: PackageType,
    /// The package's name.
    pub package_name: String,
    /// The version deleted or restored; `None` for a change to the whole package.
    pub version_id: Option<i64>,
    /// Login of the user whose token made the request.
    pub actor: String,
}

/// What a change is about, before it gets its place in the log.
#[derive(Clone, Debug)]
pub(crate) struct Change {
    pub at: DateTime<Utc>,
    pub operation_id: &'static str,
    pub owner: String,
    pub package_type: PackageType,
    pub package_name: String,
    pub version_id: Option<i64>,
    pub actor: String,
}

/// The append-only log.
#[derive(Debug, Default)]
pub(crate) struct ChangeLog(Vec<AppliedChange>);

impl ChangeLog {
    /// Appends `change` with the next sequence number.
    pub fn append(&mut self, change: Change) {
        let sequence = self.0.len() as u64 + 1;
        self.0.push(AppliedChange {
            sequence,
            at: change.at,
            operation_id: change.operation_id.to_owned(),
            owner: change.owner,
            package_type: change.package_type,
            package_name: change.package_name,
            version_id: change.version_id,
            actor: change.actor,
        });
    }

    /// Every change so far, oldest first.
    pub fn entries(&self) -> &[AppliedChange] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_count_up_from_one_without_gaps() {
        let mut log = ChangeLog::default();
        for version_id in [Some(7), None] {
            log.append(Change {
                at: DateTime::UNIX_EPOCH,
                operation_id: "packages/delete-package-version-for-org",
                owner: "acme".into(),
                package_type: PackageType::Container,
                package_name: "web/app".into(),
                version_id,
                actor: "octocat".into(),
            });
        }
        let sequences: Vec<u64> = log.entries().iter().map(|c| c.sequence).collect();
        assert_eq!(sequences, [1, 2]);
        let json = serde_json::to_value(&log.entries()[0]).unwrap();
        assert_eq!(json["package_type"], "container");
        assert_eq!(json["version_id"], 7);
    }
}
