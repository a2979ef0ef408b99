import { annotationKey } from "./annotation-key.js";

/** A ranking pair: two annotated steps by key, in the order the judge saw them. */
export interface TextPairKeys {
  first: string;
  second: string;
}

/** Judge text of a ranking pair (ONI ranking asks which of two observations is better). */
export function rankingPairText(first: string, second: string): string {
  return `First:\n${first}\n\nSecond:\n${second}`;
}

/** Annotation key of a ranking pair: a hash of both step keys, in order. */
export function rankingPairKey(first: string, second: string, hexChars = 32): string {
  return annotationKey(JSON.stringify(["pair", first, second]), hexChars);
}

/**
 * The texts behind annotation keys, which the label store does not hold: what the reward
 * model trains on. Bounded: past `cap` entries the oldest text (and pair) is forgotten, so a
 * label whose text is gone is skipped by the trainer until the step is seen again.
 */
export class AnnotationTexts {
  private readonly texts = new Map<string, string>();
  private readonly pairs = new Map<string, TextPairKeys>();

  constructor(private readonly cap: number) {
    if (!(cap > 0)) throw new RangeError(`annotation text cache cap must be > 0, got ${cap}`);
  }

  /** Records a step's text; returns true when the key was new. */
  addText(key: string, text: string): boolean {
    const isNew = !this.texts.has(key);
    if (isNew) this.texts.set(key, text);
    evictOldest(this.texts, this.cap);
    return isNew;
  }

  addPair(pairKey: string, pair: TextPairKeys): void {
    if (!this.pairs.has(pairKey)) this.pairs.set(pairKey, pair);
    evictOldest(this.pairs, this.cap);
  }

  text(key: string): string | undefined {
    return this.texts.get(key);
  }

  /** Both texts of a labelled pair, when both are still known. */
  pair(pairKey: string): { first: string; second: string } | undefined {
    const keys = this.pairs.get(pairKey);
    if (!keys) return undefined;
    const first = this.texts.get(keys.first);
    const second = this.texts.get(keys.second);
    return first === undefined || second === undefined ? undefined : { first, second };
  }

  get size(): number {
    return this.texts.size;
  }
  get pairCount(): number {
    return this.pairs.size;
  }
}

function evictOldest<V>(map: Map<string, V>, cap: number): void {
  while (map.size > cap) {
    const oldest = map.keys().next();
    if (oldest.done === true) return;
    map.delete(oldest.value);
  }
}
