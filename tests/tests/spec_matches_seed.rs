//! The checked-in OpenAPI fragment says what GitHub's reference page says: the same
//! operations, paths, methods, headings, parameters, enums, defaults and status codes.
//!
//! The reference page is kept beside the spec (`spec/source/`) and parsed here, so that the
//! comparison is with the document itself, not with a second hand-written copy of it: adding an
//! operation means adding it to the page's copy and to the spec, and nothing here. The page does
//! not show operationIds, so those are checked where they can be: each is in GitHub's
//! `packages/` namespace, unique, and the generated table holds exactly the spec's. The page's
//! text lost the status-code numbers (only their descriptions survive), so those are the one
//! rule written out below.

use std::collections::{BTreeMap, BTreeSet};

use ghpkg_tests::{SPEC_PATH, SPEC_SOURCE_PATH, read_repo_file};
use openapiv3::{OpenAPI, Parameter, ReferenceOr, Schema, SchemaKind, Type};

/// The status codes GitHub publishes for each operation, by operationId suffix pattern.
/// `get` operations also declare 401/403/404 on purpose (spec/README.md).
fn expected_statuses(operation_id: &str) -> Vec<&'static str> {
    let id = operation_id.trim_start_matches("packages/");
    if id.starts_with("list-docker-migration") {
        if id.ends_with("authenticated-user") {
            vec!["200"]
        } else {
            vec!["200", "401", "403"]
        }
    } else if id.starts_with("list-packages") {
        if id.ends_with("authenticated-user") {
            vec!["200", "400"]
        } else {
            vec!["200", "400", "401", "403"]
        }
    } else if id.starts_with("get-") {
        vec!["200", "401", "403", "404"]
    } else {
        vec!["204", "401", "403", "404"]
    }
}

/// One operation as the reference page describes it.
#[derive(Debug)]
struct SeedOperation {
    summary: String,
    method: String,
    path: String,
    /// (name, location) -> (required, enum values, default)
    parameters: BTreeMap<(String, String), SeedParameter>,
}

#[derive(Debug, Default, PartialEq)]
struct SeedParameter {
    required: bool,
    values: Vec<String>,
    default: Option<String>,
}

fn parse_seed(text: &str) -> Vec<SeedOperation> {
    let lines: Vec<&str> = text.lines().collect();
    let starts_description = |line: &str| {
        ["Lists", "Gets", "Deletes", "Restores"]
            .iter()
            .any(|verb| line.starts_with(verb))
    };
    let heads: Vec<usize> = (0..lines.len().saturating_sub(2))
        .filter(|&i| {
            !lines[i].is_empty() && lines[i + 1].is_empty() && starts_description(lines[i + 2])
        })
        .collect();
    heads
        .iter()
        .enumerate()
        .map(|(n, &head)| {
            let end = heads.get(n + 1).copied().unwrap_or(lines.len());
            parse_block(&lines[head..end])
        })
        .collect()
}

fn parse_block(block: &[&str]) -> SeedOperation {
    let mut location = None;
    let mut parameters = BTreeMap::new();
    let mut last: Option<(String, String)> = None;
    let mut method = "get".to_string();
    let mut path = String::new();
    for line in block {
        let line = line.trim();
        match line {
            "Параметры пути" => location = Some("path"),
            "Параметры запроса" => location = Some("query"),
            _ if line.starts_with("Коды состояния") => location = None,
            _ if line.starts_with("curl -L") => {
                if let Some(rest) = line.split("-X ").nth(1) {
                    method = rest.split_whitespace().next().unwrap().to_lowercase();
                }
                let url = line.split("/api/v3").nth(1).unwrap();
                path = url
                    .trim()
                    .trim_matches('"')
                    .split('?')
                    .next()
                    .unwrap()
                    .replace("ORG", "{org}")
                    .replace("USERNAME", "{username}")
                    .replace("PACKAGE_TYPE", "{package_type}")
                    .replace("PACKAGE_NAME", "{package_name}")
                    .replace("PACKAGE_VERSION_ID", "{package_version_id}");
            }
            _ => {}
        }
        let Some(location) = location else { continue };
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() >= 2 && ["string", "integer"].contains(&words[1]) {
            let key = (words[0].to_string(), location.to_string());
            parameters.insert(
                key.clone(),
                SeedParameter {
                    required: line.ends_with("Обязательное поле"),
                    ..Default::default()
                },
            );
            last = Some(key);
        } else if let (Some(values), Some(key)) = (line.strip_prefix("Возможные значения:"), &last)
        {
            parameters.get_mut(key).unwrap().values =
                values.split(',').map(|v| v.trim().to_string()).collect();
        } else if let (Some(default), Some(key)) = (line.strip_prefix("По умолчанию.:"), &last)
        {
            parameters.get_mut(key).unwrap().default = Some(default.trim().to_string());
        }
    }
    SeedOperation {
        summary: block[0].trim().to_string(),
        method,
        path,
        parameters,
    }
}

