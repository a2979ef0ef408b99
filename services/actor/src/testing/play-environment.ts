import type { Environment, EpisodeOutcome, ResetResult } from "../environment.js";

/** A text-only episode played to its end (or as far as `answers` go), for environment tests. */
export async function playEnvironment<E extends Environment>(
  env: E,
  answers: ReadonlyArray<string | null>,
): Promise<{ env: E; reset: ResetResult; shown: string[]; done: boolean; outcome: EpisodeOutcome }> {
  const reset = await env.reset();
  const shown: string[] = [];
  let done = false;
  for (const a of answers) {
    const r = await env.step({ content: a, toolCalls: [] });
    shown.push(...r.messages.map((m) => m.content ?? ""));
    done = r.done;
  }
  return { env, reset, shown, done, outcome: env.outcome() };
}
