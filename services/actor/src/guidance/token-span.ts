/** A half-open token range [start, end). */
export interface TokenSpan {
  start: number;
  end: number;
}

/**
 * The span of `guided` whose removal gives `unguided` exactly, when `guided` is `unguided`
 * with one contiguous insertion (the guidance message rendered by the chat template);
 * undefined otherwise. Tokenizer-agnostic: it compares the sampled token ids of the guided
 * re-attempt's first observation with those of the unguided first attempt of the same task,
 * so the learner can strip the guidance on token ids without re-tokenising (LESSONS 3).
 *
 * With p = common prefix and s = common suffix (each at most |unguided|), an insertion of
 * d = |guided| − |unguided| > 0 tokens exists iff p + s ≥ |unguided|; the span is [p', p' + d)
 * for any p' in [|unguided| − s, p]. We take the latest start, p' = min(p, |unguided|).
 */
export function insertionSpan(unguided: ArrayLike<number>, guided: ArrayLike<number>): TokenSpan | undefined {
  const lu = unguided.length;
  const d = guided.length - lu;
  if (d <= 0) return undefined;
  let p = 0;
  while (p < lu && unguided[p] === guided[p]) p++;
  let s = 0;
  while (s < lu && unguided[lu - 1 - s] === guided[guided.length - 1 - s]) s++;
  if (p + s < lu) return undefined;
  return { start: p, end: p + d };
}
