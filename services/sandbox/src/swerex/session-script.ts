/**
 * Emulates a persistent bash session on a backend that runs every command in fresh
 * namespaces. Each call runs one `bash -c SESSION_SCRIPT` that
 *   1. reads a prologue and the user's command from stdin (NUL-terminated; stdin rather
 *      than argv because one argument is capped at 128 KiB by the kernel),
 *   2. restores the previous call's exported variables and working directory,
 *   3. syntax-checks the command, then evaluates the saved `set -o` options and the command
 *      in one `eval` in the same shell (so `cd` and `export` take effect, and `set -x` traces
 *      only the user's commands), stdout and stderr merged like a terminal,
 *   4. on EXIT (also after `exit N` or `set -e`) dumps the new state to a copy of the
 *      original stderr on a bash-allocated fd (>= 10, clear of the fds scripts pick), as a
 *      nonce-delimited, NUL-separated record the server strips and parses.
 * What does not survive: background processes (the sandbox kills them with the command),
 * shell functions, aliases, non-exported variables, shopt settings and files outside
 * /workspace.
 */

export interface SessionState {
  /** Absolute working directory inside the sandbox. */
  cwd: string;
  /** Exported variables in the order bash listed them. */
  env: ReadonlyArray<readonly [string, string]>;
  /** `set -o NAME` / `set +o NAME` lines (whitelisted options only). */
  options: readonly string[];
}

export type DumpKind = "run" | "syntax";

export interface ParsedDump {
  kind: DumpKind;
  exitCode: number;
  state: SessionState;
}

/**
 * The fixed `bash -c` program. $1 is the per-call nonce. `__sluice_*` names keep clear of
 * user variables; the dump reads `$?` first because anything else would overwrite it.
 * (No `${` anywhere: this is a template literal; `eval "v=\$$n"` is the indirection.)
 */
export const SESSION_SCRIPT = String.raw`exec {__sluice_fd}>&2 2>&1
IFS= read -r -d '' __sluice_prologue
IFS= read -r -d '' __sluice_options
IFS= read -r -d '' __sluice_cmd
exec 0</dev/null
__sluice_nonce=$1
__sluice_kind=run
__sluice_dump() {
  local rc=$1 n v count=0 IFS=$'\n'
  printf '%s\0' "BEGIN-$__sluice_nonce" "$__sluice_kind" "$rc" "$PWD" >&"$__sluice_fd"
  set +o >&"$__sluice_fd"
  set +x +u +e
  printf '\0' >&"$__sluice_fd"
  for n in $(compgen -e); do
    [[ -v $n ]] || continue
    eval "v=\$$n"
    printf '%s=%s\0' "$n" "$v" >&"$__sluice_fd"
    count=$((count + 1))
  done
  printf '%s\0%s\n' "END-$__sluice_nonce" "$count" >&"$__sluice_fd"
}
trap '{ __sluice_dump "$?"; } 2>/dev/null' EXIT
eval "$__sluice_prologue" 2>/dev/null
unset __sluice_prologue
if ! __sluice_err=$(printf '%s\n' "$__sluice_cmd" | "$BASH" -n 2>&1); then
  __sluice_kind=syntax
  printf '%s\n' "$__sluice_err"
  exit 2
fi
unset __sluice_err
eval "$__sluice_options"$'\n'"$__sluice_cmd"`;

/** Options a session carries over; the rest (noexec, monitor, history…) would break the wrapper or mean nothing here. */
const CARRIED_OPTIONS = new Set([
  "allexport",
  "braceexpand",
  "errexit",
  "errtrace",
  "functrace",
  "hashall",
  "noclobber",
  "noglob",
  "nounset",
  "physical",
  "pipefail",
  "posix",
  "verbose",
  "xtrace",
]);

/** Bash maintains these itself; restoring them would fight it (or fail on readonly ones). */
const SKIPPED_VARS = new Set(["_", "PWD", "SHLVL", "SHELLOPTS", "BASHOPTS", "BASH_ENV", "PPID", "UID", "EUID"]);

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const OPTION_LINE = /^set ([+-])o ([a-z-]+)$/;

