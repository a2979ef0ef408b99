import {
  contracts,
  createLogger,
  createMetricsRegistry,
  errorMessage,
  startGrpcServer,
  type RunningGrpcServer,
} from "@sluice/common";

/** A status error the fake throws; `code` becomes the gRPC status. */
export class FakeSandboxError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "FakeSandboxError";
  }
}

const GRPC_UNAVAILABLE = 14;
const GRPC_INTERNAL = 13;

type Callback = (err: Error | null, res?: unknown) => void;
type Handler = (call: { request: unknown }, callback: Callback) => void;

/**
 * Adapts an async handler. The error handed to grpc-js is an Error instance carrying
 * `code` and `details`: common's server wrapper reads the message with errorMessage(),
 * which would turn a plain status object into "[object Object]".
 */
function unaryHandler<Req, Res>(fn: (req: Req) => Promise<Res>): Handler {
  return (call, callback) => {
    fn(call.request as Req).then(
      (res) => callback(null, res),
      (err: unknown) => {
        const code = err instanceof FakeSandboxError ? err.code : GRPC_INTERNAL;
        callback(Object.assign(new Error(errorMessage(err)), { code, details: errorMessage(err) }));
      },
    );
  };
}

export interface FakeSandboxBehaviour {
  /** What ExtractPatch returns (default ""). */
  patch: string;
  patchTooLarge: boolean;
  verify: Partial<contracts.VerifyResponse>;
  /** RPC names (e.g. "runTool") that fail with UNAVAILABLE; `runTool:2` fails only the 2nd call. */
  fail: Set<string>;
  /** Answers a RunTool; the default runs bash/str_replace_editor as no-ops and knows submit. */
  runTool: (req: contracts.RunToolRequest) => Partial<contracts.RunToolResponse>;
  /** Delays before answering RunTool (ms), to exercise deadlines and wall time. */
  runToolDelayMs: number;
}

export interface FakeSandbox {
  address: string;
  behaviour: FakeSandboxBehaviour;
  created: contracts.CreateTaskSandboxRequest[];
  toolCalls: contracts.RunToolRequest[];
  extracted: contracts.ExtractPatchRequest[];
  verified: contracts.VerifyRequest[];
  destroyed: string[];
  close(): Promise<void>;
}

const KNOWN_TOOLS = new Set(["bash", "execute_bash", "str_replace_editor", "file_editor", "submit", "finish"]);

export function defaultRunTool(req: contracts.RunToolRequest): Partial<contracts.RunToolResponse> {
  if (!KNOWN_TOOLS.has(req.toolName)) {
    return {
      observation: `Unknown tool ${req.toolName}. Available tools: bash, str_replace_editor, submit.`,
      invalid: true,
      invalidReason: `unknown tool ${req.toolName}`,
      exitCode: 2,
    };
  }
  if (req.toolName === "submit" || req.toolName === "finish") return { observation: "submitted", submitted: true };
  return { observation: "<returncode>0</returncode><output>ok</output>", exitCode: 0, elapsedMs: 3 };
}

/**
 * An in-process SandboxService that implements the SWE RPCs from a script: for actor
 * tests that must not need bubblewrap or built task environments.
 */
export async function startFakeSandbox(overrides: Partial<FakeSandboxBehaviour> = {}): Promise<FakeSandbox> {
  const behaviour: FakeSandboxBehaviour = {
    patch: "",
    patchTooLarge: false,
    verify: {},
    fail: new Set(),
    runTool: defaultRunTool,
    runToolDelayMs: 0,
    ...overrides,
  };
  const created: contracts.CreateTaskSandboxRequest[] = [];
  const toolCalls: contracts.RunToolRequest[] = [];
  const extracted: contracts.ExtractPatchRequest[] = [];
  const verified: contracts.VerifyRequest[] = [];
  const destroyed: string[] = [];
  const counts = new Map<string, number>();
  const maybeFail = (rpc: string): void => {
    const n = (counts.get(rpc) ?? 0) + 1;
    counts.set(rpc, n);
    if (behaviour.fail.has(rpc) || behaviour.fail.has(`${rpc}:${n}`)) {
      throw new FakeSandboxError(GRPC_UNAVAILABLE, `fake ${rpc} failure`);
    }
  };
  // Only the SWE RPCs and DestroySandbox: grpc-js answers the others UNIMPLEMENTED.
  const implementation: Record<string, Handler> = {
    createTaskSandbox: unaryHandler(async (req: contracts.CreateTaskSandboxRequest) => {
      maybeFail("createTaskSandbox");
      created.push(req);
      const res: contracts.CreateTaskSandboxResponse = {
        sandboxId: `sb-${created.length}`,
        workspacePath: "/workspace",
        enforced: [],
        baseCommit: "0".repeat(40),
        environmentHash: "fake",
      };
      return res;
    }),
    runTool: unaryHandler(async (req: contracts.RunToolRequest) => {
      toolCalls.push(req);
      if (behaviour.runToolDelayMs > 0) await new Promise((r) => setTimeout(r, behaviour.runToolDelayMs));
      maybeFail("runTool");
      const res: contracts.RunToolResponse = {
        observation: "",
        exitCode: 0,
        outputTruncated: false,
        elapsedMs: 0,
        invalid: false,
        invalidReason: "",
        submitted: false,
        timedOut: false,
        ...behaviour.runTool(req),
      };
      return res;
    }),
    extractPatch: unaryHandler(async (req: contracts.ExtractPatchRequest) => {
      extracted.push(req);
      maybeFail("extractPatch");
      const res: contracts.ExtractPatchResponse = {
        patch: behaviour.patchTooLarge ? "" : behaviour.patch,
        tooLarge: behaviour.patchTooLarge,
        sizeBytes: behaviour.patchTooLarge ? 10 ** 9 : Buffer.byteLength(behaviour.patch),
      };
      return res;
    }),
    verify: unaryHandler(async (req: contracts.VerifyRequest) => {
      verified.push(req);
      maybeFail("verify");
      const empty = req.patch.trim() === "";
      const level = !req.submitted
        ? contracts.OutcomeLevel.OUTCOME_LEVEL_NO_SUBMIT
        : empty
          ? contracts.OutcomeLevel.OUTCOME_LEVEL_EMPTY_PATCH
          : contracts.OutcomeLevel.OUTCOME_LEVEL_RESOLVED;
      const resolved = level === contracts.OutcomeLevel.OUTCOME_LEVEL_RESOLVED;
      const res: contracts.VerifyResponse = {
        level,
        reportJson: JSON.stringify({ resolved, outcome_level: contracts.outcomeLevelToJSON(level) }),
        resolved,
        infrastructureError: false,
        error: "",
        durationMs: 1,
        ...behaviour.verify,
      };
      return res;
    }),
    destroySandbox: unaryHandler(async (req: contracts.DestroySandboxRequest) => {
      destroyed.push(req.sandboxId);
      maybeFail("destroySandbox");
      return {};
    }),
  };
  const server: RunningGrpcServer = await startGrpcServer({
    port: 0,
    services: [{ name: "sluice.v1.SandboxService", definition: contracts.SandboxServiceService, implementation }],
    logger: createLogger({ experiment: "test", component: "fake-sandbox", level: "error" }),
    registry: createMetricsRegistry("fake-sandbox", "test"),
  });
  return {
    address: `127.0.0.1:${server.port}`,
    behaviour,
    created,
    toolCalls,
    extracted,
    verified,
    destroyed,
    close: () => server.shutdown(1_000),
  };
}
