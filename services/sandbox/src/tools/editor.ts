import { posix } from "node:path";
import { ValidationError } from "@sluice/common";
import { GRPC_FAILED_PRECONDITION, SandboxFileNotFoundError, SandboxStatusError } from "../errors.js";
import {
  MAX_VIEW_CHARS,
  REVIEW_INSERT_NOTE,
  REVIEW_NOTE,
  catN,
  insertAfter,
  replaceUnique,
  selectRange,
  snippet,
} from "./editor-text.js";
import type { FileHistory } from "./file-history.js";
import { WORKSPACE_ROOT, type PathProbe, type SandboxFiles } from "./sandbox-files.js";
import type { EditorCall } from "./tool-call.js";

export interface EditorOptions {
  /** Characters of a file a view shows before `<response clipped>` (SWE-agent: 16000). */
  maxViewChars: number;
  /** Bytes read of a file; larger files are viewed in part and cannot be edited. */
  maxFileBytes: number;
  /** Output cap for a directory listing. */
  maxListBytes: number;
}

export const DEFAULT_EDITOR_OPTIONS: EditorOptions = {
  maxViewChars: MAX_VIEW_CHARS,
  maxFileBytes: 8 * 1024 * 1024,
  maxListBytes: 1024 * 1024,
};

/** `ok: false` is an agent mistake (bad path, no match…): shown to it with a non-zero return code. */
export interface EditorOutcome {
  ok: boolean;
  output: string;
}

/**
 * SWE-agent's str_replace_editor over a sandbox. Paths are absolute sandbox paths that must
 * stay inside /workspace, symlinks included: what a path resolves to is checked inside the
 * sandbox before anything is read or written, and the backend checks again on the host.
 * Infrastructure failures (sandbox gone, probe failing) are thrown, not returned.
 */
export async function runEditor(
  files: SandboxFiles,
  history: FileHistory,
  call: EditorCall,
  options: EditorOptions = DEFAULT_EDITOR_OPTIONS,
): Promise<EditorOutcome> {
  const target = resolveToolPath(call.path);
  if (!target.ok) return fail(target.message);
  const { abs, rel } = target;
  const probe = await files.probe(abs);
  if ("error" in probe) return fail(`Could not resolve the path ${abs}: ${probe.error}`);
  if (!isInsideWorkspace(probe.real)) {
    return fail(
      `The path ${abs} resolves to ${probe.real}, which is outside ${WORKSPACE_ROOT}. ` +
        `Only files and directories inside ${WORKSPACE_ROOT} can be viewed or edited (symbolic links out of it are not followed).`,
    );
  }
  const problem = pathProblem(call, abs, probe);
  if (problem) return fail(problem);
  try {
    switch (call.command) {
      case "view":
        return probe.kind === "dir"
          ? await viewDir(files, abs, options)
          : await viewFile(files, abs, rel, call, options);
      case "create":
        return await create(files, history, abs, rel, call.fileText ?? "");
      case "str_replace":
        return await strReplace(files, history, abs, rel, call.oldStr ?? "", call.newStr ?? "", options);
      case "insert":
        return await insert(files, history, abs, rel, call.insertLine ?? 0, call.newStr ?? "", options);
      case "undo_edit":
        return await undo(files, history, abs, rel, probe);
    }
  } catch (err) {
    return fail(agentFacingError(err, abs));
  }
}

type ToolPath = { ok: true; abs: string; rel: string } | { ok: false; message: string };

/** Checks an agent-supplied path lexically and maps it to the backend's workspace-relative form. */
export function resolveToolPath(path: string): ToolPath {
  if (path.includes("\0")) return { ok: false, message: `The path ${JSON.stringify(path)} contains a NUL byte.` };
  if (!path.startsWith("/")) {
    return {
      ok: false,
      message: `The path ${path} is not an absolute path, it should start with \`/\`. Maybe you meant ${posix.join(WORKSPACE_ROOT, path)}?`,
    };
  }
  let abs = posix.normalize(path);
  if (abs.length > 1 && abs.endsWith("/")) abs = abs.slice(0, -1);
  if (!isInsideWorkspace(abs)) {
    return {
      ok: false,
      message: `The path ${path} is outside ${WORKSPACE_ROOT}. Only files and directories inside ${WORKSPACE_ROOT} can be viewed or edited.`,
    };
  }
  return { ok: true, abs, rel: abs === WORKSPACE_ROOT ? "" : abs.slice(WORKSPACE_ROOT.length + 1) };
}