fn resolve_parameter<'a>(
    spec: &'a OpenAPI,
    parameter: &'a ReferenceOr<Parameter>,
) -> &'a Parameter {
    match parameter {
        ReferenceOr::Item(item) => item,
        ReferenceOr::Reference { reference } => {
            let name = reference.trim_start_matches("#/components/parameters/");
            spec.components.as_ref().unwrap().parameters[name]
                .as_item()
                .expect("parameter refs are one level deep")
        }
    }
}

fn resolve_schema<'a>(spec: &'a OpenAPI, schema: &'a ReferenceOr<Schema>) -> &'a Schema {
    match schema {
        ReferenceOr::Item(item) => item,
        ReferenceOr::Reference { reference } => {
            let name = reference.trim_start_matches("#/components/schemas/");
            spec.components.as_ref().unwrap().schemas[name]
                .as_item()
                .expect("schema refs are one level deep")
        }
    }
}

/// The spec's parameter in the seed's terms.
fn spec_parameter(spec: &OpenAPI, parameter: &Parameter) -> ((String, String), SeedParameter) {
    let (data, location) = match parameter {
        Parameter::Path { parameter_data, .. } => (parameter_data, "path"),
        Parameter::Query { parameter_data, .. } => (parameter_data, "query"),
        other => panic!("unexpected parameter {other:?}"),
    };
    let openapiv3::ParameterSchemaOrContent::Schema(schema) = &data.format else {
        panic!("{} has no schema", data.name)
    };
    let schema = resolve_schema(spec, schema);
    let values = match &schema.schema_kind {
        SchemaKind::Type(Type::String(string)) => {
            string.enumeration.iter().flatten().cloned().collect()
        }
        _ => Vec::new(),
    };
    let default = schema
        .schema_data
        .default
        .as_ref()
        .map(|value| match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    (
        (data.name.clone(), location.to_string()),
        SeedParameter {
            required: data.required,
            values,
            default,
        },
    )
}

fn load() -> (OpenAPI, Vec<SeedOperation>) {
    let spec: OpenAPI = serde_json::from_str(&read_repo_file(SPEC_PATH)).expect("spec parses");
    let seed = parse_seed(&read_repo_file(SPEC_SOURCE_PATH));
    (spec, seed)
}

#[test]
fn spec_is_openapi_3_0_3() {
    let (spec, _) = load();
    assert_eq!(spec.openapi, "3.0.3");
}

/// The anchor GitHub's docs give a heading: lower case, spaces as `-`, punctuation dropped.
fn heading_anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn spec_holds_exactly_the_operations_of_the_reference_page() {
    let (spec, seed) = load();
    assert!(!seed.is_empty(), "the reference page's operations parse");
    let in_spec: BTreeSet<(String, String)> = spec
        .operations()
        .map(|(path, method, _)| (method.to_string(), path.to_string()))
        .collect();
    let on_page: BTreeSet<(String, String)> = seed
        .iter()
        .map(|operation| (operation.method.clone(), operation.path.clone()))
        .collect();
    assert_eq!(in_spec, on_page, "the spec's operations are the page's");
    assert_eq!(
        on_page.len(),
        seed.len(),
        "the page documents each operation once"
    );
    assert_eq!(spec.operations().count(), seed.len());
}

#[test]
fn every_seed_operation_has_its_summary_and_documentation_anchor_in_the_spec() {
    let (spec, seed) = load();
    for seed_op in &seed {
        let (_, _, operation) = spec
            .operations()
            .find(|(path, method, _)| *path == seed_op.path && *method == seed_op.method)
            .unwrap_or_else(|| panic!("{} {} missing", seed_op.method, seed_op.path));
        assert_eq!(operation.summary.as_deref(), Some(seed_op.summary.as_str()));
        let docs = operation
            .external_docs
            .as_ref()
            .map(|docs| docs.url.as_str());
        let expected = format!(
            "https://docs.github.com/rest/packages/packages#{}",
            heading_anchor(&seed_op.summary)
        );
        assert_eq!(
            docs,
            Some(expected.as_str()),
            "{} {}",
            seed_op.method,
            seed_op.path
        );
    }
}

#[test]
fn operation_ids_are_githubs_unique_and_the_generated_tables() {
    let (spec, _) = load();
    let ids: Vec<String> = spec
        .operations()
        .map(|(_, _, operation)| operation.operation_id.clone().expect("an operationId"))
        .collect();
    for id in &ids {
        let name = id
            .strip_prefix("packages/")
            .unwrap_or_else(|| panic!("{id} is not in GitHub's packages/ namespace"));
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{id} is not spelled as GitHub spells operationIds"
        );
    }
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "operationIds are unique");
    let generated: Vec<&str> = ghpkg_api::operations::OPERATIONS
        .iter()
        .map(|operation| operation.id)
        .collect();
    assert_eq!(
        generated, ids,
        "the generated table is the spec's; run `cargo xtask codegen`"
    );
}

