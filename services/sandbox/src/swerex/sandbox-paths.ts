import { posix } from "node:path";
import { SwerexException } from "./errors.js";

/** Where the sandbox's workspace is mounted; the only place files persist between commands. */
export const WORKSPACE = "/workspace";

/**
 * Maps a path as the agent sees it inside the sandbox to the backend's workspace-relative
 * form. Relative paths are taken from /workspace (every command starts there). Anything
 * outside the workspace is refused: /tmp and the system are fresh per command, so a file
 * written there would silently vanish. Symlinks are checked again by the backend.
 */
export function toWorkspaceRelative(path: string, what = "path"): string {
  if (path.includes("\0")) throw new SwerexException("builtins.ValueError", `${what} contains a NUL byte`);
  const absolute = posix.normalize(posix.isAbsolute(path) ? path : posix.join(WORKSPACE, path));
  const trimmed = absolute.length > 1 && absolute.endsWith("/") ? absolute.slice(0, -1) : absolute;
  if (trimmed === WORKSPACE) return "";
  if (!trimmed.startsWith(`${WORKSPACE}/`)) {
    throw new SwerexException(
      "builtins.PermissionError",
      `${what} ${path} is outside ${WORKSPACE}: only the workspace persists between commands in a Sluice sandbox`,
    );
  }
  return trimmed.slice(WORKSPACE.length + 1);
}

/** The absolute in-sandbox path for a workspace-relative one. */
export function inSandbox(relative: string): string {
  return relative === "" ? WORKSPACE : `${WORKSPACE}/${relative}`;
}
