// SWE-smith-style bug operators: each site is one small, local change to the syntax tree.
// Sites are enumerated in source order from a fresh parse, so (file, ordinal) names a
// mutation reproducibly, and applying it touches nothing else.
import type { BinaryExpression, Expression, File, IfStatement, LogicalExpression, Node, Statement } from "@babel/types";
import {
  JsSyntaxError,
  originalRange,
  parseJs,
  printJs,
  structuralFingerprint,
  walk,
  type VisitContext,
} from "./js-ast.js";

export const MUTATION_KINDS = [
  "flip_operator",
  "swap_operands",
  "change_constant",
  "remove_conditional",
  "remove_assignment",
  "invert_branch",
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

export interface MutationSite {
  kind: MutationKind;
  /** 1-based line of the site in the original text (for logs; never shown to the agent). */
  line: number;
  /** What changes, e.g. "=== -> !==" (for logs and the README, not the problem statement). */
  detail: string;
  apply(): void;
  /**
   * For removals: the original text range that goes away. Deleting text keeps the rest of
   * the file byte-identical, where reprinting the enclosing block would reindent it.
   */
  removes?: { start: number; end: number };
}

const FLIPS: Readonly<Record<string, string>> = {
  "===": "!==",
  "!==": "===",
  "==": "!=",
  "!=": "==",
  "<": ">=",
  ">=": "<",
  ">": "<=",
  "<=": ">",
  "+": "-",
  "-": "+",
  "&&": "||",
  "||": "&&",
};

/** Binary operators where a op b and b op a differ (string + is handled separately). */
const NON_COMMUTATIVE = new Set(["-", "/", "%", "<", ">", "<=", ">=", "<<", ">>", ">>>", "**", "&&", "||"]);

function isStringy(node: Node): boolean {
  return node.type === "StringLiteral" || node.type === "TemplateLiteral";
}

function line(node: Node): number {
  return node.loc?.start.line ?? 0;
}

/** The array a statement sits in (block body, program body, switch case), if any. */
function statementList(ctx: VisitContext): Statement[] | null {
  if (ctx.parent === null || ctx.index === null) return null;
  const value = (ctx.parent as unknown as Record<string, unknown>)[ctx.key];
  return Array.isArray(value) ? (value as Statement[]) : null;
}

function range(node: Node): { removes?: { start: number; end: number } } {
  const r = originalRange(node);
  return r === undefined ? {} : { removes: r };
}

/** From the end of an if's consequent to the end of its else-if: the text `else if (…) {…}`. */
function elseRange(consequent: Node, alternate: Node): { removes?: { start: number; end: number } } {
  const c = originalRange(consequent);
  const a = originalRange(alternate);
  return c === undefined || a === undefined ? {} : { removes: { start: c.end, end: a.end } };
}

/**
 * Deletes [start, end) from the text, taking the whole line(s) with it when the range is
 * alone on them (so no blank line or stray indentation is left behind).
 */
export function removeText(code: string, start: number, end: number): string {
  const lineStart = code.lastIndexOf("\n", start - 1) + 1;
  const nl = code.indexOf("\n", end);
  const lineEnd = nl === -1 ? code.length : nl + 1;
  const before = code.slice(lineStart, start);
  const after = code.slice(end, nl === -1 ? code.length : nl);
  if (before.trim() === "" && after.trim() === "") return code.slice(0, lineStart) + code.slice(lineEnd);
  return code.slice(0, start) + code.slice(end);
}

function negate(test: Expression): Expression {
  // Undo an existing negation rather than stacking a second one: the diff stays one token.
  if (test.type === "UnaryExpression" && test.operator === "!") return test.argument;
  return { type: "UnaryExpression", operator: "!", prefix: true, argument: test } as Expression;
}

function binarySites(node: BinaryExpression | LogicalExpression, out: MutationSite[]): void {
  const op = node.operator;
  const flipped = FLIPS[op];
  const concatenation = op === "+" && (isStringy(node.left) || isStringy(node.right));
  // `'a' - x` is NaN everywhere: an obvious, uninteresting bug, so string + is not flipped.
  if (flipped !== undefined && !concatenation) {
    out.push({
      kind: "flip_operator",
      line: line(node),
      detail: `${op} -> ${flipped}`,
      apply: () => {
        (node as { operator: string }).operator = flipped;
      },
    });
  }
  if ((NON_COMMUTATIVE.has(op) || concatenation) && node.left.type !== "PrivateName") {
    out.push({
      kind: "swap_operands",
      line: line(node),
      detail: `swap operands of ${op}`,
      apply: () => {
        const left = node.left as Expression;
        node.left = node.right;
        node.right = left;
      },
    });
  }
}

function ifSites(node: IfStatement, ctx: VisitContext, out: MutationSite[]): void {
  if (node.alternate === null || node.alternate === undefined) {
    const list = statementList(ctx);
    const parent = ctx.parent;
    if (list !== null && ctx.index !== null) {
      const index = ctx.index;
      out.push({
        kind: "remove_conditional",
        line: line(node),
        detail: "remove if",
        apply: () => void list.splice(index, 1),
        ...range(node),
      });
    } else if (parent?.type === "IfStatement" && ctx.key === "alternate") {
      out.push({
        kind: "remove_conditional",
        line: line(node),
        detail: "remove else-if",
        apply: () => {
          parent.alternate = null;
        },
        ...elseRange(parent.consequent, node),
      });
    }
    out.push({
      kind: "invert_branch",
      line: line(node),
      detail: "negate if condition",
      apply: () => void (node.test = negate(node.test)),
    });
    return;
  }
  if (node.consequent.type === "BlockStatement" && node.alternate.type === "BlockStatement") {
    out.push({
      kind: "invert_branch",
      line: line(node),
      detail: "swap if/else branches",
      apply: () => {
        const consequent = node.consequent;
        node.consequent = node.alternate as Statement;
        node.alternate = consequent;
      },
    });
  } else {
    out.push({
      kind: "invert_branch",
      line: line(node),
      detail: "negate if/else condition",
      apply: () => void (node.test = negate(node.test)),
    });
  }
}

function isExportAssignment(node: Node): boolean {
  if (node.type !== "AssignmentExpression" || node.left.type !== "MemberExpression") return false;
  const obj = node.left.object;
  return (obj.type === "Identifier" && (obj.name === "exports" || obj.name === "module")) || isExportAssignment(obj);
}

/** Every mutation site of a parsed file, in source order. `apply` edits this very tree. */
export function mutationSites(ast: File): MutationSite[] {
  const out: MutationSite[] = [];
  walk(ast.program, (node, ctx) => {
    switch (node.type) {
      case "BinaryExpression":
      case "LogicalExpression":
        binarySites(node, out);
        break;
      case "NumericLiteral": {
        const value = node.value;
        if (!Number.isSafeInteger(value)) break;
        const set = (v: number) => () => {
          node.value = v;
          // Otherwise the printer would reuse the old raw text.
          delete node.extra;
        };
        out.push({
          kind: "change_constant",
          line: line(node),
          detail: `${value} -> ${value + 1}`,
          apply: set(value + 1),
        });
        // Negative literals are a unary minus in the tree; 0 -> -1 would not reprint as one literal.
        if (value >= 1)
          out.push({
            kind: "change_constant",
            line: line(node),
            detail: `${value} -> ${value - 1}`,
            apply: set(value - 1),
          });
        break;
      }
      case "BooleanLiteral":
        out.push({
          kind: "change_constant",
          line: line(node),
          detail: `${node.value} -> ${!node.value}`,
          apply: () => void (node.value = !node.value),
        });
        break;
      case "IfStatement":
        ifSites(node, ctx, out);
        break;
      case "ConditionalExpression":
        out.push({
          kind: "invert_branch",
          line: line(node),
          detail: "swap ?: branches",
          apply: () => {
            const consequent = node.consequent;
            node.consequent = node.alternate;
            node.alternate = consequent;
          },
        });
        break;
      case "ExpressionStatement": {
        const list = statementList(ctx);
        const expr = node.expression;
        const assigns = expr.type === "AssignmentExpression" || expr.type === "UpdateExpression";
        // Top-level statements are module wiring (exports, polyfills): removing one breaks
        // everything at once, which is never a useful task.
        if (!assigns || list === null || ctx.index === null || ctx.parent?.type === "Program") break;
        if (isExportAssignment(expr)) break;
        const index = ctx.index;
        out.push({
          kind: "remove_assignment",
          line: line(node),
          detail: "remove assignment",
          apply: () => void list.splice(index, 1),
          ...range(node),
        });
        break;
      }
      default:
        break;
    }
  });
  return out;
}

export interface MutationRef {
  /** Workspace-relative path of the mutated file. */
  file: string;
  /** Index into mutationSites() of the file's text. */
  ordinal: number;
  kind: MutationKind;
  line: number;
  detail: string;
}

/** All sites of one file as references (cheap to keep; re-applied from text on demand). */
export function enumerateMutations(file: string, code: string): MutationRef[] {
  return mutationSites(parseJs(code, file)).map((s, ordinal) => ({
    file,
    ordinal,
    kind: s.kind,
    line: s.line,
    detail: s.detail,
  }));
}

/**
 * The text of `code` with one mutation applied, or null when the mutation is a no-op or does
 * not reprint faithfully (the printed text must parse back to exactly the mutated tree, so a
 * missing pair of parentheses can never smuggle in a different bug).
 */
export function applyMutation(code: string, ref: MutationRef): string | null {
  const ast = parseJs(code, ref.file);
  const site = mutationSites(ast)[ref.ordinal];
  if (site === undefined || site.kind !== ref.kind || site.detail !== ref.detail) {
    throw new JsSyntaxError(ref.file, `mutation site ${ref.ordinal} (${ref.kind}) not found; source changed?`);
  }
  site.apply();
  const printed = site.removes ? removeText(code, site.removes.start, site.removes.end) : printJs(ast, code);
  if (printed === code) return null;
  let reparsed: File;
  try {
    reparsed = parseJs(printed, ref.file);
  } catch {
    return null;
  }
  return structuralFingerprint(reparsed.program) === structuralFingerprint(ast.program) ? printed : null;
}
