import { join } from "node:path";

/** `runs/<name>-YYYYmmdd-HHMMSS` in local time, relative to `base`. */
export function defaultRunDir(base: string, experiment: string, now: Date = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, "0");
  const stamp =
    `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-` +
    `${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return join(base, "runs", `${experiment}-${stamp}`);
}
