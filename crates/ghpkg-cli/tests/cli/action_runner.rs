//! A small stand-in for the GitHub Actions runner, enough to rehearse `action.yml` here: it runs
//! the composite action's steps in order as the runner does, with `INPUT_*`, `GITHUB_*` and
//! `RUNNER_*` set, evaluating each `${{ … }}` expression and `if:` condition, one
//! `GITHUB_OUTPUT` file per step and one step summary. A step that `uses:` another action is not
//! run: it is recorded with its evaluated `with:` values, and the test says what it outputs.
//!
//! The expressions are the subset `action.yml` uses (contexts, string literals, `==`, `!=`,
//! `!`, `&&`, `||`, parentheses and the status functions); anything else, and any context the
//! action does not have, fails the test, so a typo in `action.yml` cannot pass unnoticed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_norway::Value;

/// The composite action at the repository root.
pub fn action() -> Value {
    serde_norway::from_str(&std::fs::read_to_string(repository().join("action.yml")).unwrap())
        .unwrap()
}

/// The repository root, which is what the runner gives as `GITHUB_ACTION_PATH`.
pub fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The runner's `RUNNER_OS` and `RUNNER_ARCH` for this machine.
pub fn runner_platform() -> (&'static str, &'static str) {
    let os = match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "macOS",
        "windows" => "Windows",
        other => panic!("no GitHub runner runs {other}"),
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "X64",
        "aarch64" => "ARM64",
        other => panic!("no GitHub runner has {other}"),
    };
    (os, arch)
}

/// What became of one step.
#[derive(Debug)]
pub struct StepRun {
    /// The step's id, or its name.
    pub step: String,
    /// Whether its condition let it run.
    pub ran: bool,
    /// Whether it succeeded (a skipped step counts as succeeded).
    pub succeeded: bool,
    /// Its standard output and error, for a `run:` step.
    pub log: String,
    /// The outputs it wrote.
    pub outputs: BTreeMap<String, String>,
    /// For a `uses:` step: the action and its evaluated `with:` values.
    pub uses: Option<(String, BTreeMap<String, String>)>,
}

/// One run of the action.
pub struct ActionRun {
    /// Each step, in order.
    pub steps: Vec<StepRun>,
    /// The action's outputs, evaluated at the end.
    pub outputs: BTreeMap<String, String>,
    /// The step summary.
    pub summary: String,
}

impl ActionRun {
    /// The step with this id.
    pub fn step(&self, id: &str) -> &StepRun {
        self.steps
            .iter()
            .find(|step| step.step == id)
            .unwrap_or_else(|| panic!("no step {id}"))
    }

    /// Whether every step that ran succeeded.
    pub fn succeeded(&self) -> bool {
        self.steps.iter().all(|step| step.succeeded)
    }

    /// Every step's log, for a failure message.
    pub fn logs(&self) -> String {
        self.steps
            .iter()
            .filter(|step| step.ran)
            .map(|step| format!("--- {}\n{}", step.step, step.log))
            .collect()
    }
}

/// The runner: the workflow's `with:` inputs, the `github` context and the machine.
pub struct Runner {
    /// The inputs the workflow gives (the action's defaults fill the rest).
    pub inputs: BTreeMap<String, String>,
    /// The `github` context (`action_ref`, `token`, …), also exported as `GITHUB_*` where the
    /// runner does.
    pub github: BTreeMap<String, String>,
    /// `RUNNER_TEMP`, `GITHUB_WORKSPACE` and the files live here.
    pub root: PathBuf,
    /// Extra environment for every step (a test's `CARGO_TARGET_DIR`, say).
    pub env: BTreeMap<String, String>,
    /// The outputs of a `uses:` step, from its action and evaluated `with:`.
    #[allow(clippy::type_complexity)]
    pub uses: Box<dyn Fn(&str, &BTreeMap<String, String>) -> BTreeMap<String, String>>,
}

