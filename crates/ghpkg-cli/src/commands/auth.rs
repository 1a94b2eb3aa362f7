//! `ghpkg auth status`: where the token came from, its kind, its classic scopes and what they
//! allow, the account and the rate limit left.

use ghpkg::scopes::missing_scopes;
use ghpkg::{Action, TokenKind};
use ghpkg_account::AccountExt;

use crate::cli::AuthCommand;
use crate::connection::{Connection, TokenSource};
use crate::exit::Exit;
use crate::failure::Failure;
use crate::render::table::{Cell, Table};
use crate::render::time::{count, relative};
use crate::render::{DELETE, DIM, HEADING, KEEP, WARN, styled};
use crate::shapes::{AccountInfo, ActionAccess, AuthStatus, ErrorInfo, RateLimitInfo, TokenInfo};

use super::Context;

/// Runs `ghpkg auth status`; the status is printed whatever it finds. Exits 1 when the token
/// could not be checked or does not work (none, GitHub unreachable, answering with an error or
/// refusing the token), 8 when it works but its classic scopes do not allow every operation,
/// and 0 when it works and nothing says it cannot do everything.
pub async fn run(context: &Context<'_>, command: &AuthCommand) -> Result<Exit, Failure> {
    let AuthCommand::Status = command;
    let connection = context.connect().await?;
    let status = status(&connection).await;
    let exit = verdict(&connection.token, &status);
    if context.out.json {
        context.out.json(&status);
    } else {
        context.out.text(&human(context, &status));
    }
    Ok(exit)
}

/// The exit code of a status: any problem means the token could not be checked, or GitHub
/// refused it.
fn verdict(token: &TokenSource, status: &AuthStatus) -> Exit {
    if *token == TokenSource::None || !status.problems.is_empty() {
        Exit::Failure
    } else if !missing_everywhere(status).is_empty() {
        Exit::Insufficient
    } else {
        Exit::Success
    }
}

/// Every scope some operation needs and the token's classic scopes do not cover, in the order
/// of the operations; empty when the scopes are unknown (GitHub decides per request).
fn missing_everywhere(status: &AuthStatus) -> Vec<String> {
    let Some(granted) = &status.scopes else {
        return Vec::new();
    };
    let mut missing: Vec<String> = Vec::new();
    for action in &status.actions {
        let required: Vec<&str> = action.required_scopes.iter().map(String::as_str).collect();
        for scope in missing_scopes(&required, granted) {
            if !missing.contains(&scope) {
                missing.push(scope);
            }
        }
    }
    missing
}

async fn status(connection: &Connection) -> AuthStatus {
    let client = &connection.client;
    let kind = client.token_kind();
    let mut problems = Vec::new();
    let scopes = match kind {
        Some(kind) if kind.has_classic_scopes() => match client.token_scopes().await {
            Ok(scopes) => Some(scopes),
            Err(error) => {
                problems.push(ErrorInfo::from(&Failure::from(error)));
                None
            }
        },
        _ => None,
    };
    let actions = Action::ALL
        .iter()
        .map(|action| ActionAccess {
            action: action.as_str().to_string(),
            description: action.description().to_string(),
            required_scopes: action
                .required_scopes()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            allowed: scopes
                .as_ref()
                .map(|granted| missing_scopes(action.required_scopes(), granted).is_empty()),
        })
        .collect();
    // An installation token (GitHub Actions' GITHUB_TOKEN) belongs to no user: GitHub answers
    // `GET /user` with 403 for it, which says nothing about what it may do with packages.
    let account = if kind.is_some_and(|kind| kind != TokenKind::Installation) {
        match client.authenticated_account().await {
            Ok(account) => Some(AccountInfo {
                login: account.login.clone(),
                account_type: account.type_.clone(),
                name: account.name.clone(),
            }),
            Err(error) => {
                problems.push(ErrorInfo::from(&Failure::from(error)));
                None
            }
        }
    } else {
        None
    };
    let rate_limit = match client.rate_limits().await {
        Ok(limits) => Some(RateLimitInfo {
            limit: limits.rate.limit.max(0) as u64,
            remaining: limits.rate.remaining.max(0) as u64,
            used: limits.rate.used.max(0) as u64,
            reset: limits.rate.reset_at(),
        }),
        Err(error) => {
            problems.push(ErrorInfo::from(&Failure::from(error)));
            None
        }
    };
    // The same problem asked twice (a rejected token) is told once.
    problems.dedup_by(|a, b| a.kind == b.kind && a.status == b.status);
    AuthStatus {
        host: client.host(),
        api_url: client.base_url().to_string(),
        api_source: connection.endpoint.source.to_string(),
        token: TokenInfo {
            source: connection.token.as_str().to_string(),
            kind: kind.map(|kind| kind.as_str().to_string()),
            description: kind.map(|kind| kind.description().to_string()),
            classic_scopes: kind.is_some_and(|kind| kind.has_classic_scopes()),
        },
        scopes,
        actions,
        account,
        rate_limit,
        problems,
    }
}

