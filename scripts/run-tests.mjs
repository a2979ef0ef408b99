// Runs the compiled TypeScript tests with node's test runner.
//   unit:        **/*.test.js that are not integration or e2e tests
//   integration: **/*.int.test.js (need nats-server, bwrap, or the engine venv)
//   e2e:         **/*.e2e.test.js (full `sluice up` runs)
//   all:         everything
import { spawnSync } from "node:child_process";
import { readdirSync, statSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const kind = process.argv[2] ?? "all";
const filter = process.argv[3];
const dirs = [
  ...readdirSync(join(root, "services")).map((s) => join(root, "services", s, "dist")),
  join(root, "test", "dist"),
  join(root, "bench", "dist"),
].filter((d) => existsSync(d));

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out;
}
const isInt = (f) => f.endsWith(".int.test.js");
const isE2e = (f) => f.endsWith(".e2e.test.js");
const files = dirs
  .flatMap((d) => walk(d, []))
  .filter((f) =>
    kind === "unit" ? !isInt(f) && !isE2e(f) : kind === "integration" ? isInt(f) : kind === "e2e" ? isE2e(f) : true,
  )
  .filter((f) => !filter || f.includes(filter))
  .sort();
if (files.length === 0) {
  console.error(`run-tests: no ${kind} test files found (did the build run?)`);
  process.exit(1);
}
const concurrency = kind === "unit" ? "2" : "1";
const res = spawnSync(
  process.execPath,
  ["--test", `--test-concurrency=${concurrency}`, "--test-reporter=spec", ...files],
  {
    stdio: "inherit",
    cwd: root,
  },
);
process.exit(res.status ?? 1);
