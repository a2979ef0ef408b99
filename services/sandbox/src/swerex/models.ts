/**
 * SWE-ReX request models (swerex/runtime/abstract.py) with their field names and defaults,
 * parsed from JSON bodies. Responses are built inline by the handlers with the same field
 * names as the pydantic response models.
 */
import { BodyReader } from "./validate.js";

export interface CreateBashSessionRequest {
  session: string;
  startupSource: string[];
  /** Seconds (SWE-ReX default 1.0). */
  startupTimeout: number;
}

export interface BashAction {
  actionType: "bash";
  command: string;
  session: string;
  /** Seconds; undefined = the sandbox's default command timeout. */
  timeout: number | undefined;
  isInteractiveCommand: boolean;
  isInteractiveQuit: boolean;
  check: "silent" | "raise" | "ignore";
  errorMsg: string;
  expect: string[];
}

export interface BashInterruptAction {
  actionType: "bash_interrupt";
  session: string;
}

export interface CommandRequest {
  command: string | string[];
  timeout: number | undefined;
  shell: boolean;
  check: boolean;
  errorMsg: string;
  env: Record<string, string> | undefined;
  cwd: string | undefined;
  mergeOutputStreams: boolean;
}

export interface ReadFileRequest {
  path: string;
  encoding: string | undefined;
  errors: string | undefined;
}

export interface WriteFileRequest {
  path: string;
  content: string;
}

export function parseCreateSession(body: unknown): CreateBashSessionRequest {
  const r = new BodyReader(body);
  r.literal("session_type", ["bash"], "bash");
  const req = {
    session: r.string("session", "default"),
    startupSource: r.stringList("startup_source"),
    startupTimeout: r.optionalSeconds("startup_timeout") ?? 1.0,
  };
  r.done();
  return req;
}

export function parseAction(body: unknown): BashAction | BashInterruptAction {
  const r = new BodyReader(body);
  const actionType = r.literal("action_type", ["bash", "bash_interrupt"], "bash");
  if (actionType === "bash_interrupt") {
    const session = r.string("session", "default");
    r.done();
    return { actionType, session };
  }
  const action: BashAction = {
    actionType,
    command: r.requiredString("command"),
    session: r.string("session", "default"),
    timeout: r.optionalSeconds("timeout"),
    isInteractiveCommand: r.bool("is_interactive_command", false),
    isInteractiveQuit: r.bool("is_interactive_quit", false),
    check: r.literal("check", ["silent", "raise", "ignore"], "raise"),
    errorMsg: r.string("error_msg", ""),
    expect: r.stringList("expect"),
  };
  r.done();
  return action;
}

export function parseCloseSession(body: unknown): { session: string } {
  const r = new BodyReader(body);
  r.literal("session_type", ["bash"], "bash");
  const req = { session: r.string("session", "default") };
  r.done();
  return req;
}

export function parseCommand(body: unknown): CommandRequest {
  const r = new BodyReader(body);
  const req: CommandRequest = {
    command: r.stringOrList("command"),
    timeout: r.optionalSeconds("timeout"),
    shell: r.bool("shell", false),
    check: r.bool("check", false),
    errorMsg: r.string("error_msg", ""),
    env: r.optionalStringMap("env"),
    cwd: r.optionalString("cwd"),
    mergeOutputStreams: r.bool("merge_output_streams", false),
  };
  r.done();
  return req;
}

export function parseReadFile(body: unknown): ReadFileRequest {
  const r = new BodyReader(body);
  const req = {
    path: r.requiredString("path"),
    encoding: r.optionalString("encoding"),
    errors: r.optionalString("errors"),
  };
  r.done();
  return req;
}

export function parseWriteFile(body: unknown): WriteFileRequest {
  const r = new BodyReader(body);
  const req = { content: r.requiredString("content"), path: r.requiredString("path") };
  r.done();
  return req;
}
