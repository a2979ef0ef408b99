import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { sleep } from "../deadline.js";
import { DeadlineError, SluiceError } from "../errors.js";

/** A real nats-server with JetStream on 127.0.0.1, a free port and a fresh store dir. */
export interface NatsServerHandle {
  url: string;
  port: number;
  storeDir: string;
  process: ChildProcess;
  /** SIGKILL-free stop: SIGTERM, wait, then remove the store. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface StartNatsOptions {
  storeDir?: string;
  port?: number;
  maxPayloadBytes?: number;
  /**
   * JetStream's file-store limit. Default 1 TiB: streams reserve their max_bytes against it, and
   * nats-server's own default (75% of the free disk) would make tests depend on the machine's
   * disk; tests write little, so the limit is accounting only. Set it small to model a small disk.
   */
  maxFileStoreBytes?: number;
  binary?: string;
}

export async function startNatsServer(options: StartNatsOptions = {}): Promise<NatsServerHandle> {
  const port = options.port ?? (await freePort());
  const ownStore = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), "sluice-nats-"));
  const args = ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir];
  // nats-server has no command-line flags for max_payload or max_file_store: they go in a config file.
  const conf: string[] = [];
  if (options.maxPayloadBytes) conf.push(`max_payload: ${Math.floor(options.maxPayloadBytes)}`);
  // store_dir stays on the command line (-sd): repeating it in the file is an error.
  conf.push(`jetstream { max_file_store: ${Math.floor(options.maxFileStoreBytes ?? 1024 ** 4)} }`);
  let confDir: string | undefined;
  if (conf.length > 0) {
    confDir = mkdtempSync(join(tmpdir(), "sluice-nats-conf-"));
    const file = join(confDir, "nats.conf");
    writeFileSync(file, conf.join("\n") + "\n");
    args.push("-c", file);
  }
  const cleanup = (): void => {
    if (ownStore) rmSync(storeDir, { recursive: true, force: true });
    if (confDir) rmSync(confDir, { recursive: true, force: true });
  };
  const proc = spawn(options.binary ?? "nats-server", args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const state = { gone: false };
  const exited = new Promise<never>((_, reject) => {
    proc.once("error", () => (state.gone = true));
    proc.once("exit", () => (state.gone = true));
    proc.once("error", (err) => reject(new SluiceError(`cannot start nats-server: ${err.message}`, { cause: err })));
    proc.once("exit", (code) => reject(new SluiceError(`nats-server exited with ${code}: ${stderr}`)));
  });
  exited.catch(() => undefined);
  const url = `nats://127.0.0.1:${port}`;
  try {
    await Promise.race([exited, waitUntilAccepting(url, state, 10_000)]);
  } catch (err) {
    if (proc.exitCode === null) proc.kill("SIGKILL");
    cleanup();
    throw err;
  }
  return {
    url,
    port,
    storeDir,
    process: proc,
    stop: async () => {
      if (proc.exitCode === null) {
        proc.kill("SIGTERM");
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            proc.kill("SIGKILL");
            resolve();
          }, 5_000);
          proc.once("exit", () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      cleanup();
    },
  };
}

/** Polls until a client can connect; gives up as soon as the process has exited. */
async function waitUntilAccepting(url: string, state: { gone: boolean }, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!state.gone) {
    try {
      const nc = await connect({ servers: url, timeout: 500 });
      await nc.close();
      return;
    } catch {
      if (Date.now() >= deadline) throw new DeadlineError(`nats-server on ${url}`, timeoutMs);
      await sleep(100);
    }
  }
}
