/**
 * Text helpers of the str_replace_editor, kept pure so their wording and numbering can be
 * tested without a sandbox. Messages follow SWE-agent's `edit_anthropic` tool, which is
 * what models trained on SWE trajectories have seen.
 */

/** SWE-agent shows at most this many characters of a file before the numbering. */
export const MAX_VIEW_CHARS = 16_000;
/** Lines of context shown around an edit. */
export const SNIPPET_LINES = 4;

export const CLIPPED_NOTE =
  "<response clipped><NOTE>To save on context only part of this file has been shown to you. " +
  "You should retry this tool after you have searched inside the file with `grep -n` in order to " +
  "find the line numbers of what you are looking for.</NOTE>";

export const REVIEW_NOTE = "Review the changes and make sure they are as expected. Edit the file again if necessary.";
export const REVIEW_INSERT_NOTE =
  "Review the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). " +
  "Edit the file again if necessary.";

/**
 * A file's lines without the empty piece after a final newline, so numbering matches
 * `cat -n` (SWE-agent shows that phantom line; a model gains nothing from it).
 */
export function splitLines(text: string): { lines: string[]; finalNewline: boolean } {
  if (text === "") return { lines: [], finalNewline: true };
  const finalNewline = text.endsWith("\n");
  const lines = (finalNewline ? text.slice(0, -1) : text).split("\n");
  return { lines, finalNewline };
}

export function joinLines(lines: readonly string[], finalNewline: boolean): string {
  if (lines.length === 0) return "";
  return lines.join("\n") + (finalNewline ? "\n" : "");
}

/** SWE-agent's `maybe_truncate`: the first `maxChars` characters and the clip note. */
export function clip(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : text.slice(0, maxChars) + CLIPPED_NOTE;
}

/** `cat -n` numbering (6-wide number, tab), starting at `firstLine`. */
export function numberLines(lines: readonly string[], firstLine: number): string {
  return lines.map((line, i) => `${String(i + firstLine).padStart(6)}\t${line}`).join("\n");
}

/** SWE-agent's `_make_output`: heading plus numbered (and, when long, clipped) content. */
export function catN(text: string, descriptor: string, firstLine = 1, maxChars = MAX_VIEW_CHARS): string {
  const { lines } = splitLines(clip(text, maxChars));
  return `Here's the result of running \`cat -n\` on ${descriptor}:\n${numberLines(lines, firstLine)}\n`;
}

export type ViewRangeResult = { ok: true; text: string; firstLine: number } | { ok: false; message: string };

/** Selects `[start, end]` (1-based, inclusive, end -1 = to the end) with SWE-agent's checks. */
export function selectRange(text: string, range: readonly [number, number]): ViewRangeResult {
  const { lines } = splitLines(text);
  const n = lines.length;
  const [start, end] = range;
  const shown = `[${start}, ${end}]`;
  if (start < 1 || start > n) {
    return {
      ok: false,
      message: `Invalid \`view_range\`: ${shown}. Its first element \`${start}\` should be within the range of lines of the file: [1, ${n}]`,
    };
  }
  if (end > n) {
    return {
      ok: false,
      message: `Invalid \`view_range\`: ${shown}. Its second element \`${end}\` should be smaller than the number of lines in the file: \`${n}\``,
    };
  }
  if (end !== -1 && end < start) {
    return {
      ok: false,
      message: `Invalid \`view_range\`: ${shown}. Its second element \`${end}\` should be larger or equal than its first \`${start}\``,
    };
  }
  const last = end === -1 ? n : end;
  return { ok: true, text: lines.slice(start - 1, last).join("\n"), firstLine: start };
}

/** Start offsets of the non-overlapping occurrences of `needle` (Python's `str.count` semantics). */
export function occurrences(haystack: string, needle: string): number[] {
  const found: number[] = [];
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length)) found.push(i);
  return found;
}

/** 1-based line number of a character offset. */
export function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

export type ReplaceResult =
  { ok: true; text: string; firstLine: number; newLines: number } | { ok: false; message: string };

/** str_replace's checks and edit: `oldStr` must occur exactly once and differ from `newStr`. */
export function replaceUnique(text: string, oldStr: string, newStr: string, path: string): ReplaceResult {
  if (oldStr === "") {
    return {
      ok: false,
      message: `No replacement was performed, old_str is empty. It should match EXACTLY one or more consecutive lines from ${path}.`,
    };
  }
  const found = occurrences(text, oldStr);
  if (found.length === 0) {
    return {
      ok: false,
      message: `No replacement was performed, old_str \`${oldStr}\` did not appear verbatim in ${path}.`,
    };
  }
  if (found.length > 1) {
    const lines = found.map((o) => lineOf(text, o));
    return {
      ok: false,
      message: `No replacement was performed. Multiple occurrences of old_str \`${oldStr}\` in lines [${lines.join(", ")}]. Please ensure it is unique`,
    };
  }
  if (newStr === oldStr) {
    return {
      ok: false,
      message: `No replacement was performed, old_str \`${oldStr}\` is the same as new_str \`${newStr}\`.`,
    };
  }
  const at = found[0] ?? 0;
  return {
    ok: true,
    text: text.slice(0, at) + newStr + text.slice(at + oldStr.length),
    firstLine: lineOf(text, at),
    newLines: newStr.split("\n").length,
  };
}

/** The edited region (`firstLine`, `count` lines) with SNIPPET_LINES of context, numbered. */
export function snippet(text: string, firstLine: number, count: number): { text: string; firstLine: number } {
  const { lines } = splitLines(text);
  const start = Math.max(1, firstLine - SNIPPET_LINES);
  const end = Math.min(lines.length, firstLine + Math.max(count, 1) - 1 + SNIPPET_LINES);
  return { text: lines.slice(start - 1, end).join("\n"), firstLine: start };
}

export type InsertResult = { ok: true; text: string; newLines: number } | { ok: false; message: string };

/**
 * Inserts `newStr` after line `insertLine` (0 = at the top). A trailing newline in
 * `newStr` ends its last line rather than adding an empty one.
 */
export function insertAfter(text: string, insertLine: number, newStr: string): InsertResult {
  const { lines, finalNewline } = splitLines(text);
  if (insertLine < 0 || insertLine > lines.length) {
    return {
      ok: false,
      message: `Invalid \`insert_line\` parameter: ${insertLine}. It should be within the range of lines of the file: [0, ${lines.length}]`,
    };
  }
  const added = (newStr.endsWith("\n") ? newStr.slice(0, -1) : newStr).split("\n");
  const out = [...lines.slice(0, insertLine), ...added, ...lines.slice(insertLine)];
  return { ok: true, text: joinLines(out, finalNewline), newLines: added.length };
}
