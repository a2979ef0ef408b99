import { posix } from "node:path";
import { TextDecoder } from "node:util";
import { ValidationError } from "@sluice/common";
import type { SandboxBackend } from "../backend.js";
import { SandboxFileNotFoundError } from "../errors.js";
import { SwerexException } from "./errors.js";
import type { ReadFileRequest, WriteFileRequest } from "./models.js";
import { pyRepr } from "./py-format.js";
import { inSandbox, toWorkspaceRelative } from "./sandbox-paths.js";

/** Deadline for the in-sandbox helper commands of upload. */
const UPLOAD_TIMEOUT_MS = 120_000;

/** Backend file errors as the Python exceptions pathlib would have raised. */
async function asPythonErrors<T>(path: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof SandboxFileNotFoundError) {
      throw new SwerexException("builtins.FileNotFoundError", `[Errno 2] No such file or directory: ${pyRepr(path)}`);
    }
    if (err instanceof ValidationError) {
      const cls = /directory/.test(err.message) ? "builtins.IsADirectoryError" : "builtins.PermissionError";
      throw new SwerexException(cls, `${path}: ${err.message}`);
    }
    throw err;
  }
}

function decoder(req: ReadFileRequest): TextDecoder {
  const encoding = (req.encoding ?? "utf-8").toLowerCase().replace(/_/g, "-");
  const label = ["utf-8", "utf8"].includes(encoding)
    ? "utf-8"
    : ["latin-1", "latin1", "iso-8859-1"].includes(encoding)
      ? "latin1"
      : undefined;
  if (!label) throw new SwerexException("builtins.LookupError", `unknown or unsupported encoding: ${req.encoding}`);
  // Python's default is errors="strict"; any other handler is approximated by U+FFFD.
  const strict = req.errors === undefined || req.errors === "strict";
  return new TextDecoder(label, { fatal: strict });
}

export async function readSandboxFile(
  backend: SandboxBackend,
  sandboxId: string,
  req: ReadFileRequest,
  maxBytes: number,
): Promise<{ content: string }> {
  const rel = toWorkspaceRelative(req.path);
  const dec = decoder(req);
  const res = await asPythonErrors(req.path, () => backend.readFile(sandboxId, rel, maxBytes));
  if (res.truncated) {
    throw new SwerexException("builtins.OSError", `${req.path} is larger than the read limit of ${maxBytes} bytes`);
  }
  try {
    return { content: dec.decode(res.content) };
  } catch {
    throw new SwerexException(
      "builtins.ValueError",
      `${req.path} is not valid ${req.encoding ?? "utf-8"}; pass errors="replace" to read it anyway`,
    );
  }
}

export async function writeSandboxFile(
  backend: SandboxBackend,
  sandboxId: string,
  req: WriteFileRequest,
): Promise<Record<string, never>> {
  const rel = toWorkspaceRelative(req.path);
  await asPythonErrors(req.path, () => backend.writeFile(sandboxId, rel, Buffer.from(req.content, "utf8")));
  return {};
}

/**
 * SWE-ReX's /upload: a file goes to `target_path` (or into it, when it is a directory, as
 * shutil.move would); a zip is extracted into the directory `target_path`. Both run inside
 * the sandbox, as the sandbox user, so nothing in the archive (absolute names, `..`,
 * symlinks) can write where the sandbox itself could not.
 */
export async function uploadToSandbox(
  backend: SandboxBackend,
  sandboxId: string,
  upload: { targetPath: string; unzip: boolean; filename: string | undefined; data: Buffer },
): Promise<Record<string, never>> {
  const target = inSandbox(toWorkspaceRelative(upload.targetPath, "target_path"));
  const name = posix.basename(upload.filename ?? "") || "upload";
  const script = upload.unzip
    ? [
        'export PATH="/usr/bin:/bin:$PATH"',
        'mkdir -p -- "$1" && cat > /tmp/sluice-upload.zip || exit 1',
        'if command -v unzip >/dev/null 2>&1; then unzip -o -q /tmp/sluice-upload.zip -d "$1"',
        'elif command -v python3 >/dev/null 2>&1; then python3 -m zipfile -e /tmp/sluice-upload.zip "$1"',
        'else echo "neither unzip nor python3 is available in the sandbox to extract the upload" >&2; exit 127; fi',
      ].join("\n")
    : ['t=$1; if [ -d "$t" ]; then t="$t/$2"; fi', 'mkdir -p -- "$(dirname -- "$t")" && cat > "$t"'].join("\n");
  const res = await backend.exec(sandboxId, {
    argv: ["/bin/sh", "-c", script, "sluice-upload", target, name === "." || name === ".." ? "upload" : name],
    stdin: upload.data,
    timeoutMs: UPLOAD_TIMEOUT_MS,
    maxOutputBytes: 16 * 1024,
    workdir: "",
  });
  if (res.exitCode !== 0 || res.timedOut) {
    const why = res.timedOut ? "timed out" : `exit code ${res.exitCode}`;
    const detail = Buffer.from(res.stderr).toString("utf8").trim();
    throw new SwerexException(
      "builtins.OSError",
      `upload to ${upload.targetPath} failed (${upload.unzip ? "unzip, " : ""}${why}): ${detail}`,
    );
  }
  return {};
}
