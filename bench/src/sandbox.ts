/**
 * Sandbox benchmark, all measured side by side in one run on this machine:
 *   - task sandbox create p50 / p99 (warm environment cache: copy + chown of the workspace),
 *   - exec overhead vs a plain host spawn of the same command (ratio; aim ≤ 1.5×),
 *     for a trivial command and for a typical agent command (node running a test file),
 *   - a task's test suite inside the sandbox vs natively on the host (ratio; aim ≤ 1.2×),
 *   - verification wall time per task (gold patch, fresh sandbox, full grading),
 *   - episodes/s the sandbox gRPC service sustains with a scripted policy (view, edit, run
 *     tests, extract patch, verify) at a given concurrency.
 * Prints figures and a last line of JSON.
 *   node bench/dist/sandbox.js [--tasks FILE|DIR] [--creates N] [--execs N] [--episodes N] [--concurrency C]
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CLIENT_OPTIONS,
  argValue,
  contracts,
  createLogger,
  insecure,
  loadTaskSet,
  startGrpcServer,
  taskToJson,
  unaryCall,
  REPO_ROOT,
  type SweTask,
} from "@sluice/common";
import { sandboxRegistration } from "@sluice/sandbox";
import {
  Verifier,
  createTaskSandbox,
  defaultCacheDir,
  materializeNpmEnv,
  prepareTaskWorkspace,
  runTaskTests,
} from "@sluice/sandbox";
import { minimistBugTask, startTestBackend } from "@sluice/sandbox/internal";
import { Registry } from "prom-client";

const creates = Number(argValue(process.argv, "--creates") ?? 30);
const execs = Number(argValue(process.argv, "--execs") ?? 30);
const episodes = Number(argValue(process.argv, "--episodes") ?? 12);
const concurrency = Number(argValue(process.argv, "--concurrency") ?? 4);
const tasksPath = argValue(process.argv, "--tasks") ?? join(REPO_ROOT, "tasks");
const logger = createLogger({ experiment: "bench", component: "sandbox-bench", level: "warn" });

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

/**
 * The sandbox gives commands a clean environment; the native side gets the same one, so the
 * ratio measures isolation, not the host's environment (NODE_EXTRA_CA_CERTS alone costs node
 * ~50 ms of start-up here).
 */
const CLEAN_ENV: NodeJS.ProcessEnv = { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8", TMPDIR: "/tmp" };

function hostRun(argv: string[], cwd: string, env: NodeJS.ProcessEnv = { ...CLEAN_ENV, HOME: cwd }): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(argv[0] as string, argv.slice(1), { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.resume();
    child.stderr.resume();
    child.on("error", reject);
    child.on("close", () => resolve(performance.now() - started));
  });
}

function pickTasks(): SweTask[] {
  try {
    const { tasks } = loadTaskSet([tasksPath]);
    if (tasks.length > 0) return tasks.map((t) => t.task);
  } catch {
    // Fall through to the built-in fixture.
  }
  return [minimistBugTask()];
}

