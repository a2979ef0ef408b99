// Parsing and reprinting JavaScript with recast over @babel/parser. recast keeps the original
// text of every node that was not touched, so a one-site mutation reprints one site and the
// resulting diff stays minimal.
import { parse as babelParse, type ParserOptions } from "@babel/parser";
import type { File, Node } from "@babel/types";
import * as recast from "recast";
import { SluiceError } from "@sluice/common";

/** Source text that does not parse (or a mutation that reprints to something else). */
export class JsSyntaxError extends SluiceError {
  constructor(file: string, message: string, cause?: unknown) {
    super(`${file}: ${message}`, { context: { file }, ...(cause === undefined ? {} : { cause }) });
    this.name = "JsSyntaxError";
  }
}

// Published npm sources are CommonJS scripts or ES modules; "unambiguous" picks per file, and
// the plugins cover syntax that recent packages ship untranspiled.
const BABEL_OPTIONS: ParserOptions = {
  sourceType: "unambiguous",
  allowReturnOutsideFunction: true,
  allowAwaitOutsideFunction: true,
  allowImportExportEverywhere: true,
  errorRecovery: false,
  tokens: true,
  plugins: ["jsx", "classProperties", "classPrivateProperties", "classPrivateMethods", "topLevelAwait"],
};

/** Offsets of each recast node in the text as given (see parseJs). */
const ORIGINAL_RANGES = new WeakMap<Node, { start: number; end: number }>();

export function parseJs(code: string, file = "<input>"): File {
  try {
    // recast needs the tokens to reuse original text; the babel File is what it returns.
    const ast = recast.parse(code, { parser: { parse: (src: string) => babelParse(src, BABEL_OPTIONS) } }) as File;
    // recast parses a copy with leading tabs expanded, so its nodes' offsets do not index the
    // real text. A plain parse of the same text has the same shape; walking both in step
    // recovers the true offsets (needed to delete a statement's exact text).
    const plain: Node[] = [];
    walk(babelParse(code, BABEL_OPTIONS).program, (n) => void plain.push(n));
    let i = 0;
    walk(ast.program, (n) => {
      const twin = plain[i++];
      if (twin?.type === n.type && twin.start != null && twin.end != null) {
        ORIGINAL_RANGES.set(n, { start: twin.start, end: twin.end });
      }
    });
    return ast;
  } catch (err) {
    throw new JsSyntaxError(file, err instanceof Error ? err.message : String(err), err);
  }
}

/** Where a node of a parseJs tree sits in the original text. */
export function originalRange(node: Node): { start: number; end: number } | undefined {
  return ORIGINAL_RANGES.get(node);
}

/** Reprints a tree; `original` picks the indentation style so reprinted blocks match. */
export function printJs(ast: File, original: string): string {
  const useTabs = /^\t/m.test(original);
  const spaces = /^( +)\S/m.exec(original)?.[1]?.length ?? 4;
  return recast.print(ast, { useTabs, tabWidth: useTabs ? 4 : Math.min(spaces, 8) }).code;
}

/** Keys that hold positions, comments or parser bookkeeping rather than child nodes. */
const SKIP_KEYS = new Set([
  "loc",
  "start",
  "end",
  "range",
  "extra",
  "comments",
  "leadingComments",
  "trailingComments",
  "innerComments",
  "tokens",
  "original",
]);

export function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}

export interface VisitContext {
  parent: Node | null;
  /** Property of the parent holding this node. */
  key: string;
  /** Index in the parent's array property, or null for a plain property. */
  index: number | null;
}

/**
 * Depth-first, source-order walk over every node. Deterministic: the same text always gives
 * the same visit order, which is what lets a mutation site be named by its ordinal.
 */
export function walk(root: Node, visit: (node: Node, ctx: VisitContext) => void): void {
  const rec = (node: Node, ctx: VisitContext): void => {
    visit(node, ctx);
    for (const key of Object.keys(node)) {
      if (SKIP_KEYS.has(key)) continue;
      const value = (node as unknown as Record<string, unknown>)[key];
      if (Array.isArray(value)) {
        value.forEach((child: unknown, index) => {
          if (isNode(child)) rec(child, { parent: node, key, index });
        });
      } else if (isNode(value)) {
        rec(value, { parent: node, key, index: null });
      }
    }
  };
  rec(root, { parent: null, key: "", index: null });
}

/**
 * A position-free rendering of the tree, so two parses can be compared for structure.
 * Parentheses (babel's extra.parenthesized) are dropped: they change no semantics once the
 * tree shape is fixed, and the shape is what is compared.
 */
export function structuralFingerprint(node: Node): string {
  return JSON.stringify(node, (key, value: unknown) => (SKIP_KEYS.has(key) ? undefined : value));
}
