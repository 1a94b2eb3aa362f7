//! The operations table written next to the client: each operation's identity, method, path
//! template, classic token scopes, documentation, whether GitHub answers it without a token
//! (`x-github-allows-anonymous`) and the path parameters that may hold `/`
//! (`x-ghpkg-allow-slash`), from the spec and nowhere else. The hooks check every path
//! parameter's value against the table before a request is sent.
//!
//! When the spec groups its operations by owner and action (`x-ghpkg-owner` and
//! `x-ghpkg-action` on every operation, described once in the top-level `x-ghpkg-owners` and
//! `x-ghpkg-actions` maps), the table also gets typed `OwnerFamily` and `Action` enums, and
//! `Action::spec(owner)` picks one operation from the grid.

use std::collections::BTreeMap;

use openapiv3::{OpenAPI, Operation, Parameter, ReferenceOr};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::Error;

/// One operation as the table records it.
struct Entry {
    id: String,
    summary: String,
    name: String,
    method: String,
    path: String,
    scopes: Vec<String>,
    docs_url: String,
    owner: String,
    action: String,
    allows_anonymous: bool,
    slash_params: Vec<String>,
}

/// progenitor's method name for an operationId: snake case, anything else an underscore.
pub(crate) fn method_name(operation_id: &str) -> String {
    let mut name = String::new();
    let mut previous_lower = false;
    for c in operation_id.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous_lower {
                name.push('_');
            }
            name.push(c.to_ascii_lowercase());
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !name.ends_with('_') && !name.is_empty() {
                name.push('_');
            }
            previous_lower = false;
        }
    }
    name.trim_end_matches('_').to_string()
}

/// `list-docker-conflicts` as `ListDockerConflicts`.
fn camel(kebab: &str) -> String {
    kebab
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect()
}

fn string_extension(operation: &Operation, name: &str) -> Option<String> {
    operation.extensions.get(name)?.as_str().map(str::to_string)
}

/// The path parameters of `operation` (and of its path item) marked `x-ghpkg-allow-slash: true`.
fn slash_params(
    document: &OpenAPI,
    shared: &[ReferenceOr<Parameter>],
    operation: &Operation,
    id: &str,
) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    for parameter in shared.iter().chain(&operation.parameters) {
        let parameter = match parameter {
            ReferenceOr::Item(parameter) => parameter,
            ReferenceOr::Reference { reference } => {
                let name = reference
                    .strip_prefix("#/components/parameters/")
                    .ok_or_else(|| {
                        Error::Spec(format!(
                            "{id}: parameter $ref {reference} is not a component"
                        ))
                    })?;
                document
                    .components
                    .as_ref()
                    .and_then(|components| components.parameters.get(name))
                    .and_then(ReferenceOr::as_item)
                    .ok_or_else(|| {
                        Error::Spec(format!(
                            "{id}: parameter {reference} is not defined inline in components"
                        ))
                    })?
            }
        };
        let Parameter::Path { parameter_data, .. } = parameter else {
            continue;
        };
        match parameter_data.extensions.get("x-ghpkg-allow-slash") {
            None | Some(serde_json::Value::Bool(false)) => {}
            Some(serde_json::Value::Bool(true)) => names.push(parameter_data.name.clone()),
            Some(_) => {
                return Err(Error::Spec(format!(
                    "{id}: x-ghpkg-allow-slash on {} must be true or false",
                    parameter_data.name
                )));
            }
        }
    }
    Ok(names)
}

fn entries(document: &OpenAPI) -> Result<Vec<Entry>, Error> {
    let mut entries = Vec::new();
    for (path, item) in &document.paths.paths {
        let ReferenceOr::Item(item) = item else {
            return Err(Error::Spec(format!("path {path} is a $ref; inline it")));
        };
        for (method, operation) in item.iter() {
            let id = operation.operation_id.clone().ok_or_else(|| {
                Error::Spec(format!(
                    "{} {path} has no operationId",
                    method.to_uppercase()
                ))
            })?;
            let scopes = match operation.extensions.get("x-github-classic-scopes") {
                None => Vec::new(),
                Some(value) => serde_json::from_value(value.clone()).map_err(|_| {
                    Error::Spec(format!(
                        "{id}: x-github-classic-scopes must be an array of strings"
                    ))
                })?,
            };
            let allows_anonymous = match operation.extensions.get("x-github-allows-anonymous") {
                None => false,
                Some(value) => value.as_bool().ok_or_else(|| {
                    Error::Spec(format!("{id}: x-github-allows-anonymous must be a boolean"))
                })?,
            };
            let slash_params = slash_params(document, &item.parameters, operation, &id)?;
            entries.push(Entry {
                slash_params,
                name: method_name(&id),
                summary: operation.summary.clone().unwrap_or_default(),
                id,
                method: method.to_uppercase(),
                path: path.clone(),
                scopes,
                docs_url: operation
                    .external_docs
                    .as_ref()
                    .map(|docs| docs.url.clone())
                    .unwrap_or_default(),
                owner: string_extension(operation, "x-ghpkg-owner").unwrap_or_default(),
                action: string_extension(operation, "x-ghpkg-action").unwrap_or_default(),
                allows_anonymous,
            });
        }
    }
    Ok(entries)
}

