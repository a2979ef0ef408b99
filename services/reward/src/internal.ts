// What sibling tests may use: trajectory fixtures.
export { makeTrajectory, makeTurn } from "./testing/fixtures.js";
