import type { ChatMessageIn } from "./openai-types.js";

/** What the gateway remembers of one token-in/token-out session. */
export interface Session {
  id: string;
  /** Every message so far, including the assistant messages the gateway generated. */
  messages: ChatMessageIn[];
  /** Exact token stream: rendered prompts plus sampled ids, never re-tokenised. */
  tokenIds: number[];
  /** Tools as rendered; a change invalidates the stored prefix (tools live in the system prompt). */
  toolsJson: string;
  lastUsedMs: number;
}

export interface SessionStoreOptions {
  maxSessions: number;
  idleTtlMs: number;
  now?: () => number;
  /** Called with each session dropped for idleness or capacity (not on delete). */
  onEvict?: (session: Session, reason: "idle" | "capacity") => void;
}

/**
 * Bounded session memory: idle sessions expire, and past `maxSessions` the least
 * recently used one is evicted. A Map keeps insertion order, so re-inserting on use
 * makes its first key the LRU entry.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly now: () => number;
  constructor(private readonly options: SessionStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.sessions.size;
  }

  /** The live session, or undefined if absent or expired; does not mark it used. */
  get(id: string): Session | undefined {
    const s = this.sessions.get(id);
    if (s === undefined) return undefined;
    if (this.now() - s.lastUsedMs > this.options.idleTtlMs) {
      this.sessions.delete(id);
      this.options.onEvict?.(s, "idle");
      return undefined;
    }
    return s;
  }

  put(session: Session): void {
    session.lastUsedMs = this.now();
    this.sessions.delete(session.id);
    this.sessions.set(session.id, session);
    this.sweep();
  }

  delete(id: string): boolean {
    return this.sessions.delete(id);
  }

  /** Drops expired sessions, then LRU ones beyond capacity. */
  sweep(): void {
    const now = this.now();
    for (const s of this.sessions.values()) {
      if (now - s.lastUsedMs > this.options.idleTtlMs) {
        this.sessions.delete(s.id);
        this.options.onEvict?.(s, "idle");
      }
    }
    while (this.sessions.size > this.options.maxSessions) {
      const oldest = this.sessions.values().next().value as Session;
      this.sessions.delete(oldest.id);
      this.options.onEvict?.(oldest, "capacity");
    }
  }

  clear(): void {
    this.sessions.clear();
  }
}
