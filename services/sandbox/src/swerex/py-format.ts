import { constants } from "node:os";

/**
 * Python's repr() of a str, close enough for error messages: SWE-ReX builds its
 * NonZeroExitCodeError / CommandTimeoutError messages with `{command!r}`, and scaffolds
 * show those messages to the model.
 */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch < " " || ch === "\x7f") out += `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}

/** Python-style seconds for messages: 5 → "5.0", 0.25 → "0.25". */
export function pySeconds(s: number): string {
  return Number.isInteger(s) ? `${s}.0` : String(s);
}

/** Signal number of a signal name ("SIGKILL" → 9), 0 when unknown. */
export function signalNumber(name: string): number {
  return (constants.signals as Record<string, number | undefined>)[name] ?? 0;
}

/** Seconds to the backend's milliseconds; undefined or 0 keeps the backend default. */
export function secondsToMs(seconds: number | undefined): number {
  return seconds === undefined || seconds <= 0 ? 0 : Math.max(1, Math.ceil(seconds * 1000));
}
