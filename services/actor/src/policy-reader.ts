import { contracts, KV_KEYS, ValidationError, type KV } from "@sluice/common";

/** Reads the newest published policy (KV key `policy`); undefined until the learner publishes v0. */
export async function readPolicy(kv: KV): Promise<contracts.PolicyRecord | undefined> {
  const entry = await kv.get(KV_KEYS.policy);
  if (!entry || entry.operation !== "PUT") return undefined;
  try {
    return contracts.PolicyRecord.decode(entry.value);
  } catch (cause) {
    throw new ValidationError(`KV key ${KV_KEYS.policy}: not a PolicyRecord protobuf`, { cause });
  }
}
