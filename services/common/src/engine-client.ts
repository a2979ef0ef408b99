import { Client } from "@grpc/grpc-js";
import {
  EngineServiceClient,
  type ComputeLogprobsRequest,
  type ComputeLogprobsResponse,
  type ForwardBackwardRequest,
  type ForwardBackwardResponse,
  type GetModelInfoResponse,
  type LoadWeightsResponse,
  type OptimStepRequest,
  type OptimStepResponse,
  type RenderChatRequest,
  type RenderChatResponse,
  type SampleRequest,
  type SampleResponse,
  type SaveWeightsResponse,
  type DetokenizeResponse,
  type WeightsFormat,
} from "./gen/sluice/v1/engine.js";
import { CLIENT_OPTIONS, insecure, unaryCall } from "./grpc/client.js";

/** Per-call deadlines for the engine; training and sampling can be slow on CPU. */
export interface EngineTimeouts {
  fastMs: number;
  sampleMs: number;
  trainMs: number;
}

const DEFAULT_TIMEOUTS: EngineTimeouts = { fastMs: 10_000, sampleMs: 120_000, trainMs: 600_000 };

/** The seam between orchestration and tensors; a fake implements it in tests. */
export interface EngineApi {
  modelInfo(model: string): Promise<GetModelInfoResponse>;
  renderChat(req: RenderChatRequest): Promise<RenderChatResponse>;
  detokenize(model: string, tokenIds: Uint8Array, skipSpecialTokens: boolean): Promise<DetokenizeResponse>;
  sample(req: SampleRequest): Promise<SampleResponse>;
  computeLogprobs(req: ComputeLogprobsRequest): Promise<ComputeLogprobsResponse>;
  forwardBackward(req: ForwardBackwardRequest): Promise<ForwardBackwardResponse>;
  optimStep(req: OptimStepRequest): Promise<OptimStepResponse>;
  /** `format`: unset = a resumable checkpoint; PEFT_ADAPTER / MERGED for inference servers. */
  saveWeights(
    model: string,
    path: string,
    includeOptimizer: boolean,
    format?: WeightsFormat,
  ): Promise<SaveWeightsResponse>;
  loadWeights(model: string, path: string, includeOptimizer: boolean): Promise<LoadWeightsResponse>;
  close(): void;
}

export class GrpcEngineClient implements EngineApi {
  private readonly client: EngineServiceClient;
  private readonly t: EngineTimeouts;
  constructor(address: string, timeouts: Partial<EngineTimeouts> = {}) {
    this.client = new EngineServiceClient(address, insecure(), CLIENT_OPTIONS);
    this.t = { ...DEFAULT_TIMEOUTS, ...timeouts };
  }
  modelInfo(model: string): Promise<GetModelInfoResponse> {
    return unaryCall("Engine.GetModelInfo", this.client.getModelInfo.bind(this.client), { model }, this.t.fastMs);
  }
  renderChat(req: RenderChatRequest): Promise<RenderChatResponse> {
    return unaryCall("Engine.RenderChat", this.client.renderChat.bind(this.client), req, this.t.fastMs);
  }
  detokenize(model: string, tokenIds: Uint8Array, skipSpecialTokens: boolean): Promise<DetokenizeResponse> {
    return unaryCall(
      "Engine.Detokenize",
      this.client.detokenize.bind(this.client),
      { model, tokenIds, skipSpecialTokens },
      this.t.fastMs,
    );
  }
  sample(req: SampleRequest): Promise<SampleResponse> {
    return unaryCall("Engine.Sample", this.client.sample.bind(this.client), req, this.t.sampleMs);
  }
  computeLogprobs(req: ComputeLogprobsRequest): Promise<ComputeLogprobsResponse> {
    return unaryCall("Engine.ComputeLogprobs", this.client.computeLogprobs.bind(this.client), req, this.t.trainMs);
  }
  forwardBackward(req: ForwardBackwardRequest): Promise<ForwardBackwardResponse> {
    return unaryCall("Engine.ForwardBackward", this.client.forwardBackward.bind(this.client), req, this.t.trainMs);
  }
  optimStep(req: OptimStepRequest): Promise<OptimStepResponse> {
    return unaryCall("Engine.OptimStep", this.client.optimStep.bind(this.client), req, this.t.trainMs);
  }
  saveWeights(
    model: string,
    path: string,
    includeOptimizer: boolean,
    format?: WeightsFormat,
  ): Promise<SaveWeightsResponse> {
    return unaryCall(
      "Engine.SaveWeights",
      this.client.saveWeights.bind(this.client),
      { model, path, includeOptimizer, ...(format !== undefined ? { format } : {}) },
      this.t.trainMs,
    );
  }
  loadWeights(model: string, path: string, includeOptimizer: boolean): Promise<LoadWeightsResponse> {
    return unaryCall(
      "Engine.LoadWeights",
      this.client.loadWeights.bind(this.client),
      { model, path, includeOptimizer },
      this.t.trainMs,
    );
  }
  close(): void {
    (this.client as Client).close();
  }
}
