// Task fixtures for tests of the "swe" environment: valid-shaped tasks in a temp dir.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function rawTask(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    instance_id: id,
    repo: "npm/minimist",
    base_commit: "",
    patch: "diff --git a/index.js b/index.js\n--- a/index.js\n+++ b/index.js\n@@ -1 +1 @@\n-a\n+b\n",
    problem_statement: `problem of ${id}`,
    created_at: "2024-01-01T00:00:00Z",
    FAIL_TO_PASS: ["test/a.js::works"],
    PASS_TO_PASS: [],
    env: {
      kind: "npm",
      package: "minimist",
      version: "1.2.8",
      integrity: "sha512-AAAA",
      test_command: ["tape"],
      test_files: ["test/a.js"],
    },
    ...extra,
  };
}

/** A temp dir holding `tasks.jsonl` with the given raw lines (objects or literal text). */
export function writeTaskDir(lines: ReadonlyArray<Record<string, unknown> | string>): string {
  const dir = mkdtempSync(join(tmpdir(), "sluice-swe-tasks-"));
  const text = lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") + "\n";
  writeFileSync(join(dir, "tasks.jsonl"), text);
  return dir;
}
