import type { ParserConfig } from "./config.js";
import { OniConfigError } from "./errors.js";

/** Result of parsing one judge answer; `parsed` is false when the default label was used. */
export interface ParsedAnswer {
  label: number;
  parsed: boolean;
}

export type AnswerParser = (text: string) => ParsedAnswer;

/** ONI's ranking answers: FIRST → ỹ = 0, SECOND → ỹ = 1, TIE → ỹ = 0.5. */
export const RANKING_LABELS: Readonly<Record<string, number>> = { FIRST: 0, SECOND: 1, TIE: 0.5 };

/**
 * Builds a parser from a regex whose capture group 1 is the answer. With `labels`
 * the capture is mapped (case-sensitive, then upper-cased); otherwise it is read as a
 * number. No match, an unmapped capture or a non-number gives `defaultLabel`.
 */
export function createAnswerParser(config: ParserConfig): AnswerParser {
  let re: RegExp;
  try {
    re = new RegExp(config.pattern, `${config.flags}g`);
  } catch (cause) {
    throw new OniConfigError(`ONI parser: pattern ${JSON.stringify(config.pattern)} does not compile`, {
      cause,
      context: { pattern: config.pattern, flags: config.flags },
    });
  }
  const fallback: ParsedAnswer = { label: config.defaultLabel, parsed: false };
  return (text) => {
    const matches = [...text.matchAll(re)];
    const m = config.match === "first" ? matches[0] : matches[matches.length - 1];
    const capture = m?.[1] ?? m?.[0];
    if (capture === undefined) return fallback;
    if (config.labels) {
      const label = config.labels[capture] ?? config.labels[capture.toUpperCase()];
      return label === undefined ? fallback : { label, parsed: true };
    }
    const value = Number(capture.trim());
    return capture.trim() === "" || !Number.isFinite(value) ? fallback : { label: value, parsed: true };
  };
}