impl Runner {
    /// A runner whose files are under `root`, with no inputs yet.
    pub fn new(root: &Path) -> Runner {
        Runner {
            inputs: BTreeMap::new(),
            github: BTreeMap::from([
                ("job".into(), "prune".into()),
                ("run_id".into(), "4242".into()),
                ("run_attempt".into(), "1".into()),
                ("repository".into(), "acme/site".into()),
                ("repository_owner".into(), "acme".into()),
                ("action_repository".into(), "ghpkg/ghpkg".into()),
                ("token".into(), "ghs_not-used".into()),
            ]),
            root: root.to_path_buf(),
            env: BTreeMap::new(),
            uses: Box::new(|_, _| BTreeMap::new()),
        }
    }

    /// Runs every step of `action.yml`.
    pub fn run(&self) -> ActionRun {
        let action = action();
        let temp = self.root.join("runner-temp");
        let workspace = self.root.join("workspace");
        std::fs::create_dir_all(&temp).unwrap();
        std::fs::create_dir_all(&workspace).unwrap();
        let summary_file = self.root.join("step-summary.md");
        std::fs::write(&summary_file, "").unwrap();
        let mut inputs = BTreeMap::new();
        for (name, input) in action["inputs"].as_mapping().unwrap() {
            let name = name.as_str().unwrap().to_string();
            let default = input["default"].as_str().unwrap_or_default().to_string();
            inputs.insert(name, default);
        }
        for (name, value) in &self.inputs {
            assert!(inputs.contains_key(name), "action.yml has no input {name}");
            inputs.insert(name.clone(), value.clone());
        }
        let mut context = Context {
            inputs,
            github: self.github.clone(),
            runner_temp: temp.display().to_string(),
            step_ids: action["runs"]["steps"]
                .as_sequence()
                .unwrap()
                .iter()
                .filter_map(|step| step["id"].as_str().map(str::to_string))
                .collect(),
            outputs: BTreeMap::new(),
            failed: false,
        };
        // Input defaults may be expressions (`${{ github.token }}`).
        let defaults: Vec<(String, String)> = context
            .inputs
            .iter()
            .map(|(name, value)| (name.clone(), context.substitute(value)))
            .collect();
        context.inputs.extend(defaults);

        let (os, arch) = runner_platform();
        let mut steps = Vec::new();
        for (index, step) in action["runs"]["steps"]
            .as_sequence()
            .unwrap()
            .iter()
            .enumerate()
        {
            let id = step["id"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| step["name"].as_str().unwrap().to_string());
            let condition = step["if"].as_str().unwrap_or("success()");
            let condition = if ["always()", "success()", "failure()", "cancelled()"]
                .iter()
                .any(|status| condition.contains(status))
            {
                condition.to_string()
            } else {
                format!("success() && ({condition})")
            };
            if !context.evaluate(&condition).truthy() {
                steps.push(StepRun {
                    step: id,
                    ran: false,
                    succeeded: true,
                    log: String::new(),
                    outputs: BTreeMap::new(),
                    uses: None,
                });
                continue;
            }
            let mut with = BTreeMap::new();
            if let Some(mapping) = step["with"].as_mapping() {
                for (name, value) in mapping {
                    let value = match value {
                        Value::String(text) => text.clone(),
                        other => serde_norway::to_string(other).unwrap().trim().to_string(),
                    };
                    with.insert(
                        name.as_str().unwrap().to_string(),
                        context.substitute(&value),
                    );
                }
            }
            let run = if let Some(uses) = step["uses"].as_str() {
                let outputs = (self.uses)(uses, &with);
                StepRun {
                    step: id.clone(),
                    ran: true,
                    succeeded: true,
                    log: String::new(),
                    outputs,
                    uses: Some((uses.to_string(), with)),
                }
            } else {
                assert_eq!(step["shell"].as_str(), Some("bash"), "step {id}'s shell");
                let script = temp.join(format!("step-{index}.sh"));
                std::fs::write(&script, context.substitute(step["run"].as_str().unwrap())).unwrap();
                let output_file = temp.join(format!("output-{index}"));
                std::fs::write(&output_file, "").unwrap();
                let mut command = Command::new("bash");
                command
                    .args(["--noprofile", "--norc", "-eo", "pipefail"])
                    .arg(&script)
                    .current_dir(&workspace)
                    .env_clear()
                    .env("PATH", std::env::var("PATH").unwrap_or_default())
                    .env("HOME", self.root.join("home"))
                    .env("CI", "true")
                    .env("GITHUB_ACTIONS", "true")
                    .env("GITHUB_ACTION_PATH", repository())
                    .env("GITHUB_WORKSPACE", &workspace)
                    .env("GITHUB_OUTPUT", &output_file)
                    .env("GITHUB_STEP_SUMMARY", &summary_file)
                    .env("RUNNER_OS", os)
                    .env("RUNNER_ARCH", arch)
                    .env("RUNNER_TEMP", &temp);
                for (name, value) in &self.github {
                    if name != "token" {
                        command.env(format!("GITHUB_{}", name.to_uppercase()), value);
                    }
                }
                command.envs(&self.env);
                if let Some(env) = step["env"].as_mapping() {
                    for (name, value) in env {
                        command.env(
                            name.as_str().unwrap(),
                            context.substitute(value.as_str().unwrap()),
                        );
                    }
                }
                let output = command.output().unwrap();
                StepRun {
                    step: id.clone(),
                    ran: true,
                    succeeded: output.status.success(),
                    log: format!(
                        "{}{}",
                        String::from_utf8_lossy(&output.stdout),
                        String::from_utf8_lossy(&output.stderr)
                    ),
                    outputs: parse_outputs(&std::fs::read_to_string(&output_file).unwrap()),
                    uses: None,
                }
            };
            context.failed |= !run.succeeded;
            if step["id"].as_str().is_some() {
                context.outputs.insert(id, run.outputs.clone());
            }
            steps.push(run);
        }
        let outputs = action["outputs"]
            .as_mapping()
            .unwrap()
            .iter()
            .map(|(name, output)| {
                (
                    name.as_str().unwrap().to_string(),
                    context.substitute(output["value"].as_str().unwrap()),
                )
            })
            .collect();
        ActionRun {
            steps,
            outputs,
            summary: std::fs::read_to_string(&summary_file).unwrap(),
        }
    }
}

