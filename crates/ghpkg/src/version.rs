//! Version handles: get, delete and restore one version of one package.

use ghpkg_api::operations::Action;

use crate::error::Result;
use crate::package::PackageHandle;
use crate::types::PackageVersion;

impl PackageHandle {
    /// A handle on version `id` of this package; sends nothing by itself.
    pub fn version(&self, id: u64) -> VersionHandle {
        VersionHandle {
            package: self.clone(),
            id,
        }
    }
}

/// One version of one package. Get one from [`PackageHandle::version`]; creating it sends
/// nothing.
#[derive(Clone, Debug)]
pub struct VersionHandle {
    package: PackageHandle,
    id: u64,
}

impl VersionHandle {
    /// The package this version belongs to.
    pub fn package(&self) -> &PackageHandle {
        &self.package
    }

    /// The version id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Gets the version.
    pub async fn get(&self) -> Result<PackageVersion> {
        let response = self
            .package
            .scope()
            .client()
            .call::<PackageVersion>(
                Action::GetVersion,
                self.package.resource(Some(self.id)),
                &[],
            )
            .await?;
        Ok(response.into_inner())
    }

    /// Deletes the version. It can be restored for 30 days.
    pub async fn delete(&self) -> Result<()> {
        self.send(Action::DeleteVersion).await
    }

    /// Restores the version, deleted within the last 30 days.
    pub async fn restore(&self) -> Result<()> {
        self.send(Action::RestoreVersion).await
    }

    async fn send(&self, action: Action) -> Result<()> {
        self.package
            .scope()
            .client()
            .call::<()>(action, self.package.resource(Some(self.id)), &[])
            .await?;
        Ok(())
    }
}
