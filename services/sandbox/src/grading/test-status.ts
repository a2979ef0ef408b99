/**
 * Per-test outcome, spelled like SWE-bench's TestStatus so status maps and reports compare
 * directly with upstream ones. XFAIL (an expected failure) counts as passing when grading.
 */
export type TestStatus = "PASSED" | "FAILED" | "SKIPPED" | "ERROR" | "XFAIL";

export const TEST_STATUSES: readonly TestStatus[] = ["PASSED", "FAILED", "SKIPPED", "ERROR", "XFAIL"];

/** One test as a result parser sees it; `failureMessages` feed problem statements and logs. */
export interface TestResult {
  id: string;
  status: TestStatus;
  failureMessages: string[];
}

/** Failure text kept per message and per test: enough to read, small enough to ship in a report. */
export const MAX_FAILURE_MESSAGE_CHARS = 4000;
export const MAX_FAILURE_MESSAGES = 10;

export function capMessage(text: string, max = MAX_FAILURE_MESSAGE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… [${text.length - max} more characters]`;
}

/** Adds a suffix ` (2)`, ` (3)`, … to repeated ids, in order of appearance. */
export class UniqueIds {
  private readonly counts = new Map<string, number>();
  private readonly emitted = new Set<string>();
  next(id: string): string {
    let n = this.counts.get(id) ?? 0;
    let candidate: string;
    // Skips a suffixed id that also occurs literally (a block really named "x (2)").
    do {
      n += 1;
      candidate = n === 1 ? id : `${id} (${n})`;
    } while (this.emitted.has(candidate));
    this.counts.set(id, n);
    this.emitted.add(candidate);
    return candidate;
  }
}

/** Status map keyed by test id, the shape grading consumes. */
export function statusMap(tests: readonly TestResult[]): Map<string, TestStatus> {
  return new Map(tests.map((t) => [t.id, t.status]));
}
