import { contracts, insecure, unaryCall, CLIENT_OPTIONS } from "@sluice/common";

/** LearnerService.GetStatus with a per-call deadline. */
export class LearnerStatusClient {
  private readonly client: contracts.LearnerServiceClient;
  constructor(address: string) {
    this.client = new contracts.LearnerServiceClient(address, insecure(), CLIENT_OPTIONS);
  }

  get(timeoutMs: number): Promise<contracts.GetStatusResponse> {
    return unaryCall("LearnerService.GetStatus", this.client.getStatus.bind(this.client), {}, timeoutMs);
  }

  close(): void {
    this.client.close();
  }
}
