/**
 * Turns a unified git diff into the SWE tool calls that reproduce it: one
 * `str_replace_editor` str_replace per hunk, `create` for new text files, and one
 * `bash` `git apply` heredoc for whatever the editor cannot express (binary files,
 * deletions, renames, mode changes, missing final newlines). Used by the oracle policy.
 */

export interface PlannedToolCall {
  name: "bash" | "str_replace_editor" | "submit";
  arguments: Record<string, string>;
}

interface Hunk {
  oldStart: number;
  oldLines: string[];
  newLines: string[];
  /** A "\ No newline at end of file" marker: line endings the editor form cannot carry. */
  noNewlineMarker: boolean;
}

/** One file's part of the diff. */
export interface FileDiff {
  /** The section's text exactly as in the patch (for git apply). */
  text: string;
  path: string | undefined;
  hunks: Hunk[];
  isNew: boolean;
  /** Only git apply can do it: binary, deletion, rename/copy, mode, quoted path. */
  needsGitApply: boolean;
}

const WORKSPACE = "/workspace";
const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/** Splits a diff into file sections (`diff --git` headers, or bare `---`/`+++` pairs). */
export function splitFileDiffs(patch: string): FileDiff[] {
  const lines = patch.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const starts: number[] = [];
  const gitStyle = lines.some((l) => l.startsWith("diff --git "));
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (gitStyle ? line.startsWith("diff --git ") : line.startsWith("--- ") && lines[i + 1]?.startsWith("+++ ")) {
      starts.push(i);
      if (!gitStyle) i++;
    }
  }
  return starts.map((start, k) => parseFileDiff(lines.slice(start, starts[k + 1] ?? lines.length)));
}

function parseFileDiff(lines: string[]): FileDiff {
  const text = lines.join("\n") + "\n";
  const hunks: Hunk[] = [];
  let path: string | undefined;
  let isNew = false;
  let needsGitApply = false;
  let i = 0;
  for (; i < lines.length && !HUNK_HEADER.test(lines[i] ?? ""); i++) {
    const line = lines[i] ?? "";
    if (line.startsWith("+++ ")) {
      const target = line.slice(4).replace(/\t.*$/, "");
      if (target === "/dev/null")
        needsGitApply = true; // deletion
      else if (target.startsWith('"'))
        needsGitApply = true; // git-quoted (escaped) name
      else path = target.replace(/^b\//, "");
    } else if (line.startsWith("--- ")) {
      if (line.slice(4).replace(/\t.*$/, "") === "/dev/null") isNew = true;
    } else if (line.startsWith("new file mode ")) {
      isNew = true;
      if (!line.endsWith("100644")) needsGitApply = true;
    } else if (
      /^(deleted file mode|old mode|new mode|rename from|rename to|copy from|copy to|GIT binary patch|Binary files )/.test(
        line,
      )
    ) {
      needsGitApply = true;
    }
  }
  while (i < lines.length) {
    const m = HUNK_HEADER.exec(lines[i] ?? "");
    if (!m) {
      i++;
      continue;
    }
    let oldLeft = m[2] === undefined ? 1 : Number(m[2]);
    let newLeft = m[4] === undefined ? 1 : Number(m[4]);
    const hunk: Hunk = { oldStart: Number(m[1]), oldLines: [], newLines: [], noNewlineMarker: false };
    i++;
    // Count lines rather than pattern-match: a removed "-- x" line must not end the hunk.
    while (i < lines.length && (oldLeft > 0 || newLeft > 0 || lines[i]?.startsWith("\\"))) {
      const line = lines[i] ?? "";
      const body = line.slice(1);
      if (line.startsWith("\\")) hunk.noNewlineMarker = true;
      else if (line.startsWith("-")) {
        hunk.oldLines.push(body);
        oldLeft--;
      } else if (line.startsWith("+")) {
        hunk.newLines.push(body);
        newLeft--;
      } else {
        // Context (" x", or "" for an empty context line some tools strip the space from).
        hunk.oldLines.push(body);
        hunk.newLines.push(body);
        oldLeft--;
        newLeft--;
      }
      i++;
    }
    hunks.push(hunk);
  }
  if (path === undefined) needsGitApply = true;
  if (hunks.some((h) => h.noNewlineMarker)) needsGitApply = true;
  // An insertion with no context has nothing for str_replace to anchor on.
  if (!isNew && hunks.some((h) => h.oldLines.length === 0)) needsGitApply = true;
  if (!isNew && hunks.length === 0) needsGitApply = true;
  if (isNew && hunks.length === 0) needsGitApply = true;
  return { text, path, hunks, isNew, needsGitApply };
}

/**
 * The hunk as a str_replace. Every line in a diff without a no-newline marker ends in
 * "\n", so both strings end with one; a hunk that does not start the file is anchored to
 * the preceding newline. Together that makes old_str match whole lines only.
 */
export function hunkToStrReplace(path: string, hunk: Hunk): PlannedToolCall {
  const lead = hunk.oldStart > 1 ? "\n" : "";
  return {
    name: "str_replace_editor",
    arguments: {
      command: "str_replace",
      path: `${WORKSPACE}/${path}`,
      old_str: lead + hunk.oldLines.map((l) => `${l}\n`).join(""),
      new_str: lead + hunk.newLines.map((l) => `${l}\n`).join(""),
    },
  };
}

/** A bash call that applies `patch` with git apply from a quoted heredoc (no expansion). */
export function gitApplyCall(patch: string): PlannedToolCall {
  let delimiter = "SLUICE_PATCH_EOF";
  const lines = new Set(patch.split("\n"));
  while (lines.has(delimiter)) delimiter += "_";
  const body = patch.endsWith("\n") ? patch : `${patch}\n`;
  return {
    name: "bash",
    arguments: { command: `cd ${WORKSPACE} && git apply --whitespace=nowarn <<'${delimiter}'\n${body}${delimiter}` },
  };
}

/** The tool calls that turn the base state into base + patch, then `submit`. */
export function patchToToolCalls(patch: string): PlannedToolCall[] {
  const calls: PlannedToolCall[] = [];
  const viaGit: string[] = [];
  for (const file of splitFileDiffs(patch)) {
    if (file.needsGitApply || file.path === undefined) {
      viaGit.push(file.text);
    } else if (file.isNew) {
      const fileText = file.hunks.flatMap((h) => h.newLines.map((l) => `${l}\n`)).join("");
      calls.push({
        name: "str_replace_editor",
        arguments: { command: "create", path: `${WORKSPACE}/${file.path}`, file_text: fileText },
      });
    } else {
      for (const hunk of file.hunks) calls.push(hunkToStrReplace(file.path, hunk));
    }
  }
  if (viaGit.length > 0) calls.push(gitApplyCall(viaGit.join("")));
  calls.push({ name: "submit", arguments: {} });
  return calls;
}
