//! Asking before deleting: `--yes` confirms; otherwise a terminal is asked, and without one the
//! command refuses (exit 5), so a script never deletes by accident.

use std::io::IsTerminal;

use crate::failure::Failure;
use crate::render;

/// Confirms `question` (which ends without a question mark), or says why not. `action` names
/// what would be refused ("delete 12 versions").
pub fn confirm(question: &str, action: &str, yes: bool) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Failure::confirmation_required(action));
    }
    match render::ask(question).trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(Failure::declined()),
    }
}
