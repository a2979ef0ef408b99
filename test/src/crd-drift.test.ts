import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import { REPO_ROOT } from "@sluice/common";

const GEN = join(REPO_ROOT, "scripts", "gen-crd.mjs");
const SPEC_DIR = join(REPO_ROOT, "services", "common", "src", "spec");

/** Every x-kubernetes-validations message in a schema tree. */
function celMessages(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const n of node) celMessages(n, out);
  else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "x-kubernetes-validations" && Array.isArray(v)) {
        for (const r of v as { message?: string }[]) if (r.message) out.add(r.message);
      } else celMessages(v, out);
    }
  }
  return out;
}

/** The messages of `.refine(...)` calls in the zod spec sources (either argument form). */
function refineMessages(): { file: string; message: string }[] {
  const found: { file: string; message: string }[] = [];
  for (const file of readdirSync(SPEC_DIR).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))) {
    const text = readFileSync(join(SPEC_DIR, file), "utf8");
    for (const m of text.matchAll(/\.refine\(/g)) {
      const window = text.slice(m.index, m.index + 600);
      const msg = /message:\s*"([^"]+)"/.exec(window) ?? /,\s*"([^"]+)"\s*\)/.exec(window);
      found.push({ file, message: msg?.[1] ?? `(no message found after .refine at ${file}:${m.index})` });
    }
  }
  return found;
}

// The CRD is generated from the zod schemas `sluice up` reads; a schema change without
// `node scripts/gen-crd.mjs` would let the cluster accept (or refuse) specs the services do not.
void describe("RLExperiment CRD", () => {
  void it("is what scripts/gen-crd.mjs generates from the current schema", () => {
    const r = spawnSync(process.execPath, [GEN, "--check"], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
  });

  void it("repeats every zod refinement of the spec as a CEL rule with the same message", async () => {
    const gen = (await import(pathToFileURL(GEN).href)) as { generateCrd(): unknown };
    const cel = celMessages(gen.generateCrd());
    const refines = refineMessages();
    assert.ok(refines.length >= 5, "found the refinements");
    const missing = refines.filter((r) => !cel.has(r.message));
    assert.deepEqual(missing, [], "add a CEL rule to RULES in scripts/gen-crd.mjs for each");
  });
});
