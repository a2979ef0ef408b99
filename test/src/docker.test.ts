import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO_ROOT } from "@sluice/common";

// No Docker here, so the images cannot be built in CI; these checks keep the Dockerfiles in step
// with the workspace they package.
const read = (p: string): string => readFileSync(join(REPO_ROOT, p), "utf8");

void describe("docker/", () => {
  void it("the services image installs every npm workspace", () => {
    const dockerfile = read("docker/services.Dockerfile");
    const workspaces = (JSON.parse(read("package.json")) as { workspaces: string[] }).workspaces;
    for (const ws of workspaces) assert.match(dockerfile, new RegExp(`COPY ${ws}/package\\.json ${ws}/`), ws);
  });

  void it("every entrypoint of the services image is a compiled file of the repository", () => {
    const script = read("docker/entrypoint.sh");
    const targets = [...script.matchAll(/\/app\/(services\/[a-z$]+\/dist\/[a-z-]+)\.js/g)].map((m) => m[1] ?? "");
    assert.ok(targets.length >= 4, "found the entrypoints");
    const expand = (t: string): string[] =>
      t.includes("$svc") ? ["gateway", "actor", "sandbox", "reward", "learner"].map((s) => t.replace("$svc", s)) : [t];
    for (const t of targets.flatMap(expand)) {
      const src = t.replace("/dist/", "/src/") + ".ts";
      assert.ok(existsSync(join(REPO_ROOT, src)), `${src} (entrypoint ${t}.js)`);
    }
  });

  void it("the engine image runs the engine package the repository has", () => {
    assert.match(read("docker/engine.Dockerfile"), /"-m", "sluice_engine"/);
    assert.ok(existsSync(join(REPO_ROOT, "services/engine/sluice_engine/__main__.py")));
  });
});
