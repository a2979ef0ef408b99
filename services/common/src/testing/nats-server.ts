import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { waitFor } from "../deadline.js";
import { SluiceError } from "../errors.js";

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
  binary?: string;
}

export async function startNatsServer(options: StartNatsOptions = {}): Promise<NatsServerHandle> {
  const port = options.port ?? (await freePort());
  const ownStore = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), "sluice-nats-"));
  const args = ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir];
  if (options.maxPayloadBytes) args.push("--max_payload", String(options.maxPayloadBytes));
  const proc = spawn(options.binary ?? "nats-server", args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) => {
    proc.once("error", (err) => reject(new SluiceError(`cannot start nats-server: ${err.message}`, { cause: err })));
    proc.once("exit", (code) => reject(new SluiceError(`nats-server exited with ${code}: ${stderr}`)));
  });
  exited.catch(() => undefined);
  const url = `nats://127.0.0.1:${port}`;
  await Promise.race([
    exited,
    waitFor(
      async () => {
        try {
          const nc = await connect({ servers: url, timeout: 500 });
          await nc.close();
          return true;
        } catch {
          return undefined;
        }
      },
      10_000,
      `nats-server on ${url}`,
      100,
    ),
  ]);
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
      if (ownStore) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
