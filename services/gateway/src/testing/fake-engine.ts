import { RpcError, packFloat32, packInt32, unpackInt32, type EngineApi, type contracts } from "@sluice/common";

/** The fake's end-of-turn token: one id, like a real tokenizer's special token. */
export const FAKE_EOS_ID = 1;
const EOS_TEXT = "<|end|>";

/** Deterministic tokenizer: `<|end|>` is FAKE_EOS_ID, every other character its code point. */
export function fakeTokenize(text: string): number[] {
  const ids: number[] = [];
  for (let i = 0; i < text.length;) {
    if (text.startsWith(EOS_TEXT, i)) {
      ids.push(FAKE_EOS_ID);
      i += EOS_TEXT.length;
      continue;
    }
    const cp = text.codePointAt(i) as number;
    ids.push(cp);
    i += cp > 0xffff ? 2 : 1;
  }
  return ids;
}

export function fakeDetokenize(ids: readonly number[], skipSpecial: boolean): string {
  return ids.map((id) => (id === FAKE_EOS_ID ? (skipSpecial ? "" : EOS_TEXT) : String.fromCodePoint(id))).join("");
}

/** `<|role|>content[<tool_call>..</tool_call>]<|end|>` per message, tools first. */
export function fakeRenderText(
  messages: readonly contracts.ChatMessage[],
  addGenerationPrompt: boolean,
  toolsJson: string,
): string {
  let text = toolsJson ? `<|tools|>${toolsJson}${EOS_TEXT}` : "";
  for (const m of messages) {
    let body = m.content;
    if (m.toolCallsJson) {
      const calls = JSON.parse(m.toolCallsJson) as Array<{ function: { name: string; arguments: string } }>;
      for (const c of calls) {
        body += `<tool_call>${JSON.stringify({ name: c.function.name, arguments: JSON.parse(c.function.arguments) as unknown })}</tool_call>`;
      }
    }
    const who = m.role === "tool" ? `tool:${m.toolCallId}` : m.role;
    text += `<|${who}|>${body}${EOS_TEXT}`;
  }
  return addGenerationPrompt ? `${text}<|assistant|>` : text;
}

export type ScriptedCompletion = string | ((prompt: number[]) => string);

/**
 * An in-memory EngineApi for tests: renders chats with a toy template, samples scripted
 * completions (ending in FAKE_EOS_ID unless cut by max_tokens), and records every call.
 */
export class FakeEngine implements EngineApi {
  policyVersion = 7;
  readonly renderCalls: contracts.RenderChatRequest[] = [];
  readonly sampleCalls: contracts.SampleRequest[] = [];
  /** Prompts of sample calls, unpacked. */
  readonly sampledPrompts: number[][] = [];
  /** The next call of the named method throws this error (once). */
  private readonly failures = new Map<string, Error>();
  private readonly script: ScriptedCompletion[];

  constructor(
    script: ScriptedCompletion[] = [],
    private readonly fallback: ScriptedCompletion = "ok",
  ) {
    this.script = [...script];
  }

  /** Queues completions for the next sample calls. */
  enqueue(...completions: ScriptedCompletion[]): void {
    this.script.push(...completions);
  }

  failNext(method: "renderChat" | "sample" | "detokenize", error: Error): void {
    this.failures.set(method, error);
  }

  private maybeFail(method: string): void {
    const err = this.failures.get(method);
    if (err) {
      this.failures.delete(method);
      throw err;
    }
  }

  async modelInfo(model: string): Promise<contracts.GetModelInfoResponse> {
    return {
      model,
      vocabSize: 0x110000,
      policyVersion: this.policyVersion,
      eosTokenIds: [FAKE_EOS_ID],
      device: "fake",
      parameterCount: 0,
      optimizerSteps: 0,
    };
  }

  async renderChat(req: contracts.RenderChatRequest): Promise<contracts.RenderChatResponse> {
    this.renderCalls.push(req);
    this.maybeFail("renderChat");
    for (const [i, m] of req.messages.entries()) {
      if (!["system", "user", "assistant", "tool"].includes(m.role)) {
        throw new RpcError("Engine.RenderChat", 3, `messages[${i}].role: unknown role ${m.role}`);
      }
    }
    const fullText = fakeRenderText(req.messages, req.addGenerationPrompt, req.toolsJson);
    const lastAssistant = req.messages.map((m) => m.role).lastIndexOf("assistant");
    if (!req.continuation || lastAssistant < 0) {
      return { tokenIds: packInt32(fakeTokenize(fullText)), text: fullText };
    }
    // Same contract as the engine: everything after the rendering up to the last assistant.
    const prefixText = fakeRenderText(req.messages.slice(0, lastAssistant + 1), false, req.toolsJson);
    if (!fullText.startsWith(prefixText)) {
      throw new RpcError("Engine.RenderChat", 9, "continuation: prefix is not stable");
    }
    const suffix = fullText.slice(prefixText.length);
    return { tokenIds: packInt32(fakeTokenize(suffix)), text: suffix };
  }

  async detokenize(
    _model: string,
    tokenIds: Uint8Array,
    skipSpecialTokens: boolean,
  ): Promise<contracts.DetokenizeResponse> {
    this.maybeFail("detokenize");
    return { text: fakeDetokenize(unpackInt32(tokenIds), skipSpecialTokens) };
  }

  async sample(req: contracts.SampleRequest): Promise<contracts.SampleResponse> {
    this.sampleCalls.push(req);
    this.maybeFail("sample");
    const sequences: contracts.SampledSequence[] = [];
    for (const [promptIndex, packed] of req.prompts.entries()) {
      const prompt = unpackInt32(packed);
      this.sampledPrompts.push(prompt);
      for (let s = 0; s < Math.max(1, req.numSamples); s++) {
        const next = this.script.shift() ?? this.fallback;
        const text = typeof next === "function" ? next(prompt) : next;
        let ids = [...fakeTokenize(text), FAKE_EOS_ID];
        const max = req.params?.maxTokens ?? ids.length;
        const cut = ids.length > max;
        if (cut) ids = ids.slice(0, max);
        const logprobs = ids.map((_, i) => -0.25 * ((i % 4) + 1));
        sequences.push({
          promptIndex,
          tokenIds: packInt32(ids),
          logprobs: packFloat32(logprobs),
          finishReason: cut ? "length" : "stop",
        });
      }
    }
    return { sequences, policyVersion: this.policyVersion };
  }

  async computeLogprobs(): Promise<contracts.ComputeLogprobsResponse> {
    throw unimplemented("ComputeLogprobs");
  }
  async forwardBackward(): Promise<contracts.ForwardBackwardResponse> {
    throw unimplemented("ForwardBackward");
  }
  async optimStep(): Promise<contracts.OptimStepResponse> {
    throw unimplemented("OptimStep");
  }
  async saveWeights(): Promise<contracts.SaveWeightsResponse> {
    throw unimplemented("SaveWeights");
  }
  async loadWeights(): Promise<contracts.LoadWeightsResponse> {
    throw unimplemented("LoadWeights");
  }
  close(): void {}
}

function unimplemented(method: string): RpcError {
  return new RpcError(`Engine.${method}`, 12, "not implemented by FakeEngine");
}
