// Entry for tests: fakes and building blocks that are not public API.
export * from "./index.js";
export { FakeKubeApi } from "./testing/fake-kube-api.js";
export { FakeClock, realClock, type Clock } from "./controller/clock.js";
export { TYPES } from "./kube/resources.js";
