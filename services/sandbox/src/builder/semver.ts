// Just enough semver for ordering published release versions (prereleases are not mined).

const RELEASE = /^(\d+)\.(\d+)\.(\d+)$/;

export function isRelease(version: string): boolean {
  return RELEASE.test(version);
}

export function compareVersions(a: string, b: string): number {
  const pa = RELEASE.exec(a);
  const pb = RELEASE.exec(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return d;
  }
  return 0;
}

/** Release versions in [from, to], ascending. Backports published later sort into place. */
export function versionsBetween(versions: readonly string[], from: string, to: string): string[] {
  return versions
    .filter((v) => isRelease(v) && compareVersions(v, from) >= 0 && compareVersions(v, to) <= 0)
    .sort(compareVersions);
}

/** Consecutive pairs of an ascending list: [a, b], [b, c], … */
export function consecutivePairs(versions: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 1; i < versions.length; i++) out.push([versions[i - 1] as string, versions[i] as string]);
  return out;
}
