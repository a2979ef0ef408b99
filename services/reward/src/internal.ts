// What sibling tests may use: trajectory fixtures.
export { makeTrajectory, makeTurn } from "./testing/fixtures.js";
export { startLocalJudge, passRule, type LocalJudge, type LocalJudgeOptions } from "./oni/testing/local-judge.js";
