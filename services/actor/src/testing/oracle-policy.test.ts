import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseTask } from "@sluice/common";
import { firstUserMessage } from "../environments/swe/prompts.js";
import type { FakeCallContext, FakeReply } from "./fake-gateway.js";
import { neverSubmitScript, oracleScript } from "./oracle-policy.js";
import { rawTask } from "./swe-task-fixtures.js";

const task = parseTask(rawTask("npm__minimist-7"), { file: "t" });

function ask(script: ReturnType<typeof oracleScript>, turn: number, firstUser: string): Promise<FakeReply> {
  const ctx: FakeCallContext = {
    request: {
      model: "m",
      messages: [
        { role: "system", content: "s" },
        { role: "user", content: firstUser },
      ],
      max_tokens: 1,
      temperature: 1,
      top_p: 1,
    },
    turn,
    callIndex: turn,
  };
  return Promise.resolve(script(ctx));
}

void describe("oracle policy", () => {
  void it("replays the named task's gold patch one tool call per turn, then submits (and keeps submitting)", async () => {
    const script = oracleScript([task]);
    const names = [];
    for (let turn = 0; turn < 3; turn++) {
      const reply = await ask(script, turn, firstUserMessage(task));
      names.push(reply.toolCalls?.map((c) => c.function.name));
      assert.ok((reply.actionTokenIds?.length ?? 0) > 0, "action tokens stand for the call");
    }
    assert.deepEqual(names, [["str_replace_editor"], ["submit"], ["submit"]]);
    const first = await ask(script, 0, firstUserMessage(task));
    assert.deepEqual(JSON.parse(first.toolCalls?.[0]?.function.arguments ?? "{}"), {
      command: "str_replace",
      path: "/workspace/index.js",
      old_str: "a\n",
      new_str: "b\n",
    });
  });

  void it("refuses sessions that name no known task", async () => {
    const reply = await ask(oracleScript([task]), 0, "Task nope\nfix it");
    assert.equal(reply.status, 400);
  });

  void it("never-submit runs ls forever", async () => {
    const ctx = {
      request: { model: "m", messages: [], max_tokens: 1, temperature: 1, top_p: 1 },
      turn: 9,
      callIndex: 9,
    };
    const reply = await Promise.resolve(neverSubmitScript(ctx));
    assert.deepEqual(
      reply.toolCalls?.map((c) => [c.function.name, c.function.arguments]),
      [["bash", '{"command":"ls"}']],
    );
  });
});
