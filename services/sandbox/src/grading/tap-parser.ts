import { capMessage, MAX_FAILURE_MESSAGES, UniqueIds, type TestResult, type TestStatus } from "./test-status.js";

/**
 * TAP 13 as tape prints it (one process per test file, stdout only: stderr interleaved with
 * stdout would garble block names). tape output is flat: every `t.test` — nested or not — opens
 * with a `# name` comment line, then its assertions follow, so a test is the run of assertions
 * after one `# name` comment. Ids are `<fileLabel>::<name>`; a name repeated within the file
 * gets ` (2)`, ` (3)`, … in order of appearance.
 *
 * Block status:
 * - FAILED when any assertion is `not ok` without a `# TODO` / `# SKIP` directive;
 * - SKIPPED when tape skipped the whole test (`# SKIP name`), or every assertion is `# SKIP`;
 * - PASSED otherwise — including a block with zero assertions, as tape counts it as passing
 *   (it does not fail the run). `t.comment("x")` also prints `# x`, indistinguishable from a
 *   test name: such a comment shows up as an empty PASSED block and the assertions after it
 *   are grouped under it. Ids stay stable between runs, which is what grading needs.
 *
 * The plan `1..N` that tape prints last is followed by a summary (`# tests N`, `# pass N`,
 * `# fail N`, `# skip N`, `# todo N`, `# ok`), which is not a block. Anything suspicious
 * (numbering out of sequence, a second plan, assertions after the plan) is listed in
 * `problems`; the cross-check turns problems into failures.
 */
export interface TapPlan {
  count: number;
  skipReason?: string;
  /** 1-based line of the plan in the output. */
  line: number;
}

export interface TapSummary {
  tests?: number;
  pass?: number;
  fail?: number;
  skip?: number;
  todo?: number;
  /** `# ok` (true) or `# not ok` (false) after the counts. */
  ok?: boolean;
}

export interface TapAssertionCounts {
  /** `ok` lines, directives included. */
  ok: number;
  /** `not ok` lines, directives included. */
  notOk: number;
  /** `not ok` without `# TODO` / `# SKIP`: the ones that fail a block. */
  failed: number;
  /** Lines with a `# SKIP` directive. */
  skipped: number;
  /** Lines with a `# TODO` directive. */
  todo: number;
}

export interface TapParseResult {
  format: "tap";
  tests: TestResult[];
  plan?: TapPlan;
  summary?: TapSummary;
  assertions: TapAssertionCounts;
  /** The reason after `Bail out!` ("" when none was given); parsing stops there. */
  bailOut?: string;
  /** A TAP version line, plan, assertion or bail out was seen. */
  sawTap: boolean;
  problems: string[];
}

interface Block {
  name: string;
  skippedWhole: boolean;
  assertions: number;
  skippedAssertions: number;
  failures: string[];
}