/// A top-level `x-…` map of names to descriptions, in the spec's order.
fn described(document: &OpenAPI, name: &str) -> Result<Option<Vec<(String, String)>>, Error> {
    let Some(value) = document.extensions.get(name) else {
        return Ok(None);
    };
    let map = value
        .as_object()
        .ok_or_else(|| Error::Spec(format!("{name} must map names to descriptions")))?;
    map.iter()
        .map(|(key, description)| {
            let description = description
                .as_str()
                .ok_or_else(|| Error::Spec(format!("{name}.{key} must be a string description")))?;
            Ok((key.clone(), description.to_string()))
        })
        .collect::<Result<Vec<_>, Error>>()
        .map(Some)
}

/// The `operations` module: the table, and the typed grid when the spec declares one.
pub(crate) fn table(document: &OpenAPI, api: &TokenStream) -> Result<TokenStream, Error> {
    let entries = entries(document)?;
    let count = entries.len();
    let rows = entries.iter().map(|entry| {
        let Entry {
            id,
            summary,
            name,
            method,
            path,
            scopes,
            docs_url,
            owner,
            action,
            allows_anonymous,
            slash_params,
        } = entry;
        quote! {
            #api::OperationSpec {
                id: #id,
                summary: #summary,
                name: #name,
                method: #method,
                path: #path,
                scopes: &[#(#scopes),*],
                docs_url: #docs_url,
                owner: #owner,
                action: #action,
                allows_anonymous: #allows_anonymous,
                slash_params: &[#(#slash_params),*],
            }
        }
    });
    let named = entries.iter().enumerate().map(|(index, entry)| {
        let ident = format_ident!("{}", entry.name.to_ascii_uppercase());
        let doc = format!("`{}`: {}", entry.id, entry.summary);
        quote! {
            #[doc = #doc]
            pub static #ident: &#api::OperationSpec = &OPERATIONS[#index];
        }
    });
    let grid = grid(document, &entries, api)?;
    Ok(quote! {
        /// The operations of this client, generated from the spec: identity, method, path
        /// template, the classic token scopes each needs, and where GitHub documents it.
        pub mod operations {
            /// Every operation, in the spec's order.
            pub static OPERATIONS: [#api::OperationSpec; #count] = [#(#rows),*];

            #(#named)*

            /// The operation whose generated method is `name` (as in `OperationInfo`).
            pub fn by_name(name: &str) -> Option<&'static #api::OperationSpec> {
                OPERATIONS.iter().find(|operation| operation.name == name)
            }

            /// The operation with GitHub's operationId `id`.
            pub fn by_id(id: &str) -> Option<&'static #api::OperationSpec> {
                OPERATIONS.iter().find(|operation| operation.id == id)
            }

            #grid
        }
    })
}

