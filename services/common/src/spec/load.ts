import { readFileSync } from "node:fs";
import { parseDocument } from "yaml";
import type { ZodError } from "zod";
import { SpecError } from "../errors.js";
import { experimentManifestSchema, type ExperimentManifest } from "./schema.js";

/** Parses and validates a manifest; every problem names its field path. */
export function parseExperimentManifest(text: string, source = "<inline>"): ExperimentManifest {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new SpecError(
      source,
      doc.errors.map((e) => `YAML syntax at line ${e.linePos?.[0]?.line ?? "?"}: ${e.message.split("\n")[0]}`),
    );
  }
  const raw: unknown = doc.toJS();
  const result = experimentManifestSchema.safeParse(raw);
  if (!result.success) throw new SpecError(source, formatIssues(result.error));
  return result.data;
}

export function loadExperimentManifest(path: string): ExperimentManifest {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new SpecError(path, [`cannot read file: ${(cause as Error).message}`], { cause });
  }
  return parseExperimentManifest(text, path);
}

function formatIssues(error: ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join(".") : "(root)";
    if (issue.code === "unrecognized_keys") return `${path}: unknown field(s) ${issue.keys.join(", ")}`;
    return `${path}: ${issue.message}`;
  });
}
