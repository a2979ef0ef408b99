// Seeded randomness: the candidate order must be the same on every rebuild with one seed.
import { createHash } from "node:crypto";
import { mulberry32, shuffled } from "@sluice/common";

/** mulberry32 seeded from sha256(seed): small, fast, and plenty for shuffling candidates. */
export function seededRandom(seed: string): () => number {
  return mulberry32(createHash("sha256").update(seed).digest().readUInt32LE(0));
}

/** Fisher-Yates with a generator seeded from `seed`; the input is not modified. */
export function seededShuffle<T>(items: readonly T[], seed: string): T[] {
  return shuffled(items, seededRandom(seed));
}

/** Short, stable hex id of some text (instance ids, file names). */
export function shortHash(text: string, length = 8): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}
