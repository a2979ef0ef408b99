import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "./logging.js";

function capture(level?: "debug" | "info" | "warn" | "error") {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    experiment: "exp-1",
    component: "reward",
    ...(level ? { level } : {}),
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return { logger, lines };
}

void describe("JSON logger", () => {
  void it("writes one JSON object per line with experiment, component, level, msg and fields", () => {
    const { logger, lines } = capture();
    logger.info("scored batch", { step: 7, count: 3 });
    assert.equal(lines.length, 1);
    const rec = lines[0] ?? {};
    assert.equal(rec.experiment, "exp-1");
    assert.equal(rec.component, "reward");
    assert.equal(rec.level, "info");
    assert.equal(rec.msg, "scored batch");
    assert.equal(rec.step, 7);
    assert.equal(rec.count, 3);
    assert.ok(!Number.isNaN(Date.parse(String(rec.ts))));
  });

  void it("child loggers carry their fields, e.g. the learner step", () => {
    const { logger, lines } = capture();
    logger.child({ step: 12 }).warn("slow");
    assert.equal(lines[0]?.step, 12);
    assert.equal(lines[0]?.component, "reward");
    assert.equal(lines[0]?.level, "warn");
  });

  void it("serialises errors with name and message", () => {
    const { logger, lines } = capture();
    logger.error("failed", { err: new TypeError("bad input") });
    const err = lines[0]?.err as { name: string; message: string };
    assert.equal(err.name, "TypeError");
    assert.equal(err.message, "bad input");
  });

  void it("drops records below the configured level", () => {
    const { logger, lines } = capture("warn");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    assert.deepEqual(
      lines.map((l) => l.level),
      ["warn", "error"],
    );
  });
});
