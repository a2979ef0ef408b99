import { loadExperimentManifest, type ExperimentManifest } from "@sluice/common";

export interface ManifestOverrides {
  steps?: number;
  seed?: number;
}

/** Loads and validates a manifest (throws SpecError), then applies CLI overrides. */
export function loadManifest(file: string, overrides: ManifestOverrides = {}): ExperimentManifest {
  const manifest = loadExperimentManifest(file);
  if (overrides.steps !== undefined) manifest.spec.steps = overrides.steps;
  if (overrides.seed !== undefined) manifest.spec.seed = overrides.seed;
  return manifest;
}
