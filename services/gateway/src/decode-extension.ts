import { unpackFloat32, unpackInt32 } from "@sluice/common";
import type { SluiceResponseExtension } from "./openai-types.js";

/** The response extension with its packed arrays decoded (for actors and tests). */
export interface DecodedSluiceExtension {
  sessionId: string | null;
  policyVersion: number;
  observationTokenIds: number[];
  actionTokenIds: number[];
  actionLogprobs: number[];
  actionPolicyVersions: number[];
  prefixOk: boolean;
}

export function decodeSluiceExtension(ext: SluiceResponseExtension): DecodedSluiceExtension {
  const bytes = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, "base64"));
  return {
    sessionId: ext.session_id,
    policyVersion: ext.policy_version,
    observationTokenIds: unpackInt32(bytes(ext.observation_token_ids_b64), "observation_token_ids_b64"),
    actionTokenIds: unpackInt32(bytes(ext.action_token_ids_b64), "action_token_ids_b64"),
    actionLogprobs: unpackFloat32(bytes(ext.action_logprobs_b64), "action_logprobs_b64"),
    actionPolicyVersions: unpackInt32(bytes(ext.action_policy_versions_b64), "action_policy_versions_b64"),
    prefixOk: ext.prefix_ok,
  };
}
