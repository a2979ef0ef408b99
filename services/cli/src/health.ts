import { contracts, DeadlineError, insecure, sleep } from "@sluice/common";

/** grpc.health.v1 ServingStatus values. */
export type ServingStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN" | "UNREACHABLE";

const STATUS_BY_NUMBER: readonly ServingStatus[] = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];
const CHECK_METHOD = "/grpc.health.v1.Health/Check";

/**
 * Encodes HealthCheckRequest{service}. Hand-rolled (one string field) so the CLI needs no
 * proto loader for the standard health protocol, which every service (TS and Python) serves.
 */
export function encodeHealthRequest(service: string): Buffer {
  if (service.length === 0) return Buffer.alloc(0);
  const body = Buffer.from(service, "utf8");
  if (body.length > 127) throw new RangeError("health service name too long");
  return Buffer.concat([Buffer.from([0x0a, body.length]), body]);
}

/** Decodes HealthCheckResponse: field 1 (varint) is the status; absent means UNKNOWN. */
export function decodeHealthResponse(buf: Buffer): ServingStatus {
  let i = 0;
  let status = 0;
  while (i < buf.length) {
    const tag = buf[i++] ?? 0;
    const wire = tag & 7;
    let value = 0;
    let shift = 0;
    if (wire !== 0) break; // Only varints are expected; stop rather than misread.
    for (;;) {
      const b = buf[i++] ?? 0;
      value |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) === 0 || i >= buf.length) break;
    }
    if (tag >> 3 === 1) status = value;
  }
  return STATUS_BY_NUMBER[status] ?? "UNKNOWN";
}

/** A reusable health client for one address. */
export class HealthProbe {
  // Any generated client is a plain grpc-js Client; we only use its makeUnaryRequest.
  private readonly client: InstanceType<typeof contracts.LearnerServiceClient>;

  constructor(readonly address: string) {
    this.client = new contracts.LearnerServiceClient(address, insecure());
  }

  /** One Check call; transport failures read as UNREACHABLE (the server may not be up yet). */
  check(timeoutMs: number, service = ""): Promise<ServingStatus> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest<string, ServingStatus>(
        CHECK_METHOD,
        encodeHealthRequest,
        decodeHealthResponse,
        service,
        { deadline: Date.now() + timeoutMs },
        (err, res) => resolve(err || res === undefined ? "UNREACHABLE" : res),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

export interface WaitServingOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Aborts the wait early (e.g. the process exited); the reason is thrown. */
  signal?: AbortSignal;
}

/** Polls the health service until it reports SERVING, or throws DeadlineError. */
export async function waitForServing(address: string, what: string, o: WaitServingOptions): Promise<void> {
  const probe = new HealthProbe(address);
  const deadline = Date.now() + o.timeoutMs;
  try {
    for (;;) {
      if (o.signal?.aborted) throw o.signal.reason;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new DeadlineError(`${what} health SERVING on ${address}`, o.timeoutMs);
      const status = await probe.check(Math.min(2_000, remaining));
      if (status === "SERVING") return;
      if (o.signal?.aborted) throw o.signal.reason;
      await sleep(Math.min(o.intervalMs ?? 250, Math.max(0, deadline - Date.now())), o.signal);
    }
  } finally {
    probe.close();
  }
}
