//! Domain types: package types, visibilities and version states that tolerate values GitHub adds
//! later, and thin wrappers over the generated [`Package`] and [`PackageVersion`] models.
//!
//! The wrappers dereference to the generated structs, so every field GitHub sends is there
//! (`package.name`, `version.created_at`), and add the questions people actually ask
//! (`version.tags()`, `version.is_tagged()`, `version.digest()`).

use std::convert::Infallible;
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use ghpkg_api::types as wire;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// Implements `Display`, `FromStr` (infallible, unknown values become `Other`) and string serde
/// for an enum with an `Other(String)` variant.
macro_rules! open_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// Every value this version of ghpkg knows, as GitHub spells them.
            pub const KNOWN: &'static [&'static str] = &[$($text),+];

            /// The value as GitHub spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(other) => other,
                }
            }

            /// Whether this is a value ghpkg does not know (and so cannot send).
            pub fn is_other(&self) -> bool {
                matches!(self, Self::Other(_))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Infallible;

            /// Parses GitHub's spelling, ignoring ASCII case; anything else becomes `Other`.
            fn from_str(value: &str) -> Result<Self, Infallible> {
                $(if value.eq_ignore_ascii_case($text) {
                    return Ok(Self::$variant);
                })+
                Ok(Self::Other(value.to_string()))
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                let Ok(parsed) = value.parse();
                parsed
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Ok(Self::from(text.as_str()))
            }
        }
    };
}

/// The kind of registry a package lives in.
///
/// `Other` holds a type GitHub added after this version of ghpkg: such values decode from
/// responses, but a request that names one fails with [`Error::InvalidInput`] before it is sent.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PackageType {
    /// npm registry.
    Npm,
    /// Apache Maven (and Gradle) registry.
    Maven,
    /// RubyGems registry.
    Rubygems,
    /// The legacy Docker registry (`docker.pkg.github.com`).
    Docker,
    /// NuGet registry.
    Nuget,
    /// The Container registry (`ghcr.io`).
    Container,
    /// A type this version of ghpkg does not know.
    Other(String),
}

open_enum!(PackageType {
    Npm => "npm",
    Maven => "maven",
    Rubygems => "rubygems",
    Docker => "docker",
    Nuget => "nuget",
    Container => "container",
});

impl PackageType {
    /// The generated wire value, or [`Error::InvalidInput`] for a type ghpkg cannot send.
    pub(crate) fn to_wire(&self) -> Result<wire::PackageType, Error> {
        Ok(match self {
            Self::Npm => wire::PackageType::Npm,
            Self::Maven => wire::PackageType::Maven,
            Self::Rubygems => wire::PackageType::Rubygems,
            Self::Docker => wire::PackageType::Docker,
            Self::Nuget => wire::PackageType::Nuget,
            Self::Container => wire::PackageType::Container,
            Self::Other(other) => {
                return Err(Error::invalid_input(format!(
                    "unknown package type {other:?}; use one of {}",
                    Self::KNOWN.join(", ")
                )));
            }
        })
    }
}

/// Who can see a package.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Visibility {
    /// Anyone.
    Public,
    /// Only people granted access.
    Private,
    /// Members of the enterprise (registries with granular permissions only).
    Internal,
    /// A visibility this version of ghpkg does not know.
    Other(String),
}

open_enum!(Visibility {
    Public => "public",
    Private => "private",
    Internal => "internal",
});

impl Visibility {
    /// The generated wire value, or [`Error::InvalidInput`] for a visibility ghpkg cannot send.
    pub(crate) fn to_wire(&self) -> Result<wire::PackageVisibility, Error> {
        Ok(match self {
            Self::Public => wire::PackageVisibility::Public,
            Self::Private => wire::PackageVisibility::Private,
            Self::Internal => wire::PackageVisibility::Internal,
            Self::Other(other) => {
                return Err(Error::invalid_input(format!(
                    "unknown visibility {other:?}; use one of {}",
                    Self::KNOWN.join(", ")
                )));
            }
        })
    }
}