fn human(context: &Context<'_>, status: &AuthStatus) -> String {
    let mut out = format!(
        "{}  {}\n",
        styled(HEADING, &status.host),
        styled(
            DIM,
            format!("{} (from {})", status.api_url, status.api_source)
        )
    );
    let mut table = Table::new(&[]).indent(2);
    let token = match (&status.token.description, status.token.source.as_str()) {
        (None, _) => styled(
            DELETE,
            "none: set GH_TOKEN or GITHUB_TOKEN, or pass --with-token",
        ),
        (Some(description), "stdin") => format!("{description}, from standard input"),
        (Some(description), "demo") => format!("{description}, the demo's"),
        (Some(description), source) => format!("{description}, from {source}"),
    };
    table.row(vec![Cell::new("token").style(DIM), token.into()]);
    let scopes = match (&status.scopes, status.token.classic_scopes) {
        (Some(scopes), _) if scopes.is_empty() => "no classic scopes".to_string(),
        (Some(scopes), _) => scopes.join(", "),
        (None, false) if status.token.kind.is_some() => {
            "none by kind: GitHub decides each request by the token's permissions".to_string()
        }
        (None, _) => "unknown".to_string(),
    };
    table.row(vec![Cell::new("scopes").style(DIM), scopes.into()]);
    if let Some(account) = &status.account {
        let name = account
            .name
            .as_ref()
            .map(|name| format!(", {name}"))
            .unwrap_or_default();
        table.row(vec![
            Cell::new("account").style(DIM),
            format!("{} ({}{name})", account.login, account.account_type).into(),
        ]);
    }
    if let Some(limit) = &status.rate_limit {
        let reset = limit
            .reset
            .map(|reset| format!(", resets {}", relative(reset, context.now)))
            .unwrap_or_default();
        table.row(vec![
            Cell::new("rate limit").style(DIM),
            format!(
                "{} of {} requests left{reset}",
                count(limit.remaining),
                count(limit.limit)
            )
            .into(),
        ]);
    }
    out.push_str(&table.render());
    out.push_str(&format!(
        "\n  {}\n",
        styled(HEADING, "What the scopes allow")
    ));
    let mut actions = Table::new(&[]).indent(4);
    for action in &status.actions {
        let verdict = match action.allowed {
            Some(true) => Cell::new("allowed").style(KEEP),
            Some(false) => {
                let granted = status.scopes.clone().unwrap_or_default();
                let required: Vec<&str> =
                    action.required_scopes.iter().map(String::as_str).collect();
                Cell::new(format!(
                    "missing {}",
                    missing_scopes(&required, &granted).join(", ")
                ))
                .style(DELETE)
            }
            None => Cell::new("GitHub decides per request").style(DIM),
        };
        actions.row(vec![
            action.description.as_str().into(),
            verdict,
            Cell::new(action.required_scopes.join(", ")).style(DIM),
        ]);
    }
    out.push_str(&actions.render());
    let missing = missing_everywhere(status);
    if !missing.is_empty() {
        let mut all: Vec<&str> = Vec::new();
        for scope in status.actions.iter().flat_map(|a| &a.required_scopes) {
            if !all.contains(&scope.as_str()) {
                all.push(scope);
            }
        }
        out.push_str(&format!(
            "\n{} the token lacks {} for some operations\n{} run `gh auth refresh -s {}`, or \
             create a personal access token (classic) at \
             https://github.com/settings/tokens/new?scopes={}\n",
            styled(WARN, "insufficient:"),
            missing.join(", "),
            styled(DIM, "hint:"),
            missing.join(","),
            all.join(",")
        ));
    }
    for problem in &status.problems {
        out.push_str(&format!(
            "\n{} {}\n",
            styled(WARN, "problem:"),
            problem.message
        ));
        if let Some(hint) = &problem.hint {
            out.push_str(&format!("{} {hint}\n", styled(DIM, "hint:")));
        }
    }
    out
}
