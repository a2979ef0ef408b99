// `sluice tasks build` options.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ValidationError } from "@sluice/common";
import { defaultCacheDir } from "../environments/cache-dir.js";
import { DEFAULT_RECIPES, type PackageRecipe } from "./recipes.js";

export const TASKS_BUILD_USAGE = `usage: sluice tasks build [options]
  --out DIR              where <package>.jsonl, envs/ and README.md go (default: tasks)
  --packages a,b         packages to build (default: ${DEFAULT_RECIPES.map((r) => r.package).join(",")})
  --kinds synth,upstream which task kinds to build (default: both)
  --max-per-package N    synthesized bugs kept per package (default: 25)
  --max-candidates N     mutations tried per package (default: 6 x --max-per-package)
  --seed S               candidate order seed (default: sluice)
  --jobs N               test-suite runs in parallel (default: 2)
  --cache-dir DIR        environment cache (default: $SLUICE_CACHE_DIR or ~/.cache/sluice)
`;

export type TaskKind = "synth" | "upstream";

export interface BuildOptions {
  outDir: string;
  recipes: PackageRecipe[];
  kinds: Set<TaskKind>;
  maxPerPackage: number;
  maxCandidates: number;
  seed: string;
  jobs: number;
  cacheDir: string;
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new ValidationError(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

function list(text: string | undefined): string[] | undefined {
  return text
    ?.split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

export function parseBuildOptions(argv: readonly string[], cwd = process.cwd()): BuildOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        out: { type: "string" },
        packages: { type: "string" },
        kinds: { type: "string" },
        "max-per-package": { type: "string" },
        "max-candidates": { type: "string" },
        seed: { type: "string" },
        jobs: { type: "string" },
        "cache-dir": { type: "string" },
      },
    }).values;
  } catch (err) {
    throw new ValidationError(err instanceof Error ? err.message : String(err));
  }
  const str = (k: string): string | undefined => {
    const v = values[k];
    return typeof v === "string" ? v : undefined;
  };
  const names = list(str("packages")) ?? DEFAULT_RECIPES.map((r) => r.package);
  const recipes = names.map((name) => {
    const recipe = DEFAULT_RECIPES.find((r) => r.package === name);
    if (!recipe) {
      throw new ValidationError(
        `--packages: no recipe for ${name} (known: ${DEFAULT_RECIPES.map((r) => r.package).join(", ")})`,
      );
    }
    return recipe;
  });
  const kinds = new Set<TaskKind>();
  for (const k of list(str("kinds")) ?? ["synth", "upstream"]) {
    if (k !== "synth" && k !== "upstream")
      throw new ValidationError(`--kinds: unknown kind ${JSON.stringify(k)} (synth, upstream)`);
    kinds.add(k);
  }
  const maxPerPackage = positiveInt("max-per-package", str("max-per-package"), 25);
  return {
    outDir: resolve(cwd, str("out") ?? "tasks"),
    recipes,
    kinds,
    maxPerPackage,
    maxCandidates: positiveInt("max-candidates", str("max-candidates"), 6 * maxPerPackage),
    seed: str("seed") ?? "sluice",
    jobs: positiveInt("jobs", str("jobs"), 2),
    cacheDir: resolve(cwd, str("cache-dir") ?? defaultCacheDir()),
  };
}
