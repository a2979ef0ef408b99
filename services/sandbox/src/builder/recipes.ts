// What the builder knows about each package: where its library source and its tests live in
// the published tarball, and which versions to use. Versions are pinned so a rebuild with the
// same seed produces the same task set, whatever has been published since.

export interface PackageRecipe {
  package: string;
  /** Version whose source receives synthesized bugs. */
  version: string;
  /** Upstream fixes are mined from consecutive versions in [upstreamFrom, version]. */
  upstreamFrom: string;
  /** Library source: what bugs go into and what gold patches may touch. */
  sourceGlobs: string[];
  /** Test entry points; a match only counts if it loads the runner (see test-deps.ts). */
  testGlobs: string[];
  testExclude: string[];
  /** Everything a test may load (helpers, fixtures): the scope of an upstream test_patch. */
  testTreeGlobs: string[];
  /** The runner package; its bin is on PATH in the sandbox as test_command[0]. */
  runner: string;
  testCommand: string[];
}

export const DEFAULT_RECIPES: readonly PackageRecipe[] = [
  {
    package: "qs",
    // Newer versions' tests need tape@^5.10.3, which the registry this set was built
    // against does not serve (ETARGET): 6.15.3 is the newest whose test deps resolve.
    version: "6.15.3",
    upstreamFrom: "6.14.0",
    // dist/qs.js is a browserify bundle of lib/: never a bug site, never in a patch.
    sourceGlobs: ["lib/*.js"],
    testGlobs: ["test/*.js"],
    testExclude: [],
    testTreeGlobs: ["test/**"],
    runner: "tape",
    testCommand: ["tape"],
  },
  {
    package: "minimist",
    version: "1.2.8",
    upstreamFrom: "1.2.0",
    sourceGlobs: ["index.js"],
    testGlobs: ["test/*.js"],
    testExclude: [],
    testTreeGlobs: ["test/**"],
    runner: "tape",
    testCommand: ["tape"],
  },
  {
    package: "object-inspect",
    // 1.14.0 stopped shipping its tests, so the newest version with tests is the base.
    version: "1.13.4",
    upstreamFrom: "1.12.0",
    // util.inspect.js is a one-line browser shim; test-core-js.js needs core-js globals.
    sourceGlobs: ["index.js"],
    testGlobs: ["test/*.js"],
    // The DOM test needs a browser document.
    testExclude: ["test/browser/**"],
    testTreeGlobs: ["test/**"],
    runner: "tape",
    testCommand: ["tape"],
  },
];

export function findRecipe(
  name: string,
  recipes: readonly PackageRecipe[] = DEFAULT_RECIPES,
): PackageRecipe | undefined {
  return recipes.find((r) => r.package === name);
}
