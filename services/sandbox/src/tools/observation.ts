/**
 * What the agent sees after a tool call: `<returncode>N</returncode><output>…</output>`
 * (mini-swe-agent's shape, which models trained on SWE trajectories expect), with overlong
 * output elided in the middle. Head and tail both stay because for builds and test runs the
 * start says what ran and the end says how it went.
 */

export interface ElidedText {
  text: string;
  /** Whether anything was cut (here or, per `alreadyElidedBytes`, before). */
  truncated: boolean;
  elidedBytes: number;
}

export interface ElideOptions {
  /**
   * Bytes already dropped upstream (e.g. by the backend's own output cap). They are added
   * to the count in the note, and make the line count a lower bound.
   */
  alreadyElidedBytes?: number;
}

/**
 * Keeps at most `maxBytes` UTF-8 bytes of `text`: half from the start, half from the end,
 * cut at line boundaries where one is near and never inside a character, with a note in
 * between saying how much was left out and how to see it.
 */
export function elideMiddle(text: string, maxBytes: number, options: ElideOptions = {}): ElidedText {
  if (!Number.isInteger(maxBytes) || maxBytes <= 0)
    throw new RangeError(`maxBytes must be a positive integer: ${maxBytes}`);
  const upstream = options.alreadyElidedBytes ?? 0;
  const buf = Buffer.from(text, "utf8");
  if (buf.length <= maxBytes) return { text, truncated: upstream > 0, elidedBytes: upstream };
  const headEnd = cutBefore(buf, Math.ceil(maxBytes / 2));
  const tailStart = cutAfter(buf, buf.length - Math.floor(maxBytes / 2));
  const middle = buf.subarray(headEnd, tailStart);
  const elidedBytes = middle.length + upstream;
  const lines = countNewlines(middle);
  const note = elisionNote(elidedBytes, lines, upstream > 0);
  const head = buf.subarray(0, headEnd).toString("utf8");
  const out = head + (head === "" || head.endsWith("\n") ? "" : "\n") + note + buf.subarray(tailStart).toString("utf8");
  return { text: out, truncated: true, elidedBytes };
}

/** The marker placed (on a line of its own) where output was cut; tests and callers may look for it. */
export function elisionNote(bytes: number, lines: number, linesAtLeast = false): string {
  const lineText = `${linesAtLeast ? "at least " : ""}${lines} line${lines === 1 ? "" : "s"}`;
  return (
    `[... ${bytes} bytes (${lineText}) of output elided here. ` +
    "To see them, rerun with the output redirected to a file and look at parts of it with head, tail, grep or sed -n ...]\n"
  );
}

export function formatObservation(exitCode: number, output: string): string {
  return `<returncode>${exitCode}</returncode><output>${output}</output>`;
}

/** Where the head ends: just after a newline in its second half if there is one, else at a character boundary. */
function cutBefore(buf: Buffer, limit: number): number {
  const nl = buf.lastIndexOf(0x0a, limit - 1);
  if (nl >= 0 && nl + 1 >= limit / 2) return nl + 1;
  let i = limit;
  while (i > 0 && isContinuation(buf[i])) i--;
  return i;
}

/** Where the tail starts: just after a newline in its first half if there is one, else at a character boundary. */
function cutAfter(buf: Buffer, start: number): number {
  const budget = buf.length - start;
  const nl = buf.indexOf(0x0a, start);
  if (nl >= 0 && nl + 1 <= start + budget / 2) return nl + 1;
  let i = start;
  while (i < buf.length && isContinuation(buf[i])) i++;
  return i;
}

function isContinuation(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) n++;
  return n;
}
