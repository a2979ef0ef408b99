/**
 * A small SWE-ReX client for tests, written against SWE-ReX's documented models and
 * mirroring RemoteRuntime (swerex/runtime/remote.py): JSON POSTs with X-API-Key and an
 * X-Request-ID, a 511 body's `swerexception` re-raised by class name, any other status
 * >= 400 raised as an HTTP error, multipart uploads with file/target_path/unzip.
 */
import { randomUUID } from "node:crypto";
import { crc32 } from "node:zlib";

/** A runtime exception that travelled over the 511 transport. */
export class SwerexRemoteError extends Error {
  readonly classPath: string;
  readonly extraInfo: Record<string, unknown>;
  constructor(classPath: string, message: string, extraInfo: Record<string, unknown>) {
    super(message);
    this.classPath = classPath;
    // The Python class name, e.g. "NonZeroExitCodeError", like RemoteRuntime re-raises.
    this.name = classPath.split(".").pop() ?? classPath;
    this.extraInfo = extraInfo;
  }
}

/** A non-511 error status (aiohttp's raise_for_status in RemoteRuntime). */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}: ${JSON.stringify(body)}`);
    this.name = "HttpStatusError";
  }
}

export interface BashObservation {
  output: string;
  exit_code: number | null;
  failure_reason: string;
  expect_string: string;
  session_type: string;
}

export interface CommandResponse {
  stdout: string;
  stderr: string;
  exit_code: number | null;
}

type Json = Record<string, unknown>;

export class SwerexTestClient {
  constructor(
    readonly baseUrl: string,
    readonly authToken: string,
    /** Deadline for every HTTP call. */
    readonly timeoutMs = 30_000,
  ) {}

  private get headers(): Record<string, string> {
    return { "X-API-Key": this.authToken };
  }

  private async handle(res: Response): Promise<unknown> {
    const body = (await res.json()) as unknown;
    if (res.status === 511) {
      const exc = (body as { swerexception: Json }).swerexception;
      throw new SwerexRemoteError(
        String(exc.class_path),
        String(exc.message),
        (exc.extra_info ?? {}) as Record<string, unknown>,
      );
    }
    if (res.status >= 400) throw new HttpStatusError(res.status, body);
    return body;
  }

  async request(endpoint: string, payload: Json | undefined, requestId: string = randomUUID()): Promise<Json> {
    const res = await fetch(`${this.baseUrl}/${endpoint}`, {
      method: "POST",
      headers: {
        ...this.headers,
        "X-Request-ID": requestId,
        ...(payload ? { "content-type": "application/json" } : {}),
      },
      ...(payload ? { body: JSON.stringify(payload) } : {}),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    return (await this.handle(res)) as Json;
  }

  /** Like RemoteRuntime.is_alive: a non-200 is "not alive" with the detail as message. */
  async isAlive(): Promise<{ is_alive: boolean; message: string }> {
    const res = await fetch(`${this.baseUrl}/is_alive`, {
      headers: this.headers,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (res.status === 200) return (await res.json()) as { is_alive: boolean; message: string };
    await this.handle(res).catch(() => undefined);
    return { is_alive: false, message: `Status code ${res.status} from ${this.baseUrl}/is_alive` };
  }

  createSession(req: Json = {}): Promise<Json> {
    return this.request("create_session", { session: "default", startup_source: [], session_type: "bash", ...req });
  }

  async runInSession(action: Json): Promise<BashObservation> {
    const body = { session: "default", timeout: null, check: "raise", action_type: "bash", ...action };
    return (await this.request("run_in_session", body)) as unknown as BashObservation;
  }

  closeSession(session = "default"): Promise<Json> {
    return this.request("close_session", { session, session_type: "bash" });
  }

  async execute(command: Json): Promise<CommandResponse> {
    return (await this.request("execute", {
      timeout: null,
      shell: false,
      check: false,
      ...command,
    })) as unknown as CommandResponse;
  }

  readFile(path: string): Promise<Json> {
    return this.request("read_file", { path });
  }

  writeFile(path: string, content: string): Promise<Json> {
    return this.request("write_file", { path, content });
  }

  /** RemoteRuntime.upload: a directory goes as a zip with unzip=true, a file as itself. */
  async upload(data: Uint8Array, filename: string, targetPath: string, unzip: boolean): Promise<Json> {
    const form = new FormData();
    form.append("file", new Blob([data]), filename);
    form.append("target_path", targetPath);
    form.append("unzip", unzip ? "true" : "false");
    const res = await fetch(`${this.baseUrl}/upload`, {
      method: "POST",
      headers: this.headers,
      body: form,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    return (await this.handle(res)) as Json;
  }

  close(): Promise<Json> {
    return this.request("close", undefined);
  }
}

/** A zip archive (stored entries) like shutil.make_archive builds for directory uploads. */
export function makeZip(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const nameBuf = Buffer.from(name);
    const data = Buffer.from(text);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, data);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + data.length;
  }
  const centralDir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(centralDir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDir, end]);
}