function isInsideWorkspace(abs: string): boolean {
  return abs === WORKSPACE_ROOT || abs.startsWith(`${WORKSPACE_ROOT}/`);
}

/** SWE-agent's `validate_path`, plus the cases a sandbox adds (dangling links, special files). */
function pathProblem(call: EditorCall, abs: string, probe: PathProbe): string | undefined {
  const { command } = call;
  if (command === "create") {
    if (probe.kind === "dangling")
      return `Cannot create ${abs}: it is a symbolic link to ${probe.real}, which does not exist. Remove the link first.`;
    if (probe.kind !== "missing")
      return `File already exists at: ${abs}. Cannot overwrite files using command \`create\`.`;
    if (!probe.ancestorIsDir) return `Cannot create ${abs}: ${probe.ancestor} is not a directory.`;
    return undefined;
  }
  if (probe.kind === "dir") {
    if (command !== "view")
      return `The path ${abs} is a directory and only the \`view\` command can be used on directories`;
    if (call.viewRange) return "The `view_range` parameter is not allowed when `path` points to a directory.";
    return undefined;
  }
  // undo_edit may bring back a file that was deleted since the edit.
  if (command === "undo_edit" && (probe.kind === "missing" || probe.kind === "file")) return undefined;
  if (probe.kind === "missing" || probe.kind === "dangling")
    return `The path ${abs} does not exist. Please provide a valid path.`;
  if (probe.kind === "other") return `The path ${abs} is not a regular file or directory.`;
  return undefined;
}

async function viewDir(files: SandboxFiles, abs: string, options: EditorOptions): Promise<EditorOutcome> {
  const { entries, error } = await files.list(abs, options.maxListBytes);
  if (entries.length === 0 && error) return fail(`Could not list ${abs}: ${error}`);
  return ok(
    `Here's the files and directories up to 2 levels deep in ${abs}, excluding hidden items:\n${entries.join("\n")}\n`,
  );
}

async function viewFile(
  files: SandboxFiles,
  abs: string,
  rel: string,
  call: EditorCall,
  options: EditorOptions,
): Promise<EditorOutcome> {
  const file = await readText(files, rel, options.maxFileBytes);
  const notes: string[] = [];
  if (!file.utf8) notes.push("<NOTE>This file is not valid UTF-8; undecodable bytes are shown as \uFFFD.</NOTE>");
  if (file.truncated)
    notes.push(`<NOTE>This file is larger than ${options.maxFileBytes} bytes; only its beginning was read.</NOTE>`);
  let body: string;
  if (call.viewRange) {
    const sel = selectRange(file.text, call.viewRange);
    if (!sel.ok) return fail(sel.message);
    body = catN(sel.text, abs, sel.firstLine, options.maxViewChars);
  } else {
    body = catN(file.text, abs, 1, options.maxViewChars);
  }
  return ok([...notes, body].join("\n"));
}

async function create(
  files: SandboxFiles,
  history: FileHistory,
  abs: string,
  rel: string,
  fileText: string,
): Promise<EditorOutcome> {
  // Missing parent directories are created (OpenHands' behaviour; SWE-agent refuses).
  await files.write(rel, Buffer.from(fileText, "utf8"));
  history.push(abs, null);
  return ok(`File created successfully at: ${abs}`);
}