const VERSION = /^TAP version (\d+)\s*$/;
const PLAN = /^(\d+)\.\.(\d+)\s*(?:#\s*(.*))?$/;
const ASSERTION = /^(not ok|ok)\b(?:\s+(\d+))?(?:\s+-)?(?:\s+(.*?))?\s*$/;
const DIRECTIVE = /(?:^|\s)#\s*(SKIP|TODO)\S*(?:\s+(.*))?$/i;
const BAIL_OUT = /^Bail out!(.*)$/;
const COMMENT = /^#(.*)$/;
const YAML_START = /^\s+---\s*$/;
const YAML_END = /^\s+\.\.\.\s*$/;
const SUMMARY_COUNT = /^(tests|pass|fail|skip|todo)\s+(\d+)$/;
const UNNAMED = "(unnamed)";
const NO_BLOCK = "(no block)";

export function parseTap(output: string, fileLabel: string): TapParseResult {
  const lines = output.split("\n").map((l) => l.replace(/\r$/, ""));
  const counts: TapAssertionCounts = { ok: 0, notOk: 0, failed: 0, skipped: 0, todo: 0 };
  const problems: string[] = [];
  const blocks: Block[] = [];
  const result: TapParseResult = { format: "tap", tests: [], assertions: counts, sawTap: false, problems };
  let current: Block | undefined;
  let trailingPlan = false;
  let expectedNumber = 1;
  // The failing assertion a following YAML block belongs to, and the line it was on.
  let lastFailure: { block: Block; index: number; line: number } | undefined;
  let yaml: string[] | undefined;

  const problem = (lineNo: number, text: string): void => {
    problems.push(`line ${lineNo}: ${text}`);
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const lineNo = i + 1;

    if (yaml !== undefined) {
      yaml.push(line);
      if (YAML_END.test(line)) {
        if (lastFailure !== undefined) {
          const { block, index } = lastFailure;
          block.failures[index] = `${block.failures[index] ?? ""}\n${yaml.join("\n")}`;
        }
        yaml = undefined;
        lastFailure = undefined;
      }
      continue;
    }
    if (YAML_START.test(line) && lastFailure?.line === lineNo - 1) {
      yaml = [line];
      continue;
    }

    const version = VERSION.exec(line);
    if (version) {
      if (result.sawTap) problem(lineNo, "TAP version line after TAP output began");
      result.sawTap = true;
      continue;
    }

    const bail = BAIL_OUT.exec(line);
    if (bail) {
      result.sawTap = true;
      result.bailOut = (bail[1] ?? "").trim();
      break;
    }

    const plan = PLAN.exec(line);
    if (plan) {
      result.sawTap = true;
      const start = Number(plan[1]);
      const end = Number(plan[2]);
      if (result.plan !== undefined) problem(lineNo, `second plan ${line.trim()}`);
      else {
        if (start !== 1) problem(lineNo, `plan does not start at 1: ${line.trim()}`);
        result.plan = { count: Math.max(0, end - start + 1), line: lineNo };
        if (plan[3] !== undefined && plan[3] !== "") result.plan.skipReason = plan[3].trim();
        // tape prints its plan last; a plan before any assertion (other producers) opens the run.
        trailingPlan = counts.ok + counts.notOk > 0 || end === 0;
      }
      continue;
    }

    const assertion = ASSERTION.exec(line);
    if (assertion) {
      result.sawTap = true;
      if (trailingPlan) problem(lineNo, `assertion after the plan: ${line.trim()}`);
      const number = assertion[2] === undefined ? expectedNumber : Number(assertion[2]);
      if (number !== expectedNumber) problem(lineNo, `assertion numbered ${number}, expected ${expectedNumber}`);
      expectedNumber = number + 1;

      const notOk = assertion[1] === "not ok";
      const directive = DIRECTIVE.exec(assertion[3] ?? "");
      const kind = directive?.[1]?.toUpperCase();
      if (notOk) counts.notOk++;
      else counts.ok++;
      if (kind === "SKIP") counts.skipped++;
      if (kind === "TODO") counts.todo++;

      current ??= openBlock(blocks, NO_BLOCK, false);
      current.assertions++;
      if (kind === "SKIP") current.skippedAssertions++;
      if (notOk && kind === undefined) {
        counts.failed++;
        current.failures.push(line.trim());
        lastFailure = { block: current, index: current.failures.length - 1, line: lineNo };
      }
      continue;
    }

    const comment = COMMENT.exec(line);
    if (comment) {
      const text = (comment[1] ?? "").trim();
      if (trailingPlan) {
        if (!readSummary(text, result)) problem(lineNo, `unexpected comment after the plan: ${line.trim()}`);
        continue;
      }
      // tape marks skipped and todo tests in the name line itself: `# SKIP name`, `# TODO name`.
      const skippedWhole = text.startsWith("SKIP ");
      const name = skippedWhole || text.startsWith("TODO ") ? text.slice(5).trim() : text;
      current = openBlock(blocks, name === "" ? UNNAMED : name, skippedWhole);
      continue;
    }
    // Anything else is the program's own output (console.log and the like): not TAP.
  }
  if (yaml !== undefined) problem(lines.length, "YAML block not closed");

  const ids = new UniqueIds();
  result.tests = blocks.map((b) => ({
    id: ids.next(`${fileLabel}::${b.name}`),
    status: blockStatus(b),
    failureMessages: b.failures.slice(0, MAX_FAILURE_MESSAGES).map((m) => capMessage(m)),
  }));
  return result;
}

function openBlock(blocks: Block[], name: string, skippedWhole: boolean): Block {
  const block: Block = { name, skippedWhole, assertions: 0, skippedAssertions: 0, failures: [] };
  blocks.push(block);
  return block;
}

function blockStatus(b: Block): TestStatus {
  if (b.failures.length > 0) return "FAILED";
  if (b.skippedWhole) return "SKIPPED";
  if (b.assertions > 0 && b.skippedAssertions === b.assertions) return "SKIPPED";
  return "PASSED";
}

/** Reads one summary line into `result.summary`; false when the line is not a summary line. */
function readSummary(text: string, result: TapParseResult): boolean {
  if (text === "ok" || text === "not ok") {
    (result.summary ??= {}).ok = text === "ok";
    return true;
  }
  const m = SUMMARY_COUNT.exec(text);
  if (!m) return false;
  const key = m[1] as "tests" | "pass" | "fail" | "skip" | "todo";
  (result.summary ??= {})[key] = Number(m[2]);
  return true;
}
