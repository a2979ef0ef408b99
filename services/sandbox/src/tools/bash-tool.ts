import { constants } from "node:os";
import type { SandboxBackend } from "../backend.js";
import { MAX_OUTPUT_BYTES_CAP } from "../limits.js";
import { truncationMarker } from "../output-capture.js";
import { elideMiddle } from "./observation.js";

export interface BashOutcome {
  /** Shell convention: the command's status, or 128 + signal number when it was killed. */
  exitCode: number;
  /** stdout and stderr interleaved, elided in the middle, with a note when it timed out. */
  output: string;
  outputTruncated: boolean;
  timedOut: boolean;
}

/**
 * The outer shell points stderr at stdout and execs the real `bash -c`, so both streams
 * share one pipe and appear in the order they were written, as in a terminal; the command
 * itself keeps bash's own `$0` and line numbers in error messages. stdin is empty, so a
 * command waiting for input gets EOF instead of hanging until the timeout.
 */
const WRAPPER = 'exec 2>&1; exec /bin/bash -c "$1" bash';

export async function runBash(
  backend: SandboxBackend,
  sandboxId: string,
  command: string,
  options: { timeoutMs: number; maxObservationBytes: number },
): Promise<BashOutcome> {
  if (command.includes("\0")) {
    // exec cannot pass a NUL in an argument; say so rather than fail the RPC.
    return { exitCode: 2, output: "bash: the command contains a NUL byte", outputTruncated: false, timedOut: false };
  }
  // Capture well past the observation size and elide here, so the note can count bytes and lines.
  const captureBytes = Math.min(MAX_OUTPUT_BYTES_CAP, Math.max(4 * options.maxObservationBytes, 1024 * 1024));
  const res = await backend.exec(sandboxId, {
    argv: ["/bin/bash", "-c", WRAPPER, "bash", command],
    timeoutMs: options.timeoutMs,
    stdin: new Uint8Array(),
    maxOutputBytes: captureBytes,
    workdir: "",
  });
  let text = Buffer.from(res.stdout).toString("utf8");
  // stderr is normally empty (redirected); anything there came from the sandbox runtime itself.
  const stderr = Buffer.from(res.stderr).toString("utf8");
  if (stderr) text += (text === "" || text.endsWith("\n") ? "" : "\n") + stderr;
  // When the backend already cut the middle, fold its cut into ours so one note counts both.
  let alreadyElidedBytes = 0;
  const cut = res.outputTruncated ? withoutBackendMarker(text) : undefined;
  if (cut && Buffer.byteLength(cut.text, "utf8") > options.maxObservationBytes) {
    text = cut.text;
    alreadyElidedBytes = cut.omittedBytes;
  }
  const elided = elideMiddle(text, options.maxObservationBytes, { alreadyElidedBytes });
  let output = elided.text;
  if (res.timedOut) {
    output +=
      (output === "" || output.endsWith("\n") ? "" : "\n") +
      `<NOTE>The command timed out after ${seconds(options.timeoutMs)} seconds and was killed, with every process it started. ` +
      "The output it wrote until then is shown above. Commands that wait for input or run a server never finish here; " +
      "run long jobs on a smaller scope.</NOTE>";
  } else if (res.signal) {
    output +=
      (output === "" || output.endsWith("\n") ? "" : "\n") + `<NOTE>The command was killed by ${res.signal}.</NOTE>`;
  }
  return {
    exitCode: res.signal ? 128 + signalNumber(res.signal) : res.exitCode,
    output,
    outputTruncated: elided.truncated || res.outputTruncated,
    timedOut: res.timedOut,
  };
}

const MARKER = new RegExp(
  truncationMarker(0)
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replace("0", "(\\d+)"),
);

/** The backend's own head/tail cut (see output-capture.ts): its byte count and the text without its marker. */
function withoutBackendMarker(text: string): { text: string; omittedBytes: number } | undefined {
  const m = MARKER.exec(text);
  if (!m) return undefined;
  return { text: text.slice(0, m.index) + text.slice(m.index + m[0].length), omittedBytes: Number(m[1]) };
}

function signalNumber(name: string): number {
  return (constants.signals as Readonly<Record<string, number>>)[name] ?? 9;
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}
