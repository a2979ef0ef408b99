import { Client } from "@grpc/grpc-js";
import {
  RewardModelServiceClient,
  type CreateRewardModelRequest,
  type CreateRewardModelResponse,
  type GetRewardModelInfoResponse,
  type LoadRewardModelResponse,
  type SaveRewardModelResponse,
  type ScoreRewardModelResponse,
  type TrainRewardModelRequest,
  type TrainRewardModelResponse,
} from "./gen/sluice/v1/reward_model.js";
import { CLIENT_OPTIONS, insecure, unaryCall } from "./grpc/client.js";

/** Per-call deadlines of the engine's RewardModelService. */
export interface RewardModelTimeouts {
  /** Info, save, load. */
  fastMs: number;
  /** Create (builds or loads a model). */
  createMs: number;
  /** One training step. */
  trainMs: number;
  /** One scoring request. */
  scoreMs: number;
}

const DEFAULT_TIMEOUTS: RewardModelTimeouts = { fastMs: 10_000, createMs: 60_000, trainMs: 120_000, scoreMs: 30_000 };

/** Reward models hosted by the engine (proto/sluice/v1/reward_model.proto); a fake implements it in tests. */
export interface RewardModelApi {
  create(
    req: Partial<CreateRewardModelRequest> & Pick<CreateRewardModelRequest, "name" | "kind">,
  ): Promise<CreateRewardModelResponse>;
  train(
    req: Partial<TrainRewardModelRequest> & Pick<TrainRewardModelRequest, "name">,
  ): Promise<TrainRewardModelResponse>;
  score(name: string, texts: readonly string[]): Promise<ScoreRewardModelResponse>;
  info(name: string): Promise<GetRewardModelInfoResponse>;
  save(name: string, path: string): Promise<SaveRewardModelResponse>;
  load(name: string, path: string): Promise<LoadRewardModelResponse>;
  close(): void;
}

/** gRPC client of RewardModelService; every call has a deadline and fails with RpcError. */
export class GrpcRewardModelClient implements RewardModelApi {
  private readonly client: RewardModelServiceClient;
  private readonly t: RewardModelTimeouts;
  constructor(address: string, timeouts: Partial<RewardModelTimeouts> = {}) {
    this.client = new RewardModelServiceClient(address, insecure(), CLIENT_OPTIONS);
    this.t = { ...DEFAULT_TIMEOUTS, ...timeouts };
  }
  create(
    req: Partial<CreateRewardModelRequest> & Pick<CreateRewardModelRequest, "name" | "kind">,
  ): Promise<CreateRewardModelResponse> {
    const full: CreateRewardModelRequest = {
      tinyJson: "",
      loadPath: "",
      seed: 0,
      maxTokens: 0,
      replace: false,
      ...req,
    };
    return unaryCall("RewardModel.Create", this.client.createRewardModel.bind(this.client), full, this.t.createMs);
  }
  train(
    req: Partial<TrainRewardModelRequest> & Pick<TrainRewardModelRequest, "name">,
  ): Promise<TrainRewardModelResponse> {
    const full: TrainRewardModelRequest = { examples: [], pairs: [], ...req };
    return unaryCall("RewardModel.Train", this.client.trainRewardModel.bind(this.client), full, this.t.trainMs);
  }
  score(name: string, texts: readonly string[]): Promise<ScoreRewardModelResponse> {
    return unaryCall(
      "RewardModel.Score",
      this.client.scoreRewardModel.bind(this.client),
      { name, texts: [...texts] },
      this.t.scoreMs,
    );
  }
  info(name: string): Promise<GetRewardModelInfoResponse> {
    return unaryCall("RewardModel.GetInfo", this.client.getRewardModelInfo.bind(this.client), { name }, this.t.fastMs);
  }
  save(name: string, path: string): Promise<SaveRewardModelResponse> {
    return unaryCall("RewardModel.Save", this.client.saveRewardModel.bind(this.client), { name, path }, this.t.trainMs);
  }
  load(name: string, path: string): Promise<LoadRewardModelResponse> {
    return unaryCall("RewardModel.Load", this.client.loadRewardModel.bind(this.client), { name, path }, this.t.trainMs);
  }
  close(): void {
    (this.client as Client).close();
  }
}
