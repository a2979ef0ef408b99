import { SpecError, loadExperimentManifest, type ExperimentManifest } from "@sluice/common";

export interface ManifestOverrides {
  steps?: number;
  seed?: number;
  /** `--max-restarts`: replaces spec.restart.maxRestarts. */
  maxRestarts?: number;
}

/** Loads and validates a manifest (throws SpecError), then applies CLI overrides. */
export function loadManifest(file: string, overrides: ManifestOverrides = {}): ExperimentManifest {
  const manifest = loadExperimentManifest(file);
  if (overrides.steps !== undefined) manifest.spec.steps = overrides.steps;
  if (overrides.seed !== undefined) manifest.spec.seed = overrides.seed;
  if (overrides.maxRestarts !== undefined) {
    // The schema's rule, for the value the flag brings: a restarted learner needs a checkpoint.
    if (overrides.maxRestarts > 0 && manifest.spec.learner.checkpointEvery < 1) {
      throw new SpecError(file, [
        `--max-restarts ${overrides.maxRestarts} needs learner.checkpointEvery >= 1 (a restarted learner resumes from a checkpoint)`,
      ]);
    }
    manifest.spec.restart.maxRestarts = overrides.maxRestarts;
  }
  return manifest;
}
