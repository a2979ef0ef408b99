/**
 * Fixed identity and dates for the workspace's single commit: the same tree always gives the
 * same commit sha, so a task's base_commit can be checked against a rebuilt environment.
 */
export const DETERMINISTIC_GIT_ENV: Readonly<Record<string, string>> = {
  GIT_AUTHOR_NAME: "sluice",
  GIT_AUTHOR_EMAIL: "sluice@localhost",
  GIT_COMMITTER_NAME: "sluice",
  GIT_COMMITTER_EMAIL: "sluice@localhost",
  GIT_AUTHOR_DATE: "2000-01-01T00:00:00+0000",
  GIT_COMMITTER_DATE: "2000-01-01T00:00:00+0000",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

/** Never part of a patch: dependencies, caches and coverage output. */
export const PATCH_EXCLUDES: readonly string[] = [
  "node_modules",
  ".nyc_output",
  "coverage",
  ".cache",
  "__pycache__",
  "*.pyc",
  "*.rej",
  "*.orig",
];

/** Workspace-relative paths a unified diff touches (both sides of `diff --git a/X b/Y`). */
export function pathsInPatch(patch: string): string[] {
  const paths = new Set<string>();
  for (const line of patch.split("\n")) {
    const m = /^diff --git a\/(\S+) b\/(\S+)/.exec(line);
    if (m) {
      paths.add(m[1] as string);
      paths.add(m[2] as string);
    }
  }
  return [...paths];
}
