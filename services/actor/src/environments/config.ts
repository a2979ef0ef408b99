import type { z } from "zod";
import { EnvironmentConfigError } from "../errors.js";

/** Parses `spec.environment.config` with a zod schema; issues name `environment.config.<field>`. */
export function parseEnvironmentConfig<S extends z.ZodType>(environment: string, schema: S, raw: unknown): z.infer<S> {
  const result = schema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.flatMap((issue) => {
    const base = ["environment", "config", ...issue.path.map(String)];
    // A misspelt key reads better as its own path than as "unrecognized key" on the parent.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => `${[...base, key].join(".")}: unknown field`);
    }
    return [`${base.join(".")}: ${issue.message}`];
  });
  throw new EnvironmentConfigError(environment, issues);
}
