//! `ghpkg versions list|get|delete|restore`.

use futures::TryStreamExt;
use ghpkg::{PackageVersion, VersionState};

use crate::cli::{VersionRef, VersionsCommand};
use crate::connection::{Connection, owner_flag};
use crate::exit::Exit;
use crate::failure::Failure;
use crate::render::names::{short_name, tag_list};
use crate::render::table::{Cell, Table};
use crate::render::time::{counted, relative, timestamp};
use crate::render::{DIM, HEADING, capitalized, styled};
use crate::shapes::{Change, OwnerRef, VersionInfo, VersionList};

use super::Context;

/// Runs `ghpkg versions …`.
pub async fn run(context: &Context<'_>, command: &VersionsCommand) -> Result<Exit, Failure> {
    let connection = context.connect().await?;
    match command {
        VersionsCommand::List { package, state } => {
            let mut listing = connection.package(package).versions();
            if let Some(state) = state {
                listing = listing.state(state.clone());
            }
            let versions: Vec<PackageVersion> = listing.stream().try_collect().await?;
            let list = VersionList {
                owner: OwnerRef::from(&connection.owner),
                package_type: package.package_type.as_str().to_string(),
                package: package.name.clone(),
                state: state
                    .clone()
                    .unwrap_or(VersionState::Active)
                    .as_str()
                    .to_string(),
                versions: versions.iter().map(VersionInfo::from).collect(),
            };
            if context.out.json {
                context.out.json(&list);
            } else {
                context
                    .out
                    .text(&version_table(context, &connection, &list));
            }
        }
        VersionsCommand::Get(version) => {
            let found = connection
                .package(&version.package)
                .version(version.id)
                .get()
                .await?;
            let info = VersionInfo::from(&found);
            if context.out.json {
                context.out.json(&info);
            } else {
                context.out.text(&version_details(context, &info));
            }
        }
        VersionsCommand::Delete(version) => {
            connection
                .package(&version.package)
                .version(version.id)
                .delete()
                .await?;
            report_change(context, &connection, version, "deleted");
        }
        VersionsCommand::Restore(version) => {
            connection
                .package(&version.package)
                .version(version.id)
                .restore()
                .await?;
            report_change(context, &connection, version, "restored");
        }
    }
    Ok(Exit::Success)
}

fn report_change(
    context: &Context<'_>,
    connection: &Connection,
    version: &VersionRef,
    action: &str,
) {
    let package = &version.package;
    if context.out.json {
        context.out.json(&Change {
            action: action.to_string(),
            owner: OwnerRef::from(&connection.owner),
            package_type: package.package_type.as_str().to_string(),
            package: package.name.clone(),
            version_id: Some(version.id),
        });
        return;
    }
    let mut text = format!(
        "{} version {} of {} package {} of {}.\n",
        capitalized(action),
        styled(HEADING, version.id),
        package.package_type,
        package.name,
        connection.owner
    );
    if action == "deleted" {
        text.push_str(&format!(
            "{}\n",
            styled(
                DIM,
                format!(
                    "It can be restored within 30 days: ghpkg {} versions restore {} {} {}",
                    owner_flag(&connection.owner),
                    package.package_type,
                    package.name,
                    version.id
                )
            )
        ));
    }
    context.out.text(&text);
}

fn version_table(context: &Context<'_>, connection: &Connection, list: &VersionList) -> String {
    let whose = format!(
        "{} versions of {} package {} of {}",
        list.state, list.package_type, list.package, connection.owner
    );
    if list.versions.is_empty() {
        return format!("No {whose}.\n");
    }
    let deleted = list.state == VersionState::Deleted.as_str();
    // Only container and docker versions have tags.
    let tagged = list.versions.iter().any(|version| !version.tags.is_empty());
    let mut header = vec!["ID"];
    if tagged {
        header.push("TAGS");
    }
    header.extend(["NAME", "CREATED", "UPDATED"]);
    if deleted {
        header.push("DELETED");
    }
    let mut table = Table::new(&header);
    for version in &list.versions {
        let mut row = vec![Cell::new(version.id.to_string()).style(HEADING)];
        if tagged {
            row.push(tag_list(&version.tags).into());
        }
        row.extend([
            short_name(&version.name).into(),
            relative(version.created_at, context.now).into(),
            relative(version.updated_at, context.now).into(),
        ]);
        if deleted {
            row.push(
                version
                    .deleted_at
                    .map_or_else(|| "-".to_string(), |at| relative(at, context.now))
                    .into(),
            );
        }
        table.row(row);
    }
    format!(
        "{} ({})\n\n{}",
        capitalized(&whose),
        counted(list.versions.len(), "version"),
        table.render()
    )
}

fn version_details(context: &Context<'_>, version: &VersionInfo) -> String {
    let at = |time: chrono::DateTime<chrono::Utc>| {
        format!("{} ({})", relative(time, context.now), timestamp(time))
    };
    let mut table = Table::new(&[]).indent(2);
    let mut field = |name: &str, value: String| {
        table.row(vec![Cell::new(name).style(DIM), value.into()]);
    };
    field("name", version.name.clone());
    field("tags", tag_list(&version.tags));
    field("created", at(version.created_at));
    field("updated", at(version.updated_at));
    if let Some(deleted) = version.deleted_at {
        field("deleted", at(deleted));
    }
    if let Some(license) = &version.license {
        field("license", license.clone());
    }
    if let Some(description) = &version.description {
        field("description", description.clone());
    }
    if let Some(url) = &version.html_url {
        field("url", url.clone());
    }
    format!(
        "{}\n{}",
        styled(HEADING, format!("version {}", version.id)),
        table.render()
    )
}