/// `OwnerFamily` and `Action`, when every operation names both and every pair is one operation.
fn grid(document: &OpenAPI, entries: &[Entry], api: &TokenStream) -> Result<TokenStream, Error> {
    let (Some(owners), Some(actions)) = (
        described(document, "x-ghpkg-owners")?,
        described(document, "x-ghpkg-actions")?,
    ) else {
        return Ok(TokenStream::new());
    };
    let mut cells: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (index, entry) in entries.iter().enumerate() {
        let known_owner = owners.iter().any(|(name, _)| *name == entry.owner);
        let known_action = actions.iter().any(|(name, _)| *name == entry.action);
        if !known_owner || !known_action {
            return Err(Error::Spec(format!(
                "{}: x-ghpkg-owner {:?} / x-ghpkg-action {:?} must name entries of \
                 x-ghpkg-owners and x-ghpkg-actions",
                entry.id, entry.owner, entry.action
            )));
        }
        if cells
            .insert((entry.owner.as_str(), entry.action.as_str()), index)
            .is_some()
        {
            return Err(Error::Spec(format!(
                "two operations are {} / {}",
                entry.owner, entry.action
            )));
        }
    }
    let owner_idents: Vec<_> = owners
        .iter()
        .map(|(name, _)| format_ident!("{}", camel(name)))
        .collect();
    let owner_names: Vec<&str> = owners.iter().map(|(name, _)| name.as_str()).collect();
    let owner_docs: Vec<&str> = owners.iter().map(|(_, doc)| doc.as_str()).collect();
    let action_idents: Vec<_> = actions
        .iter()
        .map(|(name, _)| format_ident!("{}", camel(name)))
        .collect();
    let action_names: Vec<&str> = actions.iter().map(|(name, _)| name.as_str()).collect();
    let action_docs: Vec<&str> = actions.iter().map(|(_, doc)| doc.as_str()).collect();

    let mut scopes_arms = Vec::new();
    let mut spec_arms = Vec::new();
    for ((action, _), action_ident) in actions.iter().zip(&action_idents) {
        let mut scopes: Option<&Vec<String>> = None;
        let mut method: Option<&str> = None;
        for ((owner, _), owner_ident) in owners.iter().zip(&owner_idents) {
            let index = *cells
                .get(&(owner.as_str(), action.as_str()))
                .ok_or_else(|| Error::Spec(format!("no operation is {owner} / {action}")))?;
            let entry = &entries[index];
            if scopes.is_some_and(|s| *s != entry.scopes)
                || method.is_some_and(|m| m != entry.method)
            {
                return Err(Error::Spec(format!(
                    "the operations of action {action} disagree on method or scopes"
                )));
            }
            scopes = Some(&entry.scopes);
            method = Some(&entry.method);
            spec_arms.push(
                quote!((Action::#action_ident, OwnerFamily::#owner_ident) => &OPERATIONS[#index]),
            );
        }
        let scopes = scopes.cloned().unwrap_or_default();
        scopes_arms.push(quote!(Action::#action_ident => &[#(#scopes),*]));
    }
    // Every operation of an action has one method (checked above), so any family's answers.
    let first_owner = owner_idents
        .first()
        .ok_or_else(|| Error::Spec("x-ghpkg-owners names no owner family".to_owned()))?;
    let owner_count = owners.len();
    let action_count = actions.len();
    Ok(quote! {
        /// Whose packages an operation addresses: the three families of operations.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum OwnerFamily {
            #(#[doc = #owner_docs] #owner_idents,)*
        }

        impl OwnerFamily {
            /// Every family, in the spec's order.
            pub const ALL: [OwnerFamily; #owner_count] = [#(OwnerFamily::#owner_idents),*];

            /// The name the spec gives this family (`x-ghpkg-owner`).
            pub fn as_str(self) -> &'static str {
                match self {
                    #(OwnerFamily::#owner_idents => #owner_names,)*
                }
            }
        }

        /// What an operation does, whichever owner it addresses.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            #(#[doc = #action_docs] #action_idents,)*
        }

        impl Action {
            /// Every action, in the spec's order.
            pub const ALL: [Action; #action_count] = [#(Action::#action_idents),*];

            /// The name the spec gives this action (`x-ghpkg-action`).
            pub fn as_str(self) -> &'static str {
                match self {
                    #(Action::#action_idents => #action_names,)*
                }
            }

            /// A short human description ("delete package version").
            pub fn description(self) -> &'static str {
                match self {
                    #(Action::#action_idents => #action_docs,)*
                }
            }

            /// The classic token scopes the action needs (`x-github-classic-scopes`).
            pub fn required_scopes(self) -> &'static [&'static str] {
                match self {
                    #(#scopes_arms,)*
                }
            }

            /// Whether the action changes anything (its method is a write, as
            /// `OperationSpec::is_write` decides for every request).
            pub fn is_write(self) -> bool {
                self.spec(OwnerFamily::#first_owner).is_write()
            }

            /// The operation that does this action for `owner`.
            pub fn spec(self, owner: OwnerFamily) -> &'static #api::OperationSpec {
                match (self, owner) {
                    #(#spec_arms,)*
                }
            }
        }

        impl ::std::fmt::Display for Action {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(self.description())
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_follow_progenitor() {
        assert_eq!(
            method_name("packages/list-packages-for-organization"),
            "packages_list_packages_for_organization"
        );
        assert_eq!(
            method_name("users/get-by-username"),
            "users_get_by_username"
        );
        assert_eq!(method_name("rate-limit/get"), "rate_limit_get");
    }

    #[test]
    fn kebab_names_become_variants() {
        assert_eq!(camel("list-docker-conflicts"), "ListDockerConflicts");
        assert_eq!(camel("authenticated-user"), "AuthenticatedUser");
    }
}