async function strReplace(
  files: SandboxFiles,
  history: FileHistory,
  abs: string,
  rel: string,
  oldStr: string,
  newStr: string,
  options: EditorOptions,
): Promise<EditorOutcome> {
  const file = await readForEdit(files, abs, rel, options);
  if (!file.ok) return file;
  const res = replaceUnique(file.text, oldStr, newStr, abs);
  if (!res.ok) return fail(res.message);
  await files.write(rel, Buffer.from(res.text, "utf8"));
  history.push(abs, file.text);
  const snip = snippet(res.text, res.firstLine, res.newLines);
  return ok(
    `The file ${abs} has been edited. ${catN(snip.text, `a snippet of ${abs}`, snip.firstLine, options.maxViewChars)}${REVIEW_NOTE}`,
  );
}

async function insert(
  files: SandboxFiles,
  history: FileHistory,
  abs: string,
  rel: string,
  insertLine: number,
  newStr: string,
  options: EditorOptions,
): Promise<EditorOutcome> {
  const file = await readForEdit(files, abs, rel, options);
  if (!file.ok) return file;
  const res = insertAfter(file.text, insertLine, newStr);
  if (!res.ok) return fail(res.message);
  await files.write(rel, Buffer.from(res.text, "utf8"));
  history.push(abs, file.text);
  const snip = snippet(res.text, insertLine + 1, res.newLines);
  return ok(
    `The file ${abs} has been edited. ${catN(snip.text, "a snippet of the edited file", snip.firstLine, options.maxViewChars)}${REVIEW_INSERT_NOTE}`,
  );
}

async function undo(
  files: SandboxFiles,
  history: FileHistory,
  abs: string,
  rel: string,
  probe: PathProbe,
): Promise<EditorOutcome> {
  const last = history.pop(abs);
  if (!last) return fail(`No edit history found for ${abs}.`);
  if (last.content === null) {
    if (probe.kind !== "missing") await files.remove(rel);
    return ok(
      `Last edit to ${abs} undone successfully. The file did not exist before it was created with \`create\`, so it has been removed.`,
    );
  }
  await files.write(rel, Buffer.from(last.content, "utf8"));
  return ok(`Last edit to ${abs} undone successfully. ${catN(last.content, abs)}`);
}

interface TextFile {
  text: string;
  truncated: boolean;
  utf8: boolean;
}

async function readText(files: SandboxFiles, rel: string, maxBytes: number): Promise<TextFile> {
  const { content, truncated } = await files.read(rel, maxBytes);
  try {
    // ignoreBOM keeps a byte-order mark in the text, so writing the text back keeps it too.
    return { text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(content), truncated, utf8: true };
  } catch {
    return { text: new TextDecoder("utf-8", { ignoreBOM: true }).decode(content), truncated, utf8: false };
  }
}

/** The file's text if it can be edited without losing bytes; else the reason it cannot. */
async function readForEdit(
  files: SandboxFiles,
  abs: string,
  rel: string,
  options: EditorOptions,
): Promise<({ ok: true } & TextFile) | { ok: false; output: string }> {
  const file = await readText(files, rel, options.maxFileBytes);
  if (file.truncated) {
    return fail(
      `The file ${abs} is larger than ${options.maxFileBytes} bytes, too large for str_replace_editor to edit. Use bash (e.g. sed) instead.`,
    );
  }
  if (!file.utf8) {
    return fail(
      `The file ${abs} is not valid UTF-8 text, so str_replace_editor cannot edit it safely. Use bash instead.`,
    );
  }
  return { ok: true, ...file };
}

/**
 * Backend errors that are the agent's doing (a path the host-side check refused, a file it
 * made unreadable, a write over the file-size limit) become observations; anything else
 * (sandbox gone, infrastructure) is rethrown.
 */
function agentFacingError(err: unknown, abs: string): string {
  if (err instanceof ValidationError) return `The path ${abs} cannot be used: ${err.message}`;
  if (err instanceof SandboxFileNotFoundError) return `The path ${abs} does not exist. Please provide a valid path.`;
  if (err instanceof SandboxStatusError && err.code === GRPC_FAILED_PRECONDITION)
    return `Ran into an error while trying to access ${abs}: ${err.message}`;
  throw err;
}

function ok(output: string): EditorOutcome {
  return { ok: true, output };
}

function fail(output: string): { ok: false; output: string } {
  return { ok: false, output };
}
