import type { MaterializedEnv } from "./npm-env.js";

/** Where an environment's dependencies appear in a sandbox (Node walks up to /node_modules). */
export const SANDBOX_NODE_MODULES = "/node_modules";

/**
 * The create() options that make an environment's dependencies visible read-only: the
 * workspace holds only the repository, so an agent's patch can never include them and an
 * episode's copy stays small.
 */
export function envSandboxOptions(menv: MaterializedEnv): {
  mounts: Array<{ hostPath: string; sandboxPath: string }>;
  pathPrepend: string[];
} {
  return {
    mounts: [{ hostPath: menv.nodeModulesDir, sandboxPath: SANDBOX_NODE_MODULES }],
    pathPrepend: [`${SANDBOX_NODE_MODULES}/.bin`],
  };
}
