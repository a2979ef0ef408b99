import { rewardSchema } from "@sluice/common";

// The ONI schema is part of the experiment spec (services/common/src/spec/oni-schema.ts,
// `reward.oni`); re-exported here so ONI's building blocks keep reading it from one place.
export const oniSchema = rewardSchema.shape.oni.unwrap();

export type {
  OniConfig,
  OniJudgeConfig as JudgeConfig,
  OniParserConfig as ParserConfig,
  OniAnnotatorConfig as AnnotatorConfig,
  OniScheduleConfig as ScheduleConfig,
  OniRankingConfig as RankingConfig,
} from "@sluice/common";