/// `GITHUB_OUTPUT`'s two forms: `name=value` and `name<<DELIMITER` … `DELIMITER`.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            outputs.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.insert(name.to_string(), value.to_string());
        }
    }
    outputs
}

struct Context {
    inputs: BTreeMap<String, String>,
    github: BTreeMap<String, String>,
    runner_temp: String,
    step_ids: Vec<String>,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    failed: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum Data {
    Text(String),
    Bool(bool),
}

impl Data {
    fn truthy(&self) -> bool {
        match self {
            Data::Text(text) => !text.is_empty(),
            Data::Bool(value) => *value,
        }
    }

    fn text(&self) -> String {
        match self {
            Data::Text(text) => text.clone(),
            Data::Bool(value) => value.to_string(),
        }
    }
}

impl Context {
    /// `text` with each `${{ expression }}` replaced by its value.
    fn substitute(&self, text: &str) -> String {
        let mut result = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            result.push_str(&rest[..start]);
            let end = rest[start..]
                .find("}}")
                .unwrap_or_else(|| panic!("unclosed expression in {text}"));
            result.push_str(&self.evaluate(&rest[start + 3..start + end]).text());
            rest = &rest[start + end + 2..];
        }
        result.push_str(rest);
        result
    }

    fn evaluate(&self, expression: &str) -> Data {
        let tokens = tokenize(expression);
        let mut parser = Parser {
            context: self,
            tokens: &tokens,
            at: 0,
        };
        let value = parser.or();
        assert_eq!(parser.at, tokens.len(), "trailing tokens in `{expression}`");
        value
    }

