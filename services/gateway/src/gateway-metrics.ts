import { counter, gauge, histogram, type ServiceContext } from "@sluice/common";

type Registry = ServiceContext["registry"];

/** Prometheus instruments of the gateway, registered on the service's registry. */
export interface GatewayMetrics {
  requests: ReturnType<typeof counter>;
  latency: ReturnType<typeof histogram>;
  completionTokens: ReturnType<typeof counter>;
  promptTokens: ReturnType<typeof counter>;
  sessionsActive: ReturnType<typeof gauge>;
  sessionsEvicted: ReturnType<typeof counter>;
  prefixMismatches: ReturnType<typeof counter>;
  toolCallParseErrors: ReturnType<typeof counter>;
  engineErrors: ReturnType<typeof counter>;
  policyVersion: ReturnType<typeof gauge>;
  resumedGenerations: ReturnType<typeof counter>;
}

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  return {
    requests: counter(registry, "sluice_gateway_requests_total", "HTTP requests by route and status", [
      "route",
      "status",
    ]),
    latency: histogram(
      registry,
      "sluice_gateway_request_latency_seconds",
      "HTTP request latency by route",
      [0.005, 0.02, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
      ["route"],
    ),
    completionTokens: counter(registry, "sluice_gateway_completion_tokens_total", "Tokens generated"),
    promptTokens: counter(registry, "sluice_gateway_prompt_tokens_total", "Prompt tokens sent to the engine"),
    sessionsActive: gauge(registry, "sluice_gateway_sessions_active", "Token-in/token-out sessions held"),
    sessionsEvicted: counter(
      registry,
      "sluice_gateway_sessions_evicted_total",
      "Sessions dropped by idle TTL or capacity",
      ["reason"],
    ),
    prefixMismatches: counter(
      registry,
      "sluice_gateway_prefix_mismatches_total",
      "Session requests whose messages did not extend the stored prefix (fully re-rendered)",
    ),
    toolCallParseErrors: counter(
      registry,
      "sluice_gateway_tool_call_parse_errors_total",
      "Malformed <tool_call> blocks",
    ),
    engineErrors: counter(registry, "sluice_gateway_engine_errors_total", "Failed engine calls", ["method"]),
    policyVersion: gauge(
      registry,
      "sluice_gateway_policy_version",
      "Policy version reported by the last engine sample",
    ),
    resumedGenerations: counter(
      registry,
      "sluice_gateway_resumed_generations_total",
      "Interruptible generations stopped by a weight update and resumed under the new weights",
    ),
  };
}
