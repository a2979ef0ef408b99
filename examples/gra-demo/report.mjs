// Prints CR and mean total reward over training for the D-RA and G-RA runs side by side:
// one row per window of `every` steps (the window's mean, so single noisy steps do not
// dominate), then a last line of JSON with every step's values.
// Usage: node report.mjs <dra/summary.json> <gra/summary.json> [every]
import { readFileSync } from "node:fs";

const [draPath, graPath, everyArg] = process.argv.slice(2);
if (!draPath || !graPath) {
  console.error("usage: node report.mjs <dra/summary.json> <gra/summary.json> [every]");
  process.exit(2);
}
const every = Math.max(1, Number(everyArg ?? 5));

function load(path) {
  const s = JSON.parse(readFileSync(path, "utf8"));
  if (!Array.isArray(s.completion_rate_by_step) || !Array.isArray(s.reward_mean_by_step)) {
    throw new Error(`${path}: no completion_rate_by_step / reward_mean_by_step (built before CR was recorded?)`);
  }
  if (s.exit !== "completed") console.error(`warning: ${path} ended ${s.exit}${s.error ? `: ${s.error}` : ""}`);
  return { cr: s.completion_rate_by_step, reward: s.reward_mean_by_step, levels: s.episodes?.outcome_levels ?? {} };
}

const runs = { dra: load(draPath), gra: load(graPath) };
const avg = (xs) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const fmt = (x, w = 7) => (Number.isNaN(x) ? "-" : x.toFixed(3)).padStart(w);
const steps = Math.max(runs.dra.cr.length, runs.gra.cr.length);

console.log(`mean over each window of ${every} steps (CR: share of episodes that submitted; reward: total R)`);
console.log(
  `${"steps".padEnd(9)}| ${"D-RA CR".padStart(7)} ${"D-RA R".padStart(7)} | ${"G-RA CR".padStart(7)} ${"G-RA R".padStart(7)}`,
);
for (let start = 0; start < steps; start += every) {
  const end = Math.min(steps, start + every);
  const w = (xs) => avg(xs.slice(start, end));
  console.log(
    `${`${start + 1}-${end}`.padEnd(9)}| ${fmt(w(runs.dra.cr))} ${fmt(w(runs.dra.reward))} | ${fmt(w(runs.gra.cr))} ${fmt(w(runs.gra.reward))}`,
  );
}
for (const [name, r] of Object.entries(runs))
  console.log(`${name} outcome levels over the run: ${JSON.stringify(r.levels)}`);
const round = (xs) => xs.map((x) => Math.round(x * 1e4) / 1e4);
console.log(
  JSON.stringify({
    every,
    dra: { completion_rate_by_step: round(runs.dra.cr), reward_mean_by_step: round(runs.dra.reward) },
    gra: { completion_rate_by_step: round(runs.gra.cr), reward_mean_by_step: round(runs.gra.reward) },
  }),
);