/// Which versions a version listing returns.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VersionState {
    /// Versions that exist (GitHub's default).
    Active,
    /// Versions deleted within the last 30 days, which can still be restored.
    Deleted,
    /// A state this version of ghpkg does not know.
    Other(String),
}

open_enum!(VersionState {
    Active => "active",
    Deleted => "deleted",
});

impl VersionState {
    /// The generated wire value, or [`Error::InvalidInput`] for a state ghpkg cannot send.
    pub(crate) fn to_wire(&self) -> Result<wire::PackageVersionState, Error> {
        Ok(match self {
            Self::Active => wire::PackageVersionState::Active,
            Self::Deleted => wire::PackageVersionState::Deleted,
            Self::Other(other) => {
                return Err(Error::invalid_input(format!(
                    "unknown version state {other:?}; use one of {}",
                    Self::KNOWN.join(", ")
                )));
            }
        })
    }
}

/// A package, as GitHub describes it. Dereferences to the generated
/// [`ghpkg_api::types::Package`] for every field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Package(wire::Package);

impl Package {
    /// The registry this package lives in.
    pub fn package_type(&self) -> PackageType {
        PackageType::from(self.0.package_type.as_str())
    }

    /// Who can see this package.
    pub fn visibility(&self) -> Visibility {
        Visibility::from(self.0.visibility.as_str())
    }

    /// The login of the owner, when GitHub sent one.
    pub fn owner_login(&self) -> Option<&str> {
        self.0.owner.as_ref().map(|owner| owner.login.as_str())
    }

    /// The generated model.
    pub fn into_inner(self) -> wire::Package {
        self.0
    }
}

impl Deref for Package {
    type Target = wire::Package;

    fn deref(&self) -> &wire::Package {
        &self.0
    }
}

impl From<wire::Package> for Package {
    fn from(package: wire::Package) -> Self {
        Self(package)
    }
}

/// A version of a package, as GitHub describes it. Dereferences to the generated
/// [`ghpkg_api::types::PackageVersion`] for every field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PackageVersion(wire::PackageVersion);

impl PackageVersion {
    /// The tags of a container or Docker image version; empty for other package types and for
    /// untagged images.
    pub fn tags(&self) -> &[String] {
        let Some(metadata) = &self.0.metadata else {
            return &[];
        };
        if let Some(container) = &metadata.container {
            return &container.tags;
        }
        if let Some(docker) = &metadata.docker {
            return if docker.tags.is_empty() {
                &docker.tag
            } else {
                &docker.tags
            };
        }
        &[]
    }

    /// Whether this image version carries at least one tag.
    pub fn is_tagged(&self) -> bool {
        !self.tags().is_empty()
    }

    /// The content digest (`sha256:…`) of a container image version, whose name is its digest.
    pub fn digest(&self) -> Option<&str> {
        let (algorithm, hex) = self.0.name.split_once(':')?;
        let algorithm_ok = !algorithm.is_empty()
            && algorithm
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let hex_ok = hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit());
        (algorithm_ok && hex_ok).then_some(self.0.name.as_str())
    }

    /// Whether the version was deleted (it appears in listings with `state=deleted`).
    pub fn is_deleted(&self) -> bool {
        self.0.deleted_at.is_some()
    }

    /// The package type recorded in the version's metadata, when GitHub sent one.
    pub fn package_type(&self) -> Option<PackageType> {
        let metadata = self.0.metadata.as_ref()?;
        Some(PackageType::from(metadata.package_type.as_str()))
    }

    /// The generated model.
    pub fn into_inner(self) -> wire::PackageVersion {
        self.0
    }
}

impl Deref for PackageVersion {
    type Target = wire::PackageVersion;

    fn deref(&self) -> &wire::PackageVersion {
        &self.0
    }
}

