import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root, resolved from this file's location (services/common/{src,dist}/paths). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const PROTO_ROOT = join(REPO_ROOT, "proto");
