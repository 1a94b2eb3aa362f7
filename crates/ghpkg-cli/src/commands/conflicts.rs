//! `ghpkg conflicts`: the Docker-migration conflict list.

use crate::exit::Exit;
use crate::failure::Failure;
use crate::render::HEADING;
use crate::render::table::{Cell, Table};
use crate::render::time::counted;
use crate::shapes::{ConflictList, OwnerRef, PackageInfo};

use super::Context;

/// Runs `ghpkg conflicts`.
pub async fn run(context: &Context<'_>) -> Result<Exit, Failure> {
    let connection = context.connect().await?;
    let packages = connection.scope().docker_conflicts().await?;
    let list = ConflictList {
        owner: OwnerRef::from(&connection.owner),
        packages: packages.iter().map(PackageInfo::from).collect(),
    };
    if context.out.json {
        context.out.json(&list);
        return Ok(Exit::Success);
    }
    if list.packages.is_empty() {
        context.out.text(&format!(
            "No packages of {} conflicted in the Docker-to-Container-registry migration.\n",
            connection.owner
        ));
        return Ok(Exit::Success);
    }
    let mut table = Table::new(&["NAME", "TYPE", "VISIBILITY", "REPOSITORY"]);
    for package in &list.packages {
        table.row(vec![
            Cell::new(&package.name).style(HEADING),
            package.package_type.as_str().into(),
            package.visibility.as_str().into(),
            package.repository.as_deref().unwrap_or("-").into(),
        ]);
    }
    context.out.text(&format!(
        "Docker-migration conflicts of {} ({})\n\n{}",
        connection.owner,
        counted(list.packages.len(), "package"),
        table.render()
    ));
    Ok(Exit::Success)
}
