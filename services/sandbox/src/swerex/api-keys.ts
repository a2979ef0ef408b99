import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Per-sandbox API keys: the key a SWE-ReX client sends as X-API-Key selects its sandbox, so
 * one server fronts many sandboxes while each RemoteRuntime(host, port, auth_token) sees a
 * plain SWE-ReX server. Keys are looked up by their SHA-256, so the lookup's timing does
 * not depend on how much of a guessed key matches.
 */
export class ApiKeys {
  private readonly sandboxByDigest = new Map<string, string>();
  private readonly digestsBySandbox = new Map<string, Set<string>>();

  /** A new random key for `sandboxId` (a sandbox may hold several). */
  issue(sandboxId: string): string {
    const key = `swx-${randomBytes(24).toString("base64url")}`;
    const digest = digestOf(key);
    this.sandboxByDigest.set(digest, sandboxId);
    let set = this.digestsBySandbox.get(sandboxId);
    if (!set) {
      set = new Set();
      this.digestsBySandbox.set(sandboxId, set);
    }
    set.add(digest);
    return key;
  }

  /** The sandbox a key belongs to, or undefined. */
  sandboxOf(key: string): string | undefined {
    return this.sandboxByDigest.get(digestOf(key));
  }

  /** Forgets every key of a sandbox; returns whether it had any. */
  revoke(sandboxId: string): boolean {
    const set = this.digestsBySandbox.get(sandboxId);
    if (!set) return false;
    for (const d of set) this.sandboxByDigest.delete(d);
    this.digestsBySandbox.delete(sandboxId);
    return true;
  }
}

function digestOf(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Constant-time comparison for the admin key. */
export function sameKey(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}
