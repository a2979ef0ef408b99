import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UnknownEnvironmentError } from "../errors.js";
import { EnvironmentRegistry, defaultEnvironmentRegistry } from "./registry.js";
import { digitsEnvironment } from "./digits.js";

void describe("environment registry", () => {
  void it("binds digits by name with a validated config and a seeded task source", async () => {
    const bound = defaultEnvironmentRegistry().bind("digits", { turns: 2 }, 5);
    assert.equal(bound.name, "digits");
    const env = bound.create(bound.taskSource.at(0));
    await env.reset();
    await env.step({ content: "x", toolCalls: [] });
    const r = await env.step({ content: "x", toolCalls: [] });
    assert.equal(r.done, true);
  });

  void it("names the registered environments when the name is unknown", () => {
    assert.throws(
      () => defaultEnvironmentRegistry().get("nope"),
      (err: unknown) =>
        err instanceof UnknownEnvironmentError &&
        /environment\.name.*"nope".*digits, farm, recall, swe/.test(err.message),
    );
  });

  void it("refuses to register a name twice", () => {
    assert.throws(
      () => new EnvironmentRegistry().register(digitsEnvironment).register(digitsEnvironment),
      /already registered/,
    );
  });
});
