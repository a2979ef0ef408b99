import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rewardSchema } from "@sluice/common";
import { makeTrajectory, makeTurn } from "../testing/fixtures.js";
import { toolCall } from "../testing/tool-calls.js";
import { stepCriticsChannel, stepCriticValues } from "./step-critics.js";

const close = (got: readonly number[], want: readonly number[]): void => {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => assert.ok(Math.abs(g - (want[i] ?? NaN)) < 1e-12, `turn ${i}: ${g} != ${want[i]}`));
};

void describe("rule-based step critics", () => {
  const ls = toolCall("bash", { command: "ls" });
  const edit = toolCall("str_replace_editor", { command: "str_replace", path: "a.py", old_str: "a", new_str: "b" });
  const view = toolCall("str_replace_editor", { command: "view", path: "a.py" });
  const t = makeTrajectory({
    turns: [
      makeTurn(2, { actionText: "ls", toolCalls: [ls] }),
      makeTurn(2, { actionText: "ls", toolCalls: [ls] }), // exact repeat
      makeTurn(2, { actionText: "edit", toolCalls: [edit] }),
      makeTurn(2, { actionText: "edit2", toolCalls: [{ ...edit, exitCode: 1 }] }), // edit failed
      makeTurn(2, { actionText: "bad", toolCalls: [toolCall("bash", {}, { valid: false, exitCode: 0 })] }),
      makeTurn(2, { actionText: "thinking", toolCalls: [] }),
      makeTurn(2, { actionText: "view", toolCalls: [view, toolCall("bash", { command: "false" }, { exitCode: 1 })] }),
    ],
  });

  void it("scores valid calls, exit 0, applied edits and repeats with the defaults", () => {
    const config = rewardSchema.parse({ stepCritics: { enabled: true } }).stepCritics;
    // turn 0: valid +0.1, exit 0 +0.1; turn 1: same, repeat −0.1; turn 2: valid +0.1, edit +0.1;
    // turn 3: valid +0.1, edit failed 0; turn 4: invalid 0, bash invalid 0; turn 5: nothing applies;
    // turn 6: valid +0.1, a command exited 1 → 0, view is not an edit.
    close(stepCriticValues(t, config), [0.2, 0.1, 0.2, 0.1, 0, 0, 0.1]);
  });

  void it("each critic can be switched off or given its own values", () => {
    const config = rewardSchema.parse({
      stepCritics: {
        enabled: true,
        validToolCall: { enabled: false },
        commandSucceeded: { reward: 1, penalty: -1 },
        editApplied: { reward: 2, penalty: -2 },
        noRepeat: { enabled: false },
      },
    }).stepCritics;
    assert.deepEqual(stepCriticValues(t, config), [1, 1, 2, -2, -1, 0, -1]);
  });

  void it("episode value is the sum of the per-turn values", () => {
    const config = rewardSchema.parse({
      stepCritics: { enabled: true, validToolCall: { reward: 0.25 }, commandSucceeded: { reward: 0.25 }, weight: 2 },
    }).stepCritics;
    const c = stepCriticsChannel(config).score(makeTrajectory({ turns: [makeTurn(2, { toolCalls: [ls] })] }));
    assert.deepEqual(c.perTurn, [0.5]);
    assert.equal(c.value, 0.5);
    assert.equal(c.weight, 2);
    assert.equal(c.name, "steps");
  });
});
