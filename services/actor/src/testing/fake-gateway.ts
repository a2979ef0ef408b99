import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { packFloat32, packInt32 } from "@sluice/common";
import type { ChatMessage, WireToolCall } from "../chat-types.js";

/** What the fake received on POST /v1/chat/completions. */
export interface FakeChatRequest {
  model: string;
  messages: ChatMessage[];
  tools?: unknown[];
  max_tokens: number;
  temperature: number;
  top_p: number;
  seed?: number;
  sluice_interruptible?: boolean;
  sluice_session_id?: string;
}

/** One scripted reply. Token fields default to char codes of the text, so tests can predict them. */
export interface FakeReply {
  /** Non-2xx status: `body` is sent as the error body. */
  status?: number;
  body?: string;
  delayMs?: number;
  content?: string | null;
  toolCalls?: WireToolCall[];
  toolCallErrors?: { raw: string; error: string }[];
  finishReason?: string;
  observationTokenIds?: number[];
  actionTokenIds?: number[];
  actionLogprobs?: number[];
  actionPolicyVersions?: number[];
  prefixOk?: boolean;
  policyVersion?: number;
  /** usage.prompt_tokens (default 0): lets tests drive context limits. */
  promptTokens?: number;
}

export interface FakeCallContext {
  request: FakeChatRequest;
  /** 0-based index of this call within its session. */
  turn: number;
  callIndex: number;
}

export type FakeScript = (call: FakeCallContext) => FakeReply | Promise<FakeReply>;

export interface FakeGateway {
  url: string;
  requests: FakeChatRequest[];
  deletedSessions: string[];
  close(): Promise<void>;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");
const codes = (text: string): number[] => Array.from(text, (ch) => ch.codePointAt(0) ?? 0);

/** Builds the JSON body of a completion with the sluice extension. */
export function fakeCompletionBody(reply: FakeReply, observationText: string, sessionId: string | undefined): string {
  const content = reply.content === undefined ? "" : reply.content;
  const action = reply.actionTokenIds ?? codes(content ?? "");
  const version = reply.policyVersion ?? 0;
  return JSON.stringify({
    id: "chatcmpl-fake",
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: "fake",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content,
          ...(reply.toolCalls ? { tool_calls: reply.toolCalls } : {}),
          refusal: null,
        },
        finish_reason: reply.finishReason ?? "stop",
        logprobs: null,
      },
    ],
    usage: {
      prompt_tokens: reply.promptTokens ?? 0,
      completion_tokens: action.length,
      total_tokens: (reply.promptTokens ?? 0) + action.length,
    },
    sluice: {
      session_id: sessionId ?? null,
      policy_version: version,
      observation_token_ids_b64: b64(packInt32(reply.observationTokenIds ?? codes(observationText))),
      action_token_ids_b64: b64(packInt32(action)),
      action_logprobs_b64: b64(packFloat32(reply.actionLogprobs ?? action.map(() => -0.5))),
      action_policy_versions_b64: b64(packInt32(reply.actionPolicyVersions ?? action.map(() => version))),
      prefix_ok: reply.prefixOk ?? true,
      tool_call_errors: reply.toolCallErrors ?? [],
    },
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A scripted stand-in for the gateway's HTTP API (chat completions + sluice extension,
 * DELETE /v1/sessions/<id>), for actor tests that must not need the engine.
 */
export async function startFakeGateway(script: FakeScript): Promise<FakeGateway> {
  const requests: FakeChatRequest[] = [];
  const deletedSessions: string[] = [];
  const turnsBySession = new Map<string, number>();
  const seenBySession = new Map<string, number>();
  let callIndex = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = req.url ?? "";
      if (req.method === "DELETE" && url.startsWith("/v1/sessions/")) {
        deletedSessions.push(decodeURIComponent(url.slice("/v1/sessions/".length)));
        res.writeHead(204).end();
        return;
      }
      if (req.method !== "POST" || url !== "/v1/chat/completions") {
        res.writeHead(404).end();
        return;
      }
      const request = JSON.parse(await readBody(req)) as FakeChatRequest;
      requests.push(request);
      const sid = request.sluice_session_id;
      const turn = sid ? (turnsBySession.get(sid) ?? 0) : 0;
      if (sid) turnsBySession.set(sid, turn + 1);
      // Like the real gateway: observation = messages not seen before in this session.
      const seen = sid ? (seenBySession.get(sid) ?? 0) : 0;
      const fresh = request.messages.slice(seen).filter((m) => m.role !== "assistant");
      const reply = await script({ request, turn, callIndex: callIndex++ });
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      if (res.destroyed) return;
      if (reply.status !== undefined && (reply.status < 200 || reply.status >= 300)) {
        res.writeHead(reply.status, { "content-type": "application/json" }).end(reply.body ?? "");
        return;
      }
      if (sid) seenBySession.set(sid, request.messages.length + 1);
      const body = fakeCompletionBody(reply, fresh.map((m) => m.content ?? "").join("\n"), sid);
      res.writeHead(200, { "content-type": "application/json" }).end(body);
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    deletedSessions,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A policy that always counts correctly: the next digit after the last user message. */
export const countingScript: FakeScript = ({ request }) => {
  const lastUser = [...request.messages].reverse().find((m) => m.role === "user");
  const d = Number((lastUser?.content ?? "0").trim().charAt(0));
  return { content: String((d + 1) % 10) };
};