/** Single-quotes `s` for bash: the only character needing care inside '' is ' itself. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Bash source that gives a fresh shell `state`'s exported variables and working directory. */
export function buildPrologue(state: SessionState | undefined): string {
  if (!state) return "";
  const names = state.env.map(([n]) => n);
  const lines: string[] = [];
  // Unset exported variables the session no longer has (e.g. after `unset FOO`). Names are
  // checked identifiers, so they are safe as a case pattern.
  const keep = names.length > 0 ? names.join("|") : "__sluice_none__";
  lines.push(
    `for __sluice_n in $(compgen -e); do case $__sluice_n in ${keep}) ;; *) unset "$__sluice_n" ;; esac; done`,
  );
  lines.push("unset __sluice_n");
  for (const [n, v] of state.env) lines.push(`export ${n}=${shellQuote(v)}`);
  lines.push(
    `cd -- ${shellQuote(state.cwd)} || { printf '%s\\n' ${shellQuote(`[sluice] working directory ${state.cwd} is gone; starting in /workspace`)}; cd /workspace; }`,
  );
  return lines.join("\n");
}

/** Stdin for one session call: prologue, option lines and command, each NUL-terminated. */
export function sessionStdin(state: SessionState | undefined, command: string): Buffer {
  const options = state ? state.options.join("\n") : "";
  return Buffer.from(`${buildPrologue(state)}\0${options}\0${command}\0`, "utf8");
}

/** Source lines that make a session's startup command: `source` each startup file. */
export function startupCommand(startupSource: readonly string[]): string {
  return startupSource.map((p) => `source ${shellQuote(p)}`).join("\n");
}

/**
 * Finds this call's state record in the side channel and parses it. Returns undefined when
 * it is missing or damaged (killed at a deadline, `exec` replaced the shell, output
 * capping cut into it): the caller then keeps the previous state.
 */
export function parseDump(sideChannel: string, nonce: string): ParsedDump | undefined {
  const begin = `BEGIN-${nonce}\0`;
  const start = sideChannel.lastIndexOf(begin);
  if (start < 0) return undefined;
  const endMarker = `\0END-${nonce}\0`;
  const end = sideChannel.indexOf(endMarker, start);
  if (end < 0) return undefined;
  const countText = sideChannel.slice(end + endMarker.length).split("\n", 1)[0] ?? "";
  const fields = sideChannel.slice(start + begin.length, end).split("\0");
  const [kind, rcText, cwd, optionsText, ...envFields] = fields;
  if ((kind !== "run" && kind !== "syntax") || rcText === undefined || cwd === undefined) return undefined;
  if (optionsText === undefined || !/^\d+$/.test(rcText) || !cwd.startsWith("/")) return undefined;
  // The count catches a record whose middle the output cap replaced with a marker.
  if (!/^\d+$/.test(countText) || Number(countText) !== envFields.length) return undefined;
  const env: Array<readonly [string, string]> = [];
  for (const field of envFields) {
    const eq = field.indexOf("=");
    if (eq <= 0) return undefined;
    const name = field.slice(0, eq);
    if (!NAME.test(name) || SKIPPED_VARS.has(name) || name.startsWith("__sluice_")) continue;
    env.push([name, field.slice(eq + 1)]);
  }
  const options = optionsText.split("\n").filter((line) => {
    const m = OPTION_LINE.exec(line);
    return m !== null && CARRIED_OPTIONS.has(m[2] ?? "");
  });
  return { kind, exitCode: Number(rcText), state: { cwd, env, options } };
}

/** The side channel without this call's record: what bwrap or bash itself said, if anything. */
export function sideChannelNoise(sideChannel: string, nonce: string): string {
  const start = sideChannel.lastIndexOf(`BEGIN-${nonce}\0`);
  return (start < 0 ? sideChannel : sideChannel.slice(0, start)).trim();
}
