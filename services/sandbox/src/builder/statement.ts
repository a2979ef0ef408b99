// Problem statements: a short issue-like text from a template plus what the failing tests
// report (names and the assertion diagnostics), never where the bug is.
import { shortHash } from "./prng.js";

export interface FailingTest {
  id: string;
  /** TAP failure messages: the `not ok` line and its YAML diagnostics. */
  messages: readonly string[];
}

const MAX_TESTS_SHOWN = 5;
const MAX_LINES_PER_FAILURE = 8;
const MAX_LINE_CHARS = 200;

/**
 * A failure message reduced to what a bug report would quote: the assertion line and its
 * operator / expected / actual. Stack traces (`at:`, `stack:`) are dropped, since they name
 * source files and lines, and so is any line mentioning a path in `redact`.
 */
export function sanitizeFailure(message: string, redact: readonly string[] = []): string {
  const out: string[] = [];
  let inStack = false;
  for (const raw of message.split("\n")) {
    const line = raw.replace(/\s+$/, "");
    const trimmed = line.trim();
    if (trimmed === "---" || trimmed === "...") continue;
    if (/^(at|stack|source|file|line|column|functionName):/.test(trimmed)) {
      // A YAML block scalar (`stack: |-`) continues on the more indented lines below.
      inStack = /^(stack|source):\s*[|>]/.test(trimmed);
      continue;
    }
    if (inStack && /^\s{6,}/.test(raw)) continue;
    inStack = false;
    if (/\(?\/?workspace\/|node_modules|\bat .+:\d+:\d+/.test(line)) continue;
    if (redact.some((p) => line.includes(p))) continue;
    out.push(line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line);
    if (out.length >= MAX_LINES_PER_FAILURE) break;
  }
  return out.join("\n");
}

function testName(id: string): string {
  const i = id.indexOf("::");
  return i === -1 ? id : id.slice(i + 2);
}

function failureSection(failing: readonly FailingTest[], redact: readonly string[]): string {
  const shown = failing.slice(0, MAX_TESTS_SHOWN).map((t) => {
    const detail = t.messages
      .slice(0, 2)
      .map((m) => sanitizeFailure(m, redact))
      .filter((m) => m !== "")
      .join("\n");
    const body = detail === "" ? "  (the test did not finish: it crashed or stopped early)" : indent(detail, "  ");
    return `- ${code(t.id)}\n${body}`;
  });
  const more =
    failing.length > MAX_TESTS_SHOWN ? `\n\n…and ${failing.length - MAX_TESTS_SHOWN} more failing tests.` : "";
  return shown.join("\n\n") + more;
}

/** Inline code that survives backticks in the text (tape names often contain them). */
function code(text: string): string {
  return text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``;
}

function indent(text: string, prefix: string): string {
  return text
    .split("\n")
    .map((l) => prefix + l)
    .join("\n");
}

export interface SynthStatementInput {
  instanceId: string;
  packageName: string;
  version: string;
  failing: readonly FailingTest[];
  /** Source paths never to mention (the mutated file among them). */
  redact: readonly string[];
}

// Several phrasings, picked by the instance id: the wording carries no signal about the bug.
const SYNTH_OPENINGS: readonly ((p: string, v: string, names: string) => string)[] = [
  (p, v, names) => `After a recent change, \`${p}\` (${v}) misbehaves: ${names} no longer works as documented.`,
  (p, v, names) => `Bug report for \`${p}\` ${v}: the behaviour checked by ${names} is broken.`,
  (p, v, names) => `\`${p}\` ${v} returns wrong results in some cases. The test suite catches it in ${names}.`,
  (p, v, names) => `Something in \`${p}\` (version ${v}) regressed; ${names} now fails.`,
];

function quoteNames(failing: readonly FailingTest[]): string {
  const names = [...new Set(failing.map((t) => `"${testName(t.id)}"`))];
  if (names.length <= 3) return names.join(", ");
  return `${names.slice(0, 3).join(", ")} and ${names.length - 3} more`;
}

export function synthStatement(input: SynthStatementInput): string {
  const pick = parseInt(shortHash(input.instanceId, 4), 16) % SYNTH_OPENINGS.length;
  const opening = (SYNTH_OPENINGS[pick] as (typeof SYNTH_OPENINGS)[number])(
    input.packageName,
    input.version,
    quoteNames(input.failing),
  );
  return [
    opening,
    "",
    "Failing tests and what they report:",
    "",
    failureSection(input.failing, input.redact),
    "",
    "Fix the library so these tests pass again without breaking the rest of the test suite. The tests themselves are correct.",
  ].join("\n");
}

export interface UpstreamStatementInput {
  packageName: string;
  oldVersion: string;
  newVersion: string;
  /** Changelog entries of the fixing release, if the package has a changelog. */
  changelog: readonly string[];
  failing: readonly FailingTest[];
  redact: readonly string[];
}

export function upstreamStatement(input: UpstreamStatementInput): string {
  const parts = [`\`${input.packageName}\` ${input.oldVersion} has behaviour that the following release fixed.`];
  if (input.changelog.length > 0) {
    parts.push("", "The maintainers describe the change as:", "", ...input.changelog.map((c) => `- ${c}`));
  }
  parts.push(
    "",
    "These tests describe the expected behaviour and fail on the current code:",
    "",
    failureSection(input.failing, input.redact),
    "",
    "Change the library so they pass without breaking the rest of the test suite.",
  );
  return parts.join("\n");
}

/** Changelog categories that describe behaviour (not tests, CI, docs or dependency bumps). */
const BEHAVIOUR_TAGS = /^\[(fix|new|refactor|robustness|perf|performance|breaking|patch|minor|major)\b/i;

/**
 * The entries of `version` from a keep-a-changelog / auto-changelog style CHANGELOG.md:
 * the bullets under the heading that names the version, commit hashes and links removed,
 * keeping only behaviour changes.
 */
export function changelogEntries(changelog: string, version: string): string[] {
  const lines = changelog.split("\n");
  const escaped = version.replace(/\./g, "\\.");
  const heading = new RegExp(`^#{1,3} .*\\bv?${escaped}\\b`);
  const start = lines.findIndex((l) => heading.test(l));
  if (start === -1) return [];
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,2} /.test(line)) break;
    const m = /^\s*[-*] (.*)$/.exec(line);
    if (!m) continue;
    const text = (m[1] ?? "")
      .replace(/\s*\[`?[0-9a-f]{7,40}`?\]\([^)]*\)/g, "")
      .replace(/\s*`[0-9a-f]{7,40}`/g, "")
      .replace(/\s*\(#\d+\)|\s*\[#\d+\]\([^)]*\)/g, "")
      .trim();
    if (BEHAVIOUR_TAGS.test(text)) out.push(text);
  }
  return [...new Set(out)].slice(0, 10);
}
