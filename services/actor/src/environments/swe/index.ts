import type { BoundEnvironment, EnvironmentContext, EnvironmentDefinition } from "../../environment.js";
import { EnvironmentConfigError } from "../../errors.js";
import { parseSweConfig, SWE_ENVIRONMENT } from "./config.js";
import { SweSandboxClient } from "./sandbox-client.js";
import { SweEnvironment } from "./swe-environment.js";
import { loadSweTasks, SweTaskSource } from "./task-source.js";

export { parseSweConfig, sweConfigSchema, SWE_ENVIRONMENT, type SweConfig } from "./config.js";
export {
  firstUserMessage,
  instanceIdFromPrompt,
  NO_TOOL_CALL_MESSAGE,
  SWE_SYSTEM_PROMPT,
  unparsedToolCallMessage,
} from "./prompts.js";
export { SweSandboxClient } from "./sandbox-client.js";
export {
  SweEnvironment,
  sweToolSchemas,
  type SweDoneReason,
  type SweEnvironmentOptions,
  type SweSandboxApi,
} from "./swe-environment.js";
export { loadSweTasks, resolveTaskPath, SweTaskSource } from "./task-source.js";

/**
 * "swe": SWE-bench-style tasks solved with tools in the sandbox service. Binding loads the
 * task set (so a bad path fails the actor at start) and opens one client to the service.
 */
export const sweEnvironment: EnvironmentDefinition = {
  name: SWE_ENVIRONMENT,
  bind(rawConfig: unknown, seed: number, context: EnvironmentContext = {}): BoundEnvironment {
    const config = parseSweConfig(rawConfig);
    const address = config.sandboxAddress ?? context.sandboxAddress;
    if (address === undefined) {
      throw new EnvironmentConfigError(SWE_ENVIRONMENT, [
        "environment.config.sandboxAddress: no sandbox service address (set it, or run under sluice up, whose runtime config provides services.sandbox)",
      ]);
    }
    const tasks = loadSweTasks(config, context.logger);
    context.logger?.info("swe tasks loaded", { tasks: tasks.length, sandbox: address });
    const sandbox = new SweSandboxClient(address);
    const byId = new Map(tasks.map((t) => [t.instance_id, t]));
    return {
      name: SWE_ENVIRONMENT,
      taskSource: new SweTaskSource(tasks, seed),
      create: (task) => {
        const payload = byId.get(task.id);
        if (!payload) throw new EnvironmentConfigError(SWE_ENVIRONMENT, [`task ${task.id} is not in the loaded set`]);
        return new SweEnvironment({
          task: payload,
          config,
          sandbox,
          ...(context.logger ? { logger: context.logger } : {}),
        });
      },
    };
  },
};