async function main(): Promise<void> {
  const tasks = pickTasks();
  const task = tasks[0] as SweTask;
  const cacheDir = defaultCacheDir();
  const tb = await startTestBackend({ maxSandboxes: 64 });
  const backend = tb.backend;
  const out: Record<string, number | string> = { task: task.instance_id };
  try {
    // Warm the environment and workspace caches: creates below measure the per-episode cost.
    const first = await createTaskSandbox(backend, task, { cacheDir, taskDir: tasksPath, logger, episodeId: "warm" });
    await backend.destroy(first.sandboxId);

    const createMs: number[] = [];
    for (let i = 0; i < creates; i++) {
      const t0 = performance.now();
      const sb = await createTaskSandbox(backend, task, { cacheDir, taskDir: tasksPath, logger, episodeId: `c${i}` });
      createMs.push(performance.now() - t0);
      await backend.destroy(sb.sandboxId);
    }
    out["create_p50_ms"] = round(pct(createMs, 50));
    out["create_p99_ms"] = round(pct(createMs, 99));
    console.log(`sandbox create: p50 ${out["create_p50_ms"]} ms, p99 ${out["create_p99_ms"]} ms (${creates} creates)`);

    // Exec overhead: the same command in a sandbox vs spawned on the host, alternating.
    const menv = await materializeNpmEnv(task.env!, { cacheDir, taskDir: tasksPath, logger });
    const ws = await prepareTaskWorkspace(task, menv, { cacheDir });
    const sb = await createTaskSandbox(backend, task, { cacheDir, taskDir: tasksPath, logger, episodeId: "exec" });
    const testFile = task.env!.test_files.find((f) => !task.env!.hidden_paths.includes(f)) ?? task.env!.test_files[0]!;
    const native = await mkdtemp(join(tmpdir(), "sluice-bench-native-"));
    await hostRun(["cp", "-a", `${ws.dir}/.`, native], "/");
    await symlink(menv.nodeModulesDir, join(native, "node_modules"));
    for (const [label, argv] of [
      ["trivial", ["/bin/true"]],
      ["typical", ["node", testFile]],
    ] as const) {
      const inBox: number[] = [];
      const onHost: number[] = [];
      for (let i = 0; i < execs; i++) {
        const t0 = performance.now();
        await backend.exec(sb.sandboxId, {
          argv,
          timeoutMs: 60_000,
          stdin: new Uint8Array(),
          maxOutputBytes: 1 << 20,
          workdir: "",
        });
        inBox.push(performance.now() - t0);
        onHost.push(await hostRun([...argv], native));
      }
      out[`exec_${label}_sandbox_ms`] = round(mean(inBox));
      out[`exec_${label}_native_ms`] = round(mean(onHost));
      out[`exec_${label}_ratio`] = round(mean(inBox) / mean(onHost));
      console.log(
        `exec ${label} (${argv.join(" ")}): sandbox ${out[`exec_${label}_sandbox_ms`]} ms vs native ${out[`exec_${label}_native_ms`]} ms = ${out[`exec_${label}_ratio`]}x`,
      );
    }

    // A task's whole suite: sandbox (runTaskTests) vs the same files natively, alternating.
    const suiteBox: number[] = [];
    const suiteHost: number[] = [];
    const binPath = `${join(menv.nodeModulesDir, ".bin")}:${CLEAN_ENV["PATH"] ?? ""}`;
    const visibleFiles = task.env!.test_files.filter((f) => !task.env!.hidden_paths.includes(f));
    const suiteEnv = { ...task.env!, test_files: visibleFiles };
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await runTaskTests(backend, sb.sandboxId, suiteEnv);
      suiteBox.push(performance.now() - t0);
      let host = 0;
      for (const f of visibleFiles) {
        host += await hostRun([...task.env!.test_command, f], native, { ...CLEAN_ENV, HOME: native, PATH: binPath });
      }
      suiteHost.push(host);
    }
    out["suite_sandbox_ms"] = round(mean(suiteBox));
    out["suite_native_ms"] = round(mean(suiteHost));
    out["suite_ratio"] = round(mean(suiteBox) / mean(suiteHost));
    console.log(
      `test suite (${visibleFiles.length} files): sandbox ${out["suite_sandbox_ms"]} ms vs native ${out["suite_native_ms"]} ms = ${out["suite_ratio"]}x`,
    );
    await backend.destroy(sb.sandboxId);
    await rm(native, { recursive: true, force: true });

    // Verification wall time per task (gold patch), over up to 5 tasks with warm caches.
    const verifier = new Verifier({ backend, cacheDir, logger, taskDir: tasksPath });
    const verifyMs: number[] = [];
    for (const t of tasks.slice(0, 5)) {
      await verifier.verify({ task: t, patch: t.patch, submitted: true, episodeId: "warm" });
      const res = await verifier.verify({ task: t, patch: t.patch, submitted: true, episodeId: "bench" });
      if (!res.resolved) throw new Error(`gold patch of ${t.instance_id} did not resolve: ${res.error}`);
      verifyMs.push(res.durationMs);
    }
    out["verify_mean_ms"] = round(mean(verifyMs));
    console.log(`verification (gold patch): mean ${out["verify_mean_ms"]} ms over ${verifyMs.length} tasks`);

    // Episodes/s through the gRPC service with a scripted policy.
    const registry = new Registry();
    const server = await startGrpcServer({
      port: 0,
      logger,
      registry,
      services: [
        sandboxRegistration({
          backend,
          registry,
          logger,
          swe: {
            cacheDir,
            tasksDir: tasksPath,
            toolTimeoutMs: 60_000,
            maxObservationBytes: 16_384,
            maxPatchBytes: 1 << 20,
          },
        }),
      ],
    });
    const client = new contracts.SandboxServiceClient(`127.0.0.1:${server.port}`, insecure(), CLIENT_OPTIONS);
    const call = <Req, Res>(name: string, fn: (r: Req, ...rest: never[]) => unknown, req: Req): Promise<Res> =>
      unaryCall(name, fn.bind(client) as never, req, 120_000);
    const runEpisode = async (t: SweTask): Promise<void> => {
      const taskJson = taskToJson(t);
      const created = await call<contracts.CreateTaskSandboxRequest, contracts.CreateTaskSandboxResponse>(
        "CreateTaskSandbox",
        client.createTaskSandbox,
        contracts.CreateTaskSandboxRequest.fromPartial({ taskJson, episodeId: "bench" }),
      );
      const tool = (name: string, args: unknown) =>
        call<contracts.RunToolRequest, contracts.RunToolResponse>(
          "RunTool",
          client.runTool,
          contracts.RunToolRequest.fromPartial({
            sandboxId: created.sandboxId,
            toolName: name,
            argumentsJson: JSON.stringify(args),
          }),
        );
      await tool("bash", { command: "ls -la && git status --short" });
      await tool("str_replace_editor", { command: "view", path: "/workspace" });
      await tool("bash", { command: `cd /workspace && git apply <<'SLUICE_EOF'\n${t.patch}\nSLUICE_EOF` });
      await tool("bash", { command: `${t.env!.test_command.join(" ")} ${visibleFiles[0] ?? ""} | tail -3` });
      await tool("submit", {});
      const patch = await call<contracts.ExtractPatchRequest, contracts.ExtractPatchResponse>(
        "ExtractPatch",
        client.extractPatch,
        contracts.ExtractPatchRequest.fromPartial({ sandboxId: created.sandboxId }),
      );
      await call("DestroySandbox", client.destroySandbox, { sandboxId: created.sandboxId });
      const verdict = await call<contracts.VerifyRequest, contracts.VerifyResponse>(
        "Verify",
        client.verify,
        contracts.VerifyRequest.fromPartial({ taskJson, patch: patch.patch, submitted: true, episodeId: "bench" }),
      );
      if (!verdict.resolved) throw new Error(`scripted episode of ${t.instance_id} did not resolve: ${verdict.error}`);
    };
    await runEpisode(task);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < episodes) {
          const i = next++;
          await runEpisode(tasks[i % Math.min(tasks.length, 5)] as SweTask);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    out["episodes"] = episodes;
    out["concurrency"] = concurrency;
    out["episodes_per_s"] = round(episodes / seconds, 3);
    console.log(
      `scripted episodes: ${episodes} in ${round(seconds)} s at concurrency ${concurrency} = ${out["episodes_per_s"]}/s`,
    );
    client.close();
    await server.shutdown(1000);
  } finally {
    await tb.cleanup();
  }
  console.log(JSON.stringify(out));
}

await main();