    fn lookup(&self, path: &str) -> Data {
        let parts: Vec<&str> = path.split('.').collect();
        let found = match parts.as_slice() {
            ["inputs", name] => self.inputs.get(*name).cloned(),
            ["github", name] => self.github.get(*name).cloned().or(Some(String::new())),
            ["runner", "temp"] => Some(self.runner_temp.clone()),
            ["steps", id, "outputs", name] => {
                assert!(
                    self.step_ids.iter().any(|known| known == id),
                    "action.yml has no step {id}"
                );
                Some(
                    self.outputs
                        .get(*id)
                        .and_then(|outputs| outputs.get(*name))
                        .cloned()
                        .unwrap_or_default(),
                )
            }
            _ => None,
        };
        Data::Text(found.unwrap_or_else(|| panic!("action.yml reads an unknown context {path}")))
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Path(String),
    Call(String),
    Text(String),
    Or,
    And,
    Equal,
    NotEqual,
    Not,
    Open,
    Close,
}

fn tokenize(expression: &str) -> Vec<Token> {
    let chars: Vec<char> = expression.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let rest: String = chars[at..].iter().take(2).collect();
        match chars[at] {
            c if c.is_whitespace() => at += 1,
            '\'' => {
                let end = chars[at + 1..]
                    .iter()
                    .position(|c| *c == '\'')
                    .expect("a closed string");
                tokens.push(Token::Text(chars[at + 1..at + 1 + end].iter().collect()));
                at += end + 2;
            }
            '(' => {
                tokens.push(Token::Open);
                at += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                at += 1;
            }
            _ if rest == "||" => {
                tokens.push(Token::Or);
                at += 2;
            }
            _ if rest == "&&" => {
                tokens.push(Token::And);
                at += 2;
            }
            _ if rest == "==" => {
                tokens.push(Token::Equal);
                at += 2;
            }
            _ if rest == "!=" => {
                tokens.push(Token::NotEqual);
                at += 2;
            }
            '!' => {
                tokens.push(Token::Not);
                at += 1;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let length = chars[at..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || "_-.".contains(*c)))
                    .unwrap_or(chars.len() - at);
                let word: String = chars[at..at + length].iter().collect();
                at += length;
                if chars.get(at) == Some(&'(') && chars.get(at + 1) == Some(&')') {
                    tokens.push(Token::Call(word));
                    at += 2;
                } else {
                    tokens.push(Token::Path(word));
                }
            }
            other => panic!("`{other}` is not in the expression subset: {expression}"),
        }
    }
    tokens
}

struct Parser<'a> {
    context: &'a Context,
    tokens: &'a [Token],
    at: usize,
}

impl Parser<'_> {
    fn next_is(&mut self, token: &Token) -> bool {
        let found = self.tokens.get(self.at) == Some(token);
        if found {
            self.at += 1;
        }
        found
    }

    fn or(&mut self) -> Data {
        let mut value = self.and();
        while self.next_is(&Token::Or) {
            let right = self.and();
            if !value.truthy() {
                value = right;
            }
        }
        value
    }

    fn and(&mut self) -> Data {
        let mut value = self.comparison();
        while self.next_is(&Token::And) {
            let right = self.comparison();
            if value.truthy() {
                value = right;
            }
        }
        value
    }

    fn comparison(&mut self) -> Data {
        let left = self.unary();
        if self.next_is(&Token::Equal) {
            let right = self.unary();
            return Data::Bool(left.text().eq_ignore_ascii_case(&right.text()));
        }
        if self.next_is(&Token::NotEqual) {
            let right = self.unary();
            return Data::Bool(!left.text().eq_ignore_ascii_case(&right.text()));
        }
        left
    }

    fn unary(&mut self) -> Data {
        if self.next_is(&Token::Not) {
            return Data::Bool(!self.unary().truthy());
        }
        let token = self.tokens.get(self.at).cloned().expect("an operand");
        self.at += 1;
        match token {
            Token::Open => {
                let value = self.or();
                assert!(self.next_is(&Token::Close), "a closing parenthesis");
                value
            }
            Token::Text(text) => Data::Text(text),
            Token::Path(path) if path == "true" || path == "false" => Data::Bool(path == "true"),
            Token::Path(path) => self.context.lookup(&path),
            Token::Call(name) => Data::Bool(match name.as_str() {
                "always" => true,
                "success" => !self.context.failed,
                "failure" => self.context.failed,
                "cancelled" => false,
                other => panic!("{other}() is not in the expression subset"),
            }),
            other => panic!("unexpected {other:?}"),
        }
    }
}
