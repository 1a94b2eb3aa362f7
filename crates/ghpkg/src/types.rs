//! Domain types: package types, visibilities and version states that tolerate values GitHub adds
//! later, and [`Package`] and [`PackageVersion`], which read GitHub's answers through typed
//! accessors: ids as `u64`, times as [`DateTime<Utc>`], the open enums above.
//!
//! Both are built from the generated models ([`ghpkg_api::types::Package`] and
//! [`ghpkg_api::types::PackageVersion`]) by one conversion, which refuses an id that is not
//! positive or a count that is negative, so that every id the library hands out can be sent
//! back. The generated model stays reachable with `as_generated()` for a field no accessor
//! reads.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use ghpkg_api::types as wire;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// Implements `Display`, `FromStr` (infallible, unknown values become `Other`), string serde,
/// and the conversions to and from the generated wire enum for an enum with an `Other(String)`
/// variant.
macro_rules! open_enum {
    ($name:ident, $wire:ident, $noun:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
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

            /// The generated wire value, or [`Error::InvalidInput`] for a value ghpkg cannot send.
            pub(crate) fn to_wire(&self) -> Result<wire::$wire, Error> {
                match self {
                    $(Self::$variant => Ok(wire::$wire::$variant),)+
                    Self::Other(other) => Err(Error::invalid_input(format!(
                        concat!("unknown ", $noun, " {:?}; use one of {}"),
                        other,
                        Self::KNOWN.join(", ")
                    ))),
                }
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

        #[doc = concat!("Every generated `", stringify!($wire), "` is a known ", $noun, ".")]
        impl From<wire::$wire> for $name {
            fn from(value: wire::$wire) -> Self {
                match value {
                    $(wire::$wire::$variant => Self::$variant,)+
                }
            }
        }

        #[doc = concat!("The generated `", stringify!($wire), "`, or [`Error::InvalidInput`] for `Other`, which ghpkg cannot send.")]
        impl TryFrom<$name> for wire::$wire {
            type Error = Error;

            fn try_from(value: $name) -> Result<Self, Error> {
                value.to_wire()
            }
        }

        #[doc = concat!("The generated `", stringify!($wire), "`, or [`Error::InvalidInput`] for `Other`, which ghpkg cannot send.")]
        impl TryFrom<&$name> for wire::$wire {
            type Error = Error;

            fn try_from(value: &$name) -> Result<Self, Error> {
                value.to_wire()
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
///
/// Converts from the generated [`ghpkg_api::types::PackageType`] with `From`, and to it with
/// `TryFrom` (which fails for `Other`), for code that drives `ghpkg_api` or the emulator:
///
/// ```
/// use ghpkg::PackageType;
///
/// let wire = ghpkg_api::types::PackageType::try_from(PackageType::Container).unwrap();
/// assert_eq!(PackageType::from(wire), PackageType::Container);
/// assert!(ghpkg_api::types::PackageType::try_from(PackageType::Other("cargo".into())).is_err());
/// ```
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

open_enum!(PackageType, PackageType, "package type" {
    Npm => "npm",
    Maven => "maven",
    Rubygems => "rubygems",
    Docker => "docker",
    Nuget => "nuget",
    Container => "container",
});

/// Who can see a package. Converts to and from the generated
/// [`ghpkg_api::types::PackageVisibility`] as [`PackageType`] does.
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

open_enum!(Visibility, PackageVisibility, "visibility" {
    Public => "public",
    Private => "private",
    Internal => "internal",
});

/// Which versions a version listing returns. Converts to and from the generated
/// [`ghpkg_api::types::PackageVersionState`] as [`PackageType`] does.
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

open_enum!(VersionState, PackageVersionState, "version state" {
    Active => "active",
    Deleted => "deleted",
});

/// A number in GitHub's answer that ghpkg cannot use: an id that is not positive, or a count
/// that is negative. GitHub never sends one; a listing or get that meets one fails with
/// [`Error::Decode`] naming it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("GitHub sent {field} {value}, which is out of range ({rule})")]
pub struct InvalidNumber {
    /// Which field (`package version id`, `package version_count`, …).
    pub field: &'static str,
    /// The value GitHub sent.
    pub value: i64,
    /// The rule it breaks.
    pub rule: &'static str,
}

/// `value` as a positive id.
fn positive_id(field: &'static str, value: i64) -> Result<u64, InvalidNumber> {
    u64::try_from(value)
        .ok()
        .filter(|id| *id > 0)
        .ok_or(InvalidNumber {
            field,
            value,
            rule: "ids are positive",
        })
}

/// A package, as GitHub describes it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "wire::Package")]
pub struct Package {
    id: u64,
    version_count: u64,
    generated: wire::Package,
}

impl Package {
    /// GitHub's id of the package.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The package's name (`web/app` for a container image in a repository's namespace).
    pub fn name(&self) -> &str {
        &self.generated.name
    }

    /// The registry this package lives in.
    pub fn package_type(&self) -> PackageType {
        PackageType::from(self.generated.package_type.as_str())
    }

    /// Who can see this package.
    pub fn visibility(&self) -> Visibility {
        Visibility::from(self.generated.visibility.as_str())
    }

    /// How many versions the package has (GitHub's count; deleted versions are not counted).
    pub fn version_count(&self) -> u64 {
        self.version_count
    }

    /// The login of the owner, when GitHub sent one.
    pub fn owner_login(&self) -> Option<&str> {
        self.generated
            .owner
            .as_ref()
            .map(|owner| owner.login.as_str())
    }

    /// The repository the package is linked to (`acme/web`), when it is linked to one.
    pub fn repository_full_name(&self) -> Option<&str> {
        let repository = self.generated.repository.as_ref()?;
        Some(repository.full_name.as_str())
    }

    /// The package's page on GitHub.
    pub fn html_url(&self) -> &str {
        &self.generated.html_url
    }

    /// The package's REST API URL.
    pub fn url(&self) -> &str {
        &self.generated.url
    }

    /// When the package was created.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.generated.created_at
    }

    /// When the package last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.generated.updated_at
    }

    /// The generated model, for a field no accessor reads.
    pub fn as_generated(&self) -> &wire::Package {
        &self.generated
    }

    /// The generated model, by value.
    pub fn into_generated(self) -> wire::Package {
        self.generated
    }
}

/// Refuses a package whose id is not positive or whose version count is negative.
impl TryFrom<wire::Package> for Package {
    type Error = InvalidNumber;

    fn try_from(package: wire::Package) -> Result<Self, InvalidNumber> {
        let version_count = u64::try_from(package.version_count).map_err(|_| InvalidNumber {
            field: "package version_count",
            value: package.version_count,
            rule: "counts are not negative",
        })?;
        Ok(Self {
            id: positive_id("package id", package.id)?,
            version_count,
            generated: package,
        })
    }
}

/// Serialises as GitHub sent it (the generated model).
impl Serialize for Package {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.generated.serialize(serializer)
    }
}

/// A version of a package, as GitHub describes it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "wire::PackageVersion")]
pub struct PackageVersion {
    id: u64,
    generated: wire::PackageVersion,
}

impl PackageVersion {
    /// GitHub's id of the version: what [`PackageHandle::version`](crate::PackageHandle::version),
    /// [`PackageHandle::delete_versions`](crate::PackageHandle::delete_versions) and the
    /// retention engine take.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The version's name: the content digest (`sha256:…`) of a container image version, the
    /// version string (`1.2.3`) elsewhere.
    pub fn name(&self) -> &str {
        &self.generated.name
    }

    /// The tags of a container or Docker image version; empty for other package types and for
    /// untagged images.
    pub fn tags(&self) -> &[String] {
        let Some(metadata) = &self.generated.metadata else {
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
        let name = self.name();
        let (algorithm, hex) = name.split_once(':')?;
        let algorithm_ok = !algorithm.is_empty()
            && algorithm
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let hex_ok = hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit());
        (algorithm_ok && hex_ok).then_some(name)
    }

    /// The package type recorded in the version's metadata, when GitHub sent one.
    pub fn package_type(&self) -> Option<PackageType> {
        let metadata = self.generated.metadata.as_ref()?;
        Some(PackageType::from(metadata.package_type.as_str()))
    }

    /// When the version was created (pushed).
    pub fn created_at(&self) -> DateTime<Utc> {
        self.generated.created_at
    }

    /// When the version last changed (GitHub updates it when a tag moves).
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.generated.updated_at
    }

    /// When the version was deleted, for a version listed with
    /// [`VersionState::Deleted`]; it can be restored for 30 days from then.
    pub fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.generated.deleted_at
    }

    /// Whether the version was deleted (it appears in listings with `state=deleted`).
    pub fn is_deleted(&self) -> bool {
        self.generated.deleted_at.is_some()
    }

    /// The version's page on GitHub, when GitHub sent one.
    pub fn html_url(&self) -> Option<&str> {
        self.generated.html_url.as_deref()
    }

    /// The package's page on GitHub.
    pub fn package_html_url(&self) -> &str {
        &self.generated.package_html_url
    }

    /// The version's REST API URL.
    pub fn url(&self) -> &str {
        &self.generated.url
    }

    /// The version's description, when it has one.
    pub fn description(&self) -> Option<&str> {
        self.generated.description.as_deref()
    }

    /// The version's license, when it declares one.
    pub fn license(&self) -> Option<&str> {
        self.generated.license.as_deref()
    }

    /// The generated model, for a field no accessor reads.
    pub fn as_generated(&self) -> &wire::PackageVersion {
        &self.generated
    }

    /// The generated model, by value.
    pub fn into_generated(self) -> wire::PackageVersion {
        self.generated
    }
}

