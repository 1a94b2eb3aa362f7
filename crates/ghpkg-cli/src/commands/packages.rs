//! `ghpkg packages list|get|delete|restore`.

use futures::TryStreamExt;
use ghpkg::{Package, PackageType};

use crate::cli::{PackageRef, PackagesCommand};
use crate::connection::{Connection, owner_flag};
use crate::exit::Exit;
use crate::failure::Failure;
use crate::render::table::{Cell, Table};
use crate::render::time::{count, counted, relative, timestamp};
use crate::render::{DIM, HEADING, capitalized, styled};
use crate::shapes::{Change, OwnerRef, PackageInfo, PackageList};

use super::Context;
use super::confirm::confirm;

/// Runs `ghpkg packages …`.
pub async fn run(context: &Context<'_>, command: &PackagesCommand) -> Result<Exit, Failure> {
    let connection = context.connect().await?;
    match command {
        PackagesCommand::List {
            package_type,
            visibility,
        } => {
            let mut listing = connection.scope().packages(package_type.clone());
            if let Some(visibility) = visibility {
                listing = listing.visibility(visibility.clone());
            }
            let packages: Vec<Package> = listing.stream().try_collect().await?;
            let list = PackageList {
                owner: OwnerRef::from(&connection.owner),
                package_type: package_type.as_str().to_string(),
                visibility: visibility.as_ref().map(|v| v.as_str().to_string()),
                packages: packages.iter().map(PackageInfo::from).collect(),
            };
            if context.out.json {
                context.out.json(&list);
            } else {
                context
                    .out
                    .text(&package_table(context, &connection, package_type, &list));
            }
        }
        PackagesCommand::Get(package) => {
            let found = connection.package(package).get().await?;
            let info = PackageInfo::from(&found);
            if context.out.json {
                context.out.json(&info);
            } else {
                context.out.text(&package_details(context, &info));
            }
        }
        PackagesCommand::Delete { package, yes } => {
            let what = format!(
                "{} package {} of {}",
                package.package_type, package.name, connection.owner
            );
            confirm(
                &format!("Delete {what} with all its versions"),
                &format!("delete {what}"),
                *yes,
            )?;
            connection.package(package).delete().await?;
            report_change(context, &connection, package, "deleted");
        }
        PackagesCommand::Restore(package) => {
            connection.package(package).restore().await?;
            report_change(context, &connection, package, "restored");
        }
    }
    Ok(Exit::Success)
}

fn report_change(
    context: &Context<'_>,
    connection: &Connection,
    package: &PackageRef,
    action: &str,
) {
    if context.out.json {
        context.out.json(&Change {
            action: action.to_string(),
            owner: OwnerRef::from(&connection.owner),
            package_type: package.package_type.as_str().to_string(),
            package: package.name.clone(),
            version_id: None,
        });
        return;
    }
    let mut text = format!(
        "{} {} package {} of {}.\n",
        capitalized(action),
        package.package_type,
        styled(HEADING, &package.name),
        connection.owner
    );
    if action == "deleted" {
        text.push_str(&format!(
            "{}\n",
            styled(
                DIM,
                format!(
                    "It can be restored within 30 days: ghpkg {} packages restore {} {}",
                    owner_flag(&connection.owner),
                    package.package_type,
                    package.name
                )
            )
        ));
    }
    context.out.text(&text);
}

/// The packages as a table, under a heading that says whose they are.
pub fn package_table(
    context: &Context<'_>,
    connection: &Connection,
    package_type: &PackageType,
    list: &PackageList,
) -> String {
    let whose = format!("{package_type} packages of {}", connection.owner);
    if list.packages.is_empty() {
        return format!("No {whose}.\n");
    }
    let mut table = Table::new(&["NAME", "VISIBILITY", "VERSIONS", "REPOSITORY", "UPDATED"]);
    for package in &list.packages {
        table.row(vec![
            Cell::new(&package.name).style(HEADING),
            package.visibility.as_str().into(),
            Cell::new(count(package.version_count)).right(),
            package.repository.as_deref().unwrap_or("-").into(),
            relative(package.updated_at, context.now).into(),
        ]);
    }
    format!(
        "{} ({})\n\n{}",
        capitalized(&whose),
        counted(list.packages.len(), "package"),
        table.render()
    )
}

/// One package, field by field.
pub fn package_details(context: &Context<'_>, package: &PackageInfo) -> String {
    let mut table = Table::new(&[]).indent(2);
    let at = |time: chrono::DateTime<chrono::Utc>| {
        format!("{} ({})", relative(time, context.now), timestamp(time))
    };
    table.row(vec![
        Cell::new("id").style(DIM),
        package.id.to_string().into(),
    ]);
    table.row(vec![
        Cell::new("owner").style(DIM),
        package.owner.as_deref().unwrap_or("-").into(),
    ]);
    table.row(vec![
        Cell::new("versions").style(DIM),
        count(package.version_count).into(),
    ]);
    table.row(vec![
        Cell::new("repository").style(DIM),
        package.repository.as_deref().unwrap_or("-").into(),
    ]);
    table.row(vec![
        Cell::new("created").style(DIM),
        at(package.created_at).into(),
    ]);
    table.row(vec![
        Cell::new("updated").style(DIM),
        at(package.updated_at).into(),
    ]);
    table.row(vec![
        Cell::new("url").style(DIM),
        package.html_url.as_str().into(),
    ]);
    format!(
        "{}  {}\n{}",
        styled(HEADING, &package.name),
        styled(
            DIM,
            format!("{}, {}", package.package_type, package.visibility)
        ),
        table.render()
    )
}
