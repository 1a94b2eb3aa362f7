//! Every example response in the spec (all taken from GitHub's reference page) decodes into the
//! generated response type of its operation, and encodes back to equal JSON: no field is
//! silently dropped by the model.

use ghpkg_api::types::{Package, PackageVersion};
use ghpkg_tests::{SPEC_PATH, read_repo_file};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn round_trip<T: DeserializeOwned + Serialize>(operation_id: &str, example: &Value) {
    let decoded: T = serde_json::from_value(example.clone())
        .unwrap_or_else(|error| panic!("{operation_id}: example does not decode: {error}"));
    let encoded = serde_json::to_value(&decoded).unwrap();
    assert_eq!(
        &encoded, example,
        "{operation_id}: the example changed on the way through the model"
    );
}

#[test]
fn every_example_decodes_into_its_generated_type_and_encodes_back_unchanged() {
    let spec: Value = serde_json::from_str(&read_repo_file(SPEC_PATH)).unwrap();
    let mut checked = 0;
    for item in spec["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            let id = operation["operationId"].as_str().unwrap();
            let Some(content) =
                operation["responses"]["200"]["content"]["application/json"].as_object()
            else {
                continue;
            };
            let example = content
                .get("example")
                .unwrap_or_else(|| panic!("{id}: the seed shows an example for every 200"));
            let schema = &content["schema"];
            let reference = schema["$ref"]
                .as_str()
                .or_else(|| schema["items"]["$ref"].as_str())
                .unwrap();
            let is_list = schema["type"] == "array";
            match (reference, is_list) {
                ("#/components/schemas/package", false) => round_trip::<Package>(id, example),
                ("#/components/schemas/package", true) => round_trip::<Vec<Package>>(id, example),
                ("#/components/schemas/package-version", false) => {
                    round_trip::<PackageVersion>(id, example)
                }
                ("#/components/schemas/package-version", true) => {
                    round_trip::<Vec<PackageVersion>>(id, example)
                }
                other => panic!("{id}: unexpected response schema {other:?}"),
            }
            checked += 1;
        }
    }
    assert_eq!(
        checked, 15,
        "the reference page shows 15 example bodies (every 200 response)"
    );
}

#[test]
fn unknown_package_types_and_visibilities_still_decode() {
    let mut package: Value = serde_json::from_str(
        r#"{"id": 1, "name": "x", "package_type": "pypi", "visibility": "internal",
            "url": "u", "html_url": "h", "version_count": 1,
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    let decoded: Package = serde_json::from_value(package.clone()).unwrap();
    assert_eq!(decoded.package_type, "pypi");
    assert_eq!(decoded.visibility, "internal");
    package["repository"] = Value::Null;
    let decoded: Package = serde_json::from_value(package).unwrap();
    assert!(
        decoded.repository.is_none(),
        "a null repository decodes as none"
    );
}

#[test]
fn docker_metadata_accepts_both_tag_spellings() {
    for key in ["tag", "tags"] {
        let version: PackageVersion = serde_json::from_value(serde_json::json!({
            "id": 1, "name": "sha256:abc", "url": "u", "package_html_url": "p",
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
            "metadata": {"package_type": "docker", "docker": {key: ["latest"]}}
        }))
        .unwrap();
        let docker = version.metadata.unwrap().docker.unwrap();
        let tags = if key == "tag" {
            docker.tag
        } else {
            docker.tags
        };
        assert_eq!(tags, vec!["latest".to_string()]);
    }
}
