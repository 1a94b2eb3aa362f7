//! `ghpkg verify TYPE NAME…`: every tag of each package still pulls whole — it resolves in the
//! registry to the version GitHub lists it on, and every child and referrer of a tagged image
//! exists. Exits 6 on damage, naming each broken tag.

use ghpkg::PackageType;

use crate::cli::VerifyArgs;
use crate::exit::Exit;
use crate::failure::Failure;
use crate::render::table::{Cell, Table};
use crate::render::time::counted;
use crate::render::{DELETE, HEADING, KEEP, styled};
use crate::shapes::{BrokenTagInfo, OwnerRef, PackageVerification, VerifyResult};

use super::Context;

/// Runs `ghpkg verify`.
pub async fn run(context: &Context<'_>, args: &VerifyArgs) -> Result<Exit, Failure> {
    if !matches!(
        args.package_type,
        PackageType::Container | PackageType::Docker
    ) {
        return Err(Failure::new(
            ghpkg::ErrorKind::InvalidInput,
            Exit::Usage,
            format!(
                "verify checks container images; {} packages have no image graph",
                args.package_type
            ),
        ));
    }
    let connection = context.connect().await?;
    let registry = connection.registry(&args.registry)?;
    let scope = connection.scope();
    let mut packages = Vec::with_capacity(args.packages.len());
    for name in &args.packages {
        let report = scope
            .package(args.package_type.clone(), name.clone())
            .verify(&registry)
            .await?;
        packages.push(PackageVerification {
            package: name.clone(),
            tags: report.tags,
            manifests: report.manifests,
            broken: report
                .broken
                .into_iter()
                .map(|broken| BrokenTagInfo {
                    tag: broken.tag,
                    digest: broken.digest,
                    problem: broken.problem,
                })
                .collect(),
        });
    }
    let whole = packages.iter().all(|package| package.broken.is_empty());
    let result = VerifyResult {
        owner: OwnerRef::from(&connection.owner),
        packages,
        whole,
    };
    if context.out.json {
        context.out.json(&result);
    } else {
        context.out.text(&human(&result));
    }
    Ok(if whole { Exit::Success } else { Exit::Damaged })
}

fn human(result: &VerifyResult) -> String {
    let mut out = String::new();
    for package in &result.packages {
        let verdict = if package.broken.is_empty() {
            styled(KEEP, "every tag pulls whole")
        } else {
            styled(
                DELETE,
                format!("{} broken", counted(package.broken.len(), "tag")),
            )
        };
        out.push_str(&format!(
            "{}  {} and {} checked: {verdict}\n",
            styled(HEADING, &package.package),
            counted(package.tags, "tag"),
            counted(package.manifests, "manifest"),
        ));
        if !package.broken.is_empty() {
            let mut table = Table::new(&["TAG", "DIGEST", "PROBLEM"]).indent(2);
            for broken in &package.broken {
                table.row(vec![
                    Cell::new(&broken.tag).style(DELETE),
                    broken.digest.as_str().into(),
                    broken.problem.as_str().into(),
                ]);
            }
            out.push_str(&table.render());
        }
    }
    out
}