#[test]
fn parameters_enums_and_defaults_match_the_seed_one_for_one() {
    let (spec, seed) = load();
    for seed_op in &seed {
        let (_, _, operation) = spec
            .operations()
            .find(|(path, method, _)| *path == seed_op.path && *method == seed_op.method)
            .unwrap();
        let mut spec_params: BTreeMap<_, _> = operation
            .parameters
            .iter()
            .map(|p| spec_parameter(&spec, resolve_parameter(&spec, p)))
            .collect();
        // The one deliberate addition (spec/README.md): the by-username version list pages too.
        if operation.operation_id.as_deref()
            == Some("packages/get-all-package-versions-for-package-owned-by-user")
        {
            for name in ["page", "per_page"] {
                let extra = spec_params
                    .remove(&(name.to_string(), "query".to_string()))
                    .unwrap_or_else(|| panic!("{name} is served on the by-username version list"));
                assert!(!extra.required);
            }
        }
        assert_eq!(
            spec_params, seed_op.parameters,
            "parameters of {} {}",
            seed_op.method, seed_op.path
        );
    }
}

#[test]
fn status_codes_match_what_github_publishes() {
    let (spec, _) = load();
    for (_, _, operation) in spec.operations() {
        let id = operation.operation_id.as_deref().unwrap();
        let codes: Vec<String> = operation
            .responses
            .responses
            .keys()
            .map(|code| code.to_string())
            .collect();
        assert_eq!(codes, expected_statuses(id), "status codes of {id}");
    }
}

#[test]
fn every_error_response_has_the_basic_error_json_body() {
    let spec: serde_json::Value = serde_json::from_str(&read_repo_file(SPEC_PATH)).unwrap();
    for (name, response) in spec["components"]["responses"].as_object().unwrap() {
        assert_eq!(
            response["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/basic-error",
            "{name}"
        );
    }
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (code, response) in operation["responses"].as_object().unwrap() {
                if code.starts_with('4') {
                    let reference = response["$ref"].as_str().unwrap_or_default();
                    assert!(
                        reference.starts_with("#/components/responses/"),
                        "{method} {path} {code} must reference a shared basic-error response"
                    );
                }
            }
        }
    }
}

#[test]
fn classic_token_scopes_follow_the_seed() {
    let spec: serde_json::Value = serde_json::from_str(&read_repo_file(SPEC_PATH)).unwrap();
    for item in spec["paths"].as_object().unwrap().values() {
        for (method, operation) in item.as_object().unwrap() {
            let scopes: Vec<&str> = operation["x-github-classic-scopes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            let expected = match method.as_str() {
                "get" => vec!["read:packages"],
                "delete" => vec!["read:packages", "delete:packages"],
                "post" => vec!["read:packages", "write:packages"],
                other => panic!("unexpected method {other}"),
            };
            assert_eq!(scopes, expected);
            let description = operation["description"].as_str().unwrap();
            assert!(
                description.contains(&expected.join(" and ")),
                "the description states the scopes: {description}"
            );
        }
    }
}

#[test]
fn shared_enums_are_components_defined_once() {
    let spec: serde_json::Value = serde_json::from_str(&read_repo_file(SPEC_PATH)).unwrap();
    let text = read_repo_file(SPEC_PATH);
    for (component, values) in [
        (
            "package-type",
            vec!["npm", "maven", "rubygems", "docker", "nuget", "container"],
        ),
        ("package-visibility", vec!["public", "private", "internal"]),
        ("package-version-state", vec!["active", "deleted"]),
    ] {
        let schema = &spec["components"]["schemas"][component];
        let found: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(found, values);
    }
    assert_eq!(
        text.matches("\"enum\"").count(),
        3,
        "every enum is one shared component"
    );
}