impl From<wire::PackageVersion> for PackageVersion {
    fn from(version: wire::PackageVersion) -> Self {
        Self(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(name: &str, metadata: serde_json::Value) -> PackageVersion {
        serde_json::from_value(serde_json::json!({
            "id": 7,
            "name": name,
            "url": "https://api.github.com/orgs/acme/packages/container/web%2Fapp/versions/7",
            "package_html_url": "https://github.com/orgs/acme/packages/container/package/web%2Fapp",
            "created_at": "2024-01-02T03:04:05Z",
            "updated_at": "2024-01-02T03:04:05Z",
            "metadata": metadata,
        }))
        .expect("a valid version")
    }

    #[test]
    fn package_types_round_trip_and_keep_unknown_values() {
        for known in PackageType::KNOWN {
            let parsed: PackageType = known.parse().unwrap();
            assert!(!parsed.is_other());
            assert_eq!(parsed.to_string(), *known);
        }
        assert_eq!(
            "Container".parse::<PackageType>().unwrap(),
            PackageType::Container
        );
        let future: PackageType = serde_json::from_str("\"cargo\"").unwrap();
        assert_eq!(future, PackageType::Other("cargo".into()));
        assert_eq!(serde_json::to_string(&future).unwrap(), "\"cargo\"");
        assert_eq!(serde_json::to_string(&PackageType::Npm).unwrap(), "\"npm\"");
    }

    #[test]
    fn unknown_values_cannot_be_sent() {
        let error = PackageType::Other("cargo".into()).to_wire().unwrap_err();
        assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
        assert!(error.to_string().contains("container"), "{error}");
        assert!(Visibility::Other("secret".into()).to_wire().is_err());
        assert!(VersionState::Other("purged".into()).to_wire().is_err());
        assert_eq!(
            Visibility::Internal.to_wire().unwrap(),
            wire::PackageVisibility::Internal
        );
        assert_eq!(
            VersionState::Deleted.to_wire().unwrap(),
            wire::PackageVersionState::Deleted
        );
    }

    #[test]
    fn container_versions_expose_tags_and_digest() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let tagged = version(
            &digest,
            serde_json::json!({"package_type": "container", "container": {"tags": ["latest", "v1"]}}),
        );
        assert_eq!(tagged.tags(), ["latest", "v1"]);
        assert!(tagged.is_tagged());
        assert_eq!(tagged.digest(), Some(digest.as_str()));
        assert_eq!(tagged.package_type(), Some(PackageType::Container));
        assert!(!tagged.is_deleted());

        let untagged = version(
            &digest,
            serde_json::json!({"package_type": "container", "container": {"tags": []}}),
        );
        assert!(!untagged.is_tagged());
    }

    #[test]
    fn docker_versions_read_either_tag_field() {
        let singular = version(
            "v1",
            serde_json::json!({"package_type": "docker", "docker": {"tag": ["v1"]}}),
        );
        assert_eq!(singular.tags(), ["v1"]);
        let plural = version(
            "v2",
            serde_json::json!({"package_type": "docker", "docker": {"tags": ["v2"]}}),
        );
        assert_eq!(plural.tags(), ["v2"]);
        assert_eq!(plural.digest(), None);
    }

    #[test]
    fn npm_versions_have_no_tags_or_digest() {
        let npm = version("1.0.0", serde_json::json!({"package_type": "npm"}));
        assert!(npm.tags().is_empty());
        assert_eq!(npm.digest(), None);
    }

    #[test]
    fn package_helpers_read_open_enums() {
        let package: Package = serde_json::from_value(serde_json::json!({
            "id": 1,
            "name": "web/app",
            "package_type": "container",
            "visibility": "restricted",
            "url": "u",
            "html_url": "h",
            "version_count": 3,
            "created_at": "2024-01-02T03:04:05Z",
            "updated_at": "2024-01-02T03:04:05Z",
        }))
        .unwrap();
        assert_eq!(package.package_type(), PackageType::Container);
        assert_eq!(package.visibility(), Visibility::Other("restricted".into()));
        assert_eq!(package.name, "web/app");
    }
}
