//! `ghpkg policy check FILE` and `ghpkg policy explain FILE TYPE NAME [VERSION]`, and the one
//! place a policy file is read (`prune --policy` reads it here too).

use std::io::Read;
use std::path::Path;

use ghpkg::PackageType;
use ghpkg::retention::{
    Decision, MAX_POLICY_BYTES, PackageFacts, Policy, PolicyRule, RuleAction, VersionDecision,
    plan_policy,
};
use serde::Serialize;

use crate::cli::{PolicyCommand, RegistryArgs};
use crate::exit::Exit;
use crate::failure::{CliKind, Failure};
use crate::render::plan::patterns;
use crate::render::{DIM, HEADING, styled};

use super::Context;

/// Reads and validates the policy in `path`; a problem is a usage failure that points at its
/// line and column.
pub fn load(path: &Path) -> Result<Policy, Failure> {
    let file = std::fs::File::open(path).map_err(|error| Failure::io("read", path, &error))?;
    let mut text = String::new();
    file.take(MAX_POLICY_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|error| Failure::io("read", path, &error))?;
    Policy::from_toml(&text).map_err(|error| {
        Failure::new(
            CliKind::InvalidPolicy,
            Exit::Usage,
            error.render(&path.display().to_string()),
        )
    })
}

/// Runs `ghpkg policy …`.
pub async fn run(context: &Context<'_>, command: &PolicyCommand) -> Result<Exit, Failure> {
    match command {
        PolicyCommand::Check { file } => check(context, file),
        PolicyCommand::Explain {
            file,
            package_type,
            name,
            only,
            registry,
        } => {
            let package = (package_type, name.as_str());
            explain(context, file, package, only.as_deref(), registry).await
        }
    }
}

/// `policy check`'s `--json`.
#[derive(Serialize)]
struct CheckResult<'p> {
    file: String,
    valid: bool,
    policy: &'p Policy,
}

fn check(context: &Context<'_>, file: &Path) -> Result<Exit, Failure> {
    let policy = load(file)?;
    if context.out.json {
        context.out.json(&CheckResult {
            file: file.display().to_string(),
            valid: true,
            policy: &policy,
        });
        return Ok(Exit::Success);
    }
    let mut out = format!(
        "{} {}: {} rule{}, valid\n",
        styled(HEADING, "Policy"),
        file.display(),
        policy.rules.len(),
        if policy.rules.len() == 1 { "" } else { "s" }
    );
    for rule in &policy.rules {
        out.push_str(&format!("  {}\n", describe(rule)));
    }
    out.push_str(&format!(
        "  {}\n",
        styled(
            DIM,
            "Keep rules win over delete rules; protected tags and versions apply to every rule."
        )
    ));
    context.out.text(&out);
    Ok(Exit::Success)
}

/// One rule in a line: `delete "old pull requests": container web/*`.
fn describe(rule: &PolicyRule) -> String {
    let packages = if rule.packages.is_empty() {
        "every package".to_owned()
    } else {
        patterns(&rule.packages)
    };
    let excluded = if rule.exclude_packages.is_empty() {
        String::new()
    } else {
        format!(" except {}", patterns(&rule.exclude_packages))
    };
    format!(
        "{} `{}`: {} {packages}{excluded}",
        rule.action, rule.name, rule.package_type
    )
}

/// Why a rule does or does not select package `name` of `package_type`.
fn selection(rule: &PolicyRule, package_type: &str, name: &str) -> Result<(), String> {
    if !rule.package_type.eq_ignore_ascii_case(package_type) {
        return Err(format!("it is for {} packages", rule.package_type));
    }
    if let Some(pattern) = rule.exclude_packages.iter().find(|p| p.is_match(name)) {
        return Err(format!("exclude_packages pattern `{pattern}` matches"));
    }
    if !rule.packages.is_empty() && !rule.packages.iter().any(|p| p.is_match(name)) {
        return Err("no pattern of packages matches".to_owned());
    }
    Ok(())
}

/// `policy explain`'s `--json`.
#[derive(Serialize)]
struct Explanation<'p> {
    package_type: String,
    package: String,
    /// The rules, each with whether it selects the package and why not.
    rules: Vec<RuleSelection<'p>>,
    /// The decisions, newest first (only VERSION's when given).
    decisions: Vec<&'p VersionDecision>,
}

#[derive(Serialize)]
struct RuleSelection<'p> {
    rule: &'p str,
    action: RuleAction,
    selects: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    why_not: Option<String>,
    /// With VERSION: what the rule alone (with the policy's protections) decides for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    alone: Option<VersionDecision>,
}

