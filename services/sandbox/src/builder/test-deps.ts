// Which packages the tests load: parsed from the test files with the same parser as the
// mutations (require(), import, import()), never guessed from package.json alone, so an
// environment installs only what its tests need.
import { builtinModules } from "node:module";
import type { Node } from "@babel/types";
import { parseJs, walk } from "./js-ast.js";

const BUILTINS = new Set(builtinModules);

function literalArg(node: Node): string | undefined {
  return node.type === "StringLiteral" ? node.value : undefined;
}

/** Every module specifier a file loads with a literal string, in source order, deduplicated. */
export function moduleSpecifiers(code: string, file: string): string[] {
  const out = new Set<string>();
  walk(parseJs(code, file).program, (node) => {
    let spec: string | undefined;
    if (node.type === "CallExpression") {
      const arg = node.arguments[0];
      const isRequire = node.callee.type === "Identifier" && node.callee.name === "require";
      const isImport = node.callee.type === "Import";
      if ((isRequire || isImport) && node.arguments.length >= 1 && arg !== undefined) spec = literalArg(arg);
    } else if (node.type === "ImportExpression") {
      spec = literalArg(node.source);
    } else if (
      (node.type === "ImportDeclaration" ||
        node.type === "ExportAllDeclaration" ||
        node.type === "ExportNamedDeclaration") &&
      node.source
    ) {
      spec = node.source.value;
    }
    if (spec !== undefined) out.add(spec);
  });
  return [...out];
}

/** The npm package a bare specifier names ("@a/b/c" -> "@a/b", "has-symbols/shams" -> "has-symbols"), or null. */
export function packageOfSpecifier(spec: string): string | null {
  if (spec.startsWith(".") || spec.startsWith("/") || spec.startsWith("node:") || spec.startsWith("#")) return null;
  const parts = spec.split("/");
  const name = spec.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? "");
  if (name === "" || BUILTINS.has(name) || BUILTINS.has(spec)) return null;
  return name;
}

export interface PackageJsonDeps {
  name?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

export interface TestDependencyPlan {
  /** name -> range to install: the runner, every package the tests load, the runtime deps. */
  ranges: Record<string, string>;
  /** Packages the tests load that package.json does not declare (installed at "*"). */
  undeclared: string[];
}

/**
 * The dependency ranges an environment needs: the runtime dependencies (the library itself
 * loads them), the test runner, and each package the test files load, with the range the
 * package declares for it. The package itself is excluded: it is the workspace.
 */
export function planTestDependencies(
  pkg: PackageJsonDeps,
  testedPackages: Iterable<string>,
  runner: string,
): TestDependencyPlan {
  const declared = (name: string): string | undefined =>
    pkg.devDependencies?.[name] ??
    pkg.dependencies?.[name] ??
    pkg.peerDependencies?.[name] ??
    pkg.optionalDependencies?.[name];
  const ranges: Record<string, string> = { ...(pkg.dependencies ?? {}) };
  const undeclared: string[] = [];
  for (const name of new Set([runner, ...testedPackages])) {
    if (name === pkg.name) continue;
    const range = declared(name);
    if (range === undefined) undeclared.push(name);
    ranges[name] = range ?? "*";
  }
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(ranges).sort()) sorted[k] = ranges[k] as string;
  return { ranges: sorted, undeclared: undeclared.sort() };
}

/** Packages loaded by a set of files (test entry points and their helpers). */
export function packagesLoadedBy(files: ReadonlyArray<{ path: string; code: string }>): string[] {
  const names = new Set<string>();
  for (const f of files) {
    for (const spec of moduleSpecifiers(f.code, f.path)) {
      const name = packageOfSpecifier(spec);
      if (name !== null) names.add(name);
    }
  }
  return [...names].sort();
}

/** Whether a file is a test entry point for this runner (it loads the runner itself). */
export function loadsRunner(code: string, file: string, runner: string): boolean {
  return moduleSpecifiers(code, file).some((s) => packageOfSpecifier(s) === runner);
}