/// Refuses a version whose id is not positive.
impl TryFrom<wire::PackageVersion> for PackageVersion {
    type Error = InvalidNumber;

    fn try_from(version: wire::PackageVersion) -> Result<Self, InvalidNumber> {
        Ok(Self {
            id: positive_id("package version id", version.id)?,
            generated: version,
        })
    }
}

/// Serialises as GitHub sent it (the generated model).
impl Serialize for PackageVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.generated.serialize(serializer)
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
    fn policies_know_the_package_types_of_the_spec() {
        assert_eq!(ghpkg_retention::PACKAGE_TYPES, PackageType::KNOWN);
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
        assert_eq!(package.name(), "web/app");
        assert_eq!(package.id(), 1);
        assert_eq!(package.version_count(), 3);
        assert_eq!(package.html_url(), "h");
    }

    #[test]
    fn ids_that_are_not_positive_do_not_decode() {
        for id in [0, -7] {
            let json = serde_json::json!({
                "id": id,
                "name": "1.0.0",
                "url": "u",
                "package_html_url": "h",
                "created_at": "2024-01-02T03:04:05Z",
                "updated_at": "2024-01-02T03:04:05Z",
            });
            let error = serde_json::from_value::<PackageVersion>(json).unwrap_err();
            assert!(error.to_string().contains("ids are positive"), "{error}");
        }
        let counted = serde_json::from_value::<Package>(serde_json::json!({
            "id": 1, "name": "x", "package_type": "npm", "visibility": "public", "url": "u",
            "html_url": "h", "version_count": -1,
            "created_at": "2024-01-02T03:04:05Z", "updated_at": "2024-01-02T03:04:05Z",
        }));
        assert!(counted.is_err());
    }

    #[test]
    fn open_enums_convert_to_and_from_the_generated_ones() {
        for wire in [
            wire::PackageType::Npm,
            wire::PackageType::Maven,
            wire::PackageType::Rubygems,
            wire::PackageType::Docker,
            wire::PackageType::Nuget,
            wire::PackageType::Container,
        ] {
            let ours = PackageType::from(wire);
            assert_eq!(ours.as_str(), wire.to_string());
            assert_eq!(wire::PackageType::try_from(&ours).unwrap(), wire);
        }
        assert_eq!(
            Visibility::from(wire::PackageVisibility::Internal),
            Visibility::Internal
        );
        assert_eq!(
            VersionState::from(wire::PackageVersionState::Deleted),
            VersionState::Deleted
        );
        let error = wire::PackageType::try_from(PackageType::Other("cargo".into())).unwrap_err();
        assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
    }

    #[test]
    fn models_serialise_as_github_sent_them() {
        let digest = format!("sha256:{}", "cd".repeat(32));
        let tagged = version(
            &digest,
            serde_json::json!({"package_type": "container", "container": {"tags": ["v1"]}}),
        );
        let json = serde_json::to_value(&tagged).unwrap();
        assert_eq!(json["id"], 7);
        let back: PackageVersion = serde_json::from_value(json).unwrap();
        assert_eq!(back, tagged);
        assert_eq!(back.id(), 7);
        assert_eq!(back.name(), digest);
    }
}