async fn explain(
    context: &Context<'_>,
    file: &Path,
    (package_type, name): (&PackageType, &str),
    version: Option<&str>,
    registry: &RegistryArgs,
) -> Result<Exit, Failure> {
    let policy = load(file)?;
    let type_name = package_type.to_string();
    let mut selections: Vec<RuleSelection<'_>> = policy
        .rules
        .iter()
        .map(|rule| {
            let why_not = selection(rule, &type_name, name).err();
            RuleSelection {
                rule: &rule.name,
                action: rule.action,
                selects: why_not.is_none(),
                why_not,
                alone: None,
            }
        })
        .collect();
    let selected = selections.iter().any(|s| s.selects);
    let plan = if selected {
        let connection = context.connect().await?;
        let scope = connection.scope();
        let login = connection.authenticated_login().await;
        let target = scope.target(package_type, login.as_deref());
        let registry = connection.registry(registry)?;
        let package = scope.package(package_type.clone(), name.to_owned());
        let facts: PackageFacts = package
            .facts_for_policy(&registry, &target, &policy, context.now, &|_| {})
            .await?;
        if let Some(wanted) = version {
            // What each rule that selects the package decides alone, to show why they combine
            // as they do.
            for (selection, rule) in selections.iter_mut().zip(&policy.rules) {
                if !selection.selects {
                    continue;
                }
                let alone = Policy {
                    rules: vec![rule.clone()],
                    ..policy.clone()
                };
                let plan = plan_policy(&target, vec![facts.clone()], &alone, context.now)?;
                selection.alone = plan
                    .packages
                    .into_iter()
                    .flat_map(|package| package.decisions)
                    .find(|decision| names(decision, wanted));
            }
        }
        Some(plan_policy(&target, vec![facts], &policy, context.now)?)
    } else {
        None
    };
    let decisions: Vec<&VersionDecision> = plan
        .iter()
        .flat_map(|plan| &plan.packages)
        .flat_map(|package| &package.decisions)
        .filter(|decision| version.is_none_or(|wanted| names(decision, wanted)))
        .collect();
    if let Some(wanted) = version
        && selected
        && decisions.is_empty()
    {
        return Err(Failure::new(
            CliKind::Usage,
            Exit::Usage,
            format!("{type_name} package `{name}` has no version `{wanted}`"),
        )
        .with_hint(
            "Give a version id, its name (a digest or version string) or one of its tags.",
        ));
    }
    if context.out.json {
        context.out.json(&Explanation {
            package_type: type_name,
            package: name.to_owned(),
            rules: selections,
            decisions,
        });
        return Ok(Exit::Success);
    }
    let mut out = format!(
        "{} {type_name} package {name}\n",
        styled(HEADING, "Policy rules for")
    );
    for (selection, rule) in selections.iter().zip(&policy.rules) {
        match &selection.why_not {
            None => {
                out.push_str(&format!("  selects:  {}\n", describe(rule)));
                if let Some(alone) = &selection.alone {
                    out.push_str(&format!(
                        "            {} {}: {}\n",
                        styled(DIM, "alone, it would say"),
                        alone.reason,
                        alone.detail
                    ));
                }
            }
            Some(why) => out.push_str(&format!(
                "  {} {} ({why})\n",
                styled(DIM, "ignores: "),
                styled(DIM, describe(rule))
            )),
        }
    }
    if !selected {
        out.push_str("No rule selects the package: prune --policy leaves it alone.\n");
    } else if !decisions.is_empty() {
        out.push_str(&format!("{}\n", styled(HEADING, "Together, they decide")));
    }
    for decision in &decisions {
        let rule = match &decision.policy {
            Some(rule) => match &rule.overruled {
                Some(overruled) => format!(" [rule {}, over rule {overruled}]", rule.rule),
                None => format!(" [rule {}]", rule.rule),
            },
            None => String::new(),
        };
        let tags = if decision.tags.is_empty() {
            String::new()
        } else {
            format!(" ({})", decision.tags.join(", "))
        };
        let verb = match decision.decision {
            Decision::Keep => "keep  ",
            Decision::Delete => "delete",
        };
        out.push_str(&format!(
            "{verb} {}{tags} {}{rule}: {}\n",
            decision.id, decision.reason, decision.detail
        ));
    }
    context.out.text(&out);
    Ok(Exit::Success)
}

/// Whether `wanted` names the version: its id, its name, or one of its tags.
fn names(decision: &VersionDecision, wanted: &str) -> bool {
    decision.id.to_string() == wanted
        || &*decision.name == wanted
        || decision.tags.iter().any(|tag| tag == wanted)
}
