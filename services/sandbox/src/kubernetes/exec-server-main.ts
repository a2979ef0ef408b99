#!/usr/bin/env node
import { startExecServer } from "./exec-server.js";
import { EXEC_PORT } from "./exec-protocol.js";

// Entry point inside a sandbox pod (copied there by the init container). The token comes from
// the pod's environment; the pod's NetworkPolicy admits only the sandbox service.
const token = process.env.SLUICE_EXEC_TOKEN;
if (!token) {
  process.stderr.write("SLUICE_EXEC_TOKEN is not set\n");
  process.exit(2);
}
const server = await startExecServer({
  host: "0.0.0.0",
  port: Number(process.env.SLUICE_EXEC_PORT ?? EXEC_PORT),
  token,
  workspace: process.env.SLUICE_WORKSPACE ?? "/workspace",
  tmpDir: process.env.TMPDIR ?? "/tmp",
  maxTimeoutMs: Number(process.env.SLUICE_EXEC_MAX_TIMEOUT_MS ?? 600_000),
  maxOutputBytes: Number(process.env.SLUICE_EXEC_MAX_OUTPUT_BYTES ?? 1024 * 1024),
  maxBodyBytes: Number(process.env.SLUICE_EXEC_MAX_BODY_BYTES ?? 256 * 1024 * 1024),
});
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
process.stderr.write(JSON.stringify({ msg: "exec server ready", port: server.port }) + "\n");
