import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packFloat32, type contracts, type EngineApi } from "@sluice/common";

const FAKE_WEIGHTS = "fake-weights.json";

/**
 * An in-memory EngineApi that records training calls. `blockForwardBackward()` returns
 * a release function; until it is called every forwardBackward waits.
 */
export class FakeEngine implements EngineApi {
  version: number;
  readonly forwardBackwardCalls: contracts.ForwardBackwardRequest[] = [];
  readonly optimStepCalls: contracts.OptimStepRequest[] = [];
  readonly saveWeightsCalls: { model: string; path: string; includeOptimizer: boolean }[] = [];
  private gate: Promise<void> | undefined;
  /** Resolves when a forwardBackward call is waiting on the gate. */
  private onBlocked: (() => void) | undefined;
  failOptimStep: Error | undefined;

  constructor(
    initialVersion = 0,
    readonly lossPerCall = 0.5,
  ) {
    this.version = initialVersion;
  }

  blockForwardBackward(): { release: () => void; blocked: Promise<void> } {
    let release!: () => void;
    this.gate = new Promise<void>((r) => (release = r));
    const blocked = new Promise<void>((r) => (this.onBlocked = r));
    return {
      release: () => {
        this.gate = undefined;
        release();
      },
      blocked,
    };
  }

  async modelInfo(model: string): Promise<contracts.GetModelInfoResponse> {
    return {
      model,
      vocabSize: 256,
      policyVersion: this.version,
      eosTokenIds: [0],
      device: "cpu",
      parameterCount: 1,
      optimizerSteps: this.optimStepCalls.length,
    };
  }
  async forwardBackward(req: contracts.ForwardBackwardRequest): Promise<contracts.ForwardBackwardResponse> {
    this.forwardBackwardCalls.push(req);
    if (this.gate) {
      this.onBlocked?.();
      await this.gate;
    }
    let lossTokens = 0;
    for (const s of req.sequences) for (const b of s.lossMask) lossTokens += b;
    return {
      loss: this.lossPerCall * (req.sequences.length / Math.max(1, req.totalSequencesInStep)),
      lossTokens,
      clipFraction: 0,
      ratioMean: 1,
      entropy: 0,
      policyVersion: this.version,
      klMean: 0,
      pairAccuracy: 0,
      offPolicyCappedFraction: 0,
    };
  }
  async optimStep(req: contracts.OptimStepRequest): Promise<contracts.OptimStepResponse> {
    this.optimStepCalls.push(req);
    if (this.failOptimStep) throw this.failOptimStep;
    if (!req.keepPolicyVersion) this.version = req.nextPolicyVersion;
    return { policyVersion: this.version, gradNorm: 1, optimizerSteps: this.optimStepCalls.length };
  }
  /** "Weights" are a JSON file with the version, so a restarted learner can load them back. */
  async saveWeights(model: string, path: string, includeOptimizer: boolean): Promise<contracts.SaveWeightsResponse> {
    this.saveWeightsCalls.push({ model, path, includeOptimizer });
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, FAKE_WEIGHTS), JSON.stringify({ policyVersion: this.version }));
    return { path, policyVersion: this.version, bytes: 0 };
  }
  readonly loadWeightsCalls: string[] = [];
  async loadWeights(model: string, path: string): Promise<contracts.LoadWeightsResponse> {
    this.loadWeightsCalls.push(path);
    const saved = JSON.parse(readFileSync(join(path, FAKE_WEIGHTS), "utf8")) as { policyVersion: number };
    this.version = saved.policyVersion;
    return { policyVersion: this.version };
  }
  async renderChat(): Promise<contracts.RenderChatResponse> {
    throw new Error("FakeEngine.renderChat is not implemented");
  }
  async detokenize(): Promise<contracts.DetokenizeResponse> {
    throw new Error("FakeEngine.detokenize is not implemented");
  }
  async sample(): Promise<contracts.SampleResponse> {
    throw new Error("FakeEngine.sample is not implemented");
  }
  readonly computeLogprobsCalls: contracts.ComputeLogprobsRequest[] = [];
  /** Proximal logprobs: −0.5 for every target of every sequence. */
  async computeLogprobs(req: contracts.ComputeLogprobsRequest): Promise<contracts.ComputeLogprobsResponse> {
    this.computeLogprobsCalls.push(req);
    return {
      logprobs: req.sequences.map((ids) => packFloat32(new Array<number>(ids.byteLength / 4 - 1).fill(-0.5))),
      policyVersion: this.version,
    };
  }
  close(): void {}
}
