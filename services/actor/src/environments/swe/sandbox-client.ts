import { CLIENT_OPTIONS, contracts, insecure, unaryCall } from "@sluice/common";

/**
 * The SWE RPCs of the sandbox service, each with an explicit deadline. One client (one
 * HTTP/2 channel) is shared by every episode of a bound environment.
 */
export class SweSandboxClient {
  private readonly client: contracts.SandboxServiceClient;

  constructor(readonly address: string) {
    this.client = new contracts.SandboxServiceClient(address, insecure(), CLIENT_OPTIONS);
  }

  createTaskSandbox(
    req: contracts.CreateTaskSandboxRequest,
    timeoutMs: number,
  ): Promise<contracts.CreateTaskSandboxResponse> {
    const fn = this.client.createTaskSandbox.bind(this.client);
    return unaryCall("SandboxService.CreateTaskSandbox", fn, req, timeoutMs);
  }

  runTool(req: contracts.RunToolRequest, timeoutMs: number): Promise<contracts.RunToolResponse> {
    return unaryCall("SandboxService.RunTool", this.client.runTool.bind(this.client), req, timeoutMs);
  }

  extractPatch(req: contracts.ExtractPatchRequest, timeoutMs: number): Promise<contracts.ExtractPatchResponse> {
    return unaryCall("SandboxService.ExtractPatch", this.client.extractPatch.bind(this.client), req, timeoutMs);
  }

  verify(req: contracts.VerifyRequest, timeoutMs: number): Promise<contracts.VerifyResponse> {
    return unaryCall("SandboxService.Verify", this.client.verify.bind(this.client), req, timeoutMs);
  }

  destroySandbox(req: contracts.DestroySandboxRequest, timeoutMs: number): Promise<contracts.DestroySandboxResponse> {
    return unaryCall("SandboxService.DestroySandbox", this.client.destroySandbox.bind(this.client), req, timeoutMs);
  }

  close(): void {
    this.client.close();
  }
}
