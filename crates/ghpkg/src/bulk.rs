//! Bulk work on many versions of one package: per-item outcomes, never a single all-or-nothing
//! error, with the client's concurrency in flight (pacing governs the client as a whole).
//!
//! A `404` on a delete means "already gone" only when the package itself exists: the first
//! such answer of a run asks GitHub for the package once, and if the package (or its owner) is
//! missing — a typo, or a token that cannot see it — every `404` of the run is reported as that
//! failure instead of a success.

use std::sync::Arc;

use futures::stream::{self, Stream, StreamExt};
use tokio::sync::OnceCell;

use crate::error::Error;
use crate::package::PackageHandle;
use crate::version::VersionHandle;

/// What happened to one item of a bulk run.
#[derive(Debug)]
#[non_exhaustive]
pub enum ItemResult {
    /// The version was deleted.
    Deleted,
    /// The version was restored.
    Restored,
    /// The delete found nothing: the version was already gone (GitHub answered `404` for it,
    /// and the package exists).
    AlreadyGone,
    /// The request failed; the error says why and what to do.
    Failed(Error),
}

/// The outcome for one version id.
#[derive(Debug)]
pub struct BulkOutcome {
    /// The version id.
    pub id: u64,
    /// What happened to it.
    pub result: ItemResult,
}

impl BulkOutcome {
    /// Whether the version ended up as asked (deleted, restored, or already gone).
    pub fn is_success(&self) -> bool {
        !matches!(self.result, ItemResult::Failed(_))
    }

    /// The error, for a failed item.
    pub fn error(&self) -> Option<&Error> {
        match &self.result {
            ItemResult::Failed(error) => Some(error),
            _ => None,
        }
    }
}

/// Counts of a bulk run's outcomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BulkSummary {
    /// Versions deleted.
    pub deleted: usize,
    /// Versions restored.
    pub restored: usize,
    /// Versions that were already gone.
    pub already_gone: usize,
    /// Versions whose request failed.
    pub failed: usize,
}

impl BulkSummary {
    /// Counts `outcome`.
    pub fn record(&mut self, outcome: &BulkOutcome) {
        match outcome.result {
            ItemResult::Deleted => self.deleted += 1,
            ItemResult::Restored => self.restored += 1,
            ItemResult::AlreadyGone => self.already_gone += 1,
            ItemResult::Failed(_) => self.failed += 1,
        }
    }

    /// The number of outcomes counted.
    pub fn total(&self) -> usize {
        self.deleted + self.restored + self.already_gone + self.failed
    }
}

impl<'a> FromIterator<&'a BulkOutcome> for BulkSummary {
    fn from_iter<I: IntoIterator<Item = &'a BulkOutcome>>(outcomes: I) -> Self {
        let mut summary = BulkSummary::default();
        for outcome in outcomes {
            summary.record(outcome);
        }
        summary
    }
}

/// Whether the package of a bulk run exists, asked at most once per run.
#[derive(Clone, Debug)]
enum PackageCheck {
    Exists,
    Missing(String),
    Unknown,
}

impl PackageHandle {
    /// Deletes the versions `ids`, keeping the client's concurrency in flight, and yields one
    /// outcome per id in the order given. A `404` counts as [`ItemResult::AlreadyGone`] only if
    /// the package exists: the first `404` of a run asks GitHub for the package once, and if the
    /// package (or its owner) is missing, or the token cannot see it, every `404` of the run
    /// fails with [`Error::NotFound`] instead.
    pub fn delete_versions(
        &self,
        ids: impl IntoIterator<Item = u64>,
    ) -> impl Stream<Item = BulkOutcome> + Send + Unpin + 'static {
        let check: Arc<OnceCell<PackageCheck>> = Arc::new(OnceCell::new());
        self.for_each_version(ids, move |version| {
            let check = check.clone();
            async move {
                match version.delete().await {
                    Ok(()) => ItemResult::Deleted,
                    Err(error) if error.is_not_found() => {
                        let package = version.package();
                        let known = check.get_or_init(|| package_check(package)).await;
                        match known {
                            PackageCheck::Exists => ItemResult::AlreadyGone,
                            PackageCheck::Missing(message) => ItemResult::Failed(Error::NotFound {
                                operation: ghpkg_api::operations::Action::DeleteVersion
                                    .spec(crate::owner::family(package.scope().owner()))
                                    .into(),
                                message: message.clone(),
                                token: package.scope().client().token_kind(),
                            }),
                            PackageCheck::Unknown => ItemResult::Failed(error),
                        }
                    }
                    Err(error) => ItemResult::Failed(error),
                }
            }
        })
    }

    /// Restores the versions `ids`, keeping the client's concurrency in flight, and yields one
    /// outcome per id in the order given.
    pub fn restore_versions(
        &self,
        ids: impl IntoIterator<Item = u64>,
    ) -> impl Stream<Item = BulkOutcome> + Send + Unpin + 'static {
        self.for_each_version(ids, |version| async move {
            match version.restore().await {
                Ok(()) => ItemResult::Restored,
                Err(error) => ItemResult::Failed(error),
            }
        })
    }

    /// Runs `act` on each version of `ids` with the client's concurrency, outcomes in order.
    fn for_each_version<F, Fut>(
        &self,
        ids: impl IntoIterator<Item = u64>,
        act: F,
    ) -> impl Stream<Item = BulkOutcome> + Send + Unpin + 'static
    where
        F: Fn(VersionHandle) -> Fut + Send + 'static,
        Fut: Future<Output = ItemResult> + Send + 'static,
    {
        let package = self.clone();
        let in_flight = self.scope().client().concurrency();
        let ids: Vec<u64> = ids.into_iter().collect();
        stream::iter(ids)
            .map(move |id| {
                let outcome = act(package.version(id));
                async move {
                    BulkOutcome {
                        id,
                        result: outcome.await,
                    }
                }
            })
            .buffered(in_flight)
    }
}

/// Asks GitHub whether `package` exists.
async fn package_check(package: &PackageHandle) -> PackageCheck {
    match package.get().await {
        Ok(_) => PackageCheck::Exists,
        Err(error) if error.is_not_found() => PackageCheck::Missing(format!(
            "the {} package {} of {} does not exist, or the token cannot see it; nothing was \
             deleted",
            package.package_type(),
            package.name(),
            package.scope().owner()
        )),
        Err(_) => PackageCheck::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_count_each_outcome() {
        let outcomes = [
            BulkOutcome {
                id: 1,
                result: ItemResult::Deleted,
            },
            BulkOutcome {
                id: 2,
                result: ItemResult::AlreadyGone,
            },
            BulkOutcome {
                id: 3,
                result: ItemResult::Failed(Error::invalid_input("x")),
            },
        ];
        let summary: BulkSummary = outcomes.iter().collect();
        assert_eq!(
            summary,
            BulkSummary {
                deleted: 1,
                restored: 0,
                already_gone: 1,
                failed: 1
            }
        );
        assert_eq!(summary.total(), 3);
        assert!(outcomes[1].is_success());
        assert!(outcomes[2].error().is_some());
    }
}
