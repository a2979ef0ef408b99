import { errorMessage, withDeadline, type contracts, type PrmConfig } from "@sluice/common";
import { stepAnnotationText } from "../oni/annotation-key.js";
import { createAnswerParser, type AnswerParser } from "../oni/answer-parser.js";
import { JudgeClient, type RequestObserver } from "../oni/judge-client.js";
import type { ChannelScorer } from "./channel.js";

// Generative-PRM route only: an OpenAI-compatible judge scores each step. A discriminative
// scorer hosted by the engine (per-step or per-token PRM logits) is out of scope for now.

export const PRM_CHANNEL = "prm";

/** Per-turn PRM scores of one trajectory and what went wrong getting them. */
export interface PrmScores {
  perTurn: number[];
  /** Turns whose judge request failed (or missed the deadline): default score. */
  failed: number;
  /** Turns whose answer had no score in range: default score. */
  unparsed: number;
  /** Why requests failed, when some did. */
  error?: string;
}

/** The judge prompt of one turn: `{task}` → task statement, `{step}` → observation and action. */
export function prmPrompt(template: string, task: string, turn: contracts.Turn): string {
  return template.replaceAll("{task}", task).replaceAll("{step}", stepAnnotationText(turn));
}

/** Score parser: the configured pattern, last match; outside scoreRange counts as unparsed. */
export function createPrmParser(config: PrmConfig): (answer: string) => number | undefined {
  const parse: AnswerParser = createAnswerParser({
    pattern: config.parser.pattern,
    flags: "",
    match: "last",
    defaultLabel: config.parser.defaultScore,
  });
  const [lo, hi] = config.scoreRange;
  return (answer) => {
    const r = parse(answer);
    return r.parsed && r.label >= lo && r.label <= hi ? r.label : undefined;
  };
}

/** Turns answers (undefined = request failed) into per-turn scores with defaults, counted. */
export function prmScoresFromAnswers(
  answers: readonly (string | undefined)[],
  parse: (answer: string) => number | undefined,
  defaultScore: number,
): PrmScores {
  const out: PrmScores = { perTurn: [], failed: 0, unparsed: 0 };
  for (const answer of answers) {
    if (answer === undefined) {
      out.failed++;
      out.perTurn.push(defaultScore);
      continue;
    }
    const score = parse(answer);
    if (score === undefined) out.unparsed++;
    out.perTurn.push(score ?? defaultScore);
  }
  return out;
}

/** The `prm` channel value: Σ_t r_prm,t; gate_passed false when any judge request failed. */
export function prmChannelValue(scores: PrmScores, config: PrmConfig): contracts.RewardChannel {
  return {
    name: PRM_CHANNEL,
    value: scores.perTurn.reduce((a, b) => a + b, 0),
    perTurn: scores.perTurn,
    producerVersion: config.judge.model,
    gatePassed: scores.failed === 0,
    weight: config.weight,
  };
}

/**
 * The synchronous face of the channel (gRPC without a judge, composition checks): every turn
 * gets the default score and the channel does not count. The pipeline replaces it with the
 * judge's scores from PrmJudge.
 */
export function prmChannel(config: PrmConfig): ChannelScorer {
  return {
    name: PRM_CHANNEL,
    score: (t) => ({
      ...prmChannelValue(
        { perTurn: t.turns.map(() => config.parser.defaultScore), failed: t.turns.length, unparsed: 0 },
        config,
      ),
      gatePassed: false,
    }),
  };
}

/** Asks the judge for every turn of a trajectory in one batch, under `batchDeadlineMs`. */
export class PrmJudge {
  private readonly client: JudgeClient;
  private readonly parse: (answer: string) => number | undefined;

  constructor(
    private readonly config: PrmConfig,
    onRequest?: RequestObserver,
  ) {
    const j = config.judge;
    this.client = new JudgeClient(
      {
        baseUrl: j.baseUrl,
        api: j.api,
        model: j.model,
        temperature: j.temperature,
        maxTokens: j.maxTokens,
        systemPrompt: "",
        prompt: "{text}", // prompts are rendered here with {task} / {step}
        requestDeadlineMs: j.requestDeadlineMs,
        retries: j.retries,
        backoffMs: j.backoffMs,
        maxBackoffMs: Math.max(j.backoffMs, j.batchDeadlineMs),
      },
      onRequest,
    );
    this.parse = createPrmParser(config);
  }

  /** Never throws: failures and the deadline give default scores, counted in `failed`. */
  async score(t: contracts.Trajectory, signal?: AbortSignal): Promise<PrmScores> {
    if (t.turns.length === 0) return { perTurn: [], failed: 0, unparsed: 0 };
    const task = t.metadata[this.config.taskMetadataKey] ?? "";
    const prompts = t.turns.map((turn) => prmPrompt(this.config.judge.prompt, task, turn));
    const stop = new AbortController();
    const combined = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    let answers: (string | undefined)[];
    let error: string | undefined;
    try {
      answers = await withDeadline(
        this.client.annotate(prompts, combined),
        this.config.judge.batchDeadlineMs,
        "PRM judge batch",
      );
    } catch (err) {
      error = errorMessage(err);
      answers = prompts.map(() => undefined);
    } finally {
      stop.abort();
    }
    const scores = prmScoresFromAnswers(answers, this.parse, this.config.parser.defaultScore);
    if (scores.failed > 0) scores.error = error ?? `${scores.failed} of ${prompts.length} judge requests failed`;
    return scores;
  }
}
