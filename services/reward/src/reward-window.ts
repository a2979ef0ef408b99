import { contracts } from "@sluice/common";

/** What the window keeps of one scored episode. */
interface EpisodeSummary {
  submitted: boolean;
  modified: boolean;
  resolved: boolean;
  /** Per channel: raw value, value after gating (0 when gated off), whether the gate was open. */
  channels: { name: string; raw: number; gated: number; open: boolean }[];
}

export interface ChannelWindowStats {
  meanRaw: number;
  meanGated: number;
  gateOpenRate: number;
}

export interface WindowStats {
  episodes: number;
  /** CR: share of episodes that submitted (G-RA, arXiv 2508.10548). */
  completionRate: number;
  /** MR: share that modified the repository and submitted. */
  modificationRate: number;
  /** RR: share whose outcome level is RESOLVED. */
  resolutionRate: number;
  channels: Map<string, ChannelWindowStats>;
}

/**
 * The last `size` scored episodes, for CR / MR / RR and per-channel means. Infrastructure
 * failures are not the policy's doing and are left out (the learner masks them too).
 */
export class RewardWindow {
  private readonly episodes: EpisodeSummary[] = [];
  constructor(private readonly size: number) {}

  add(s: contracts.ScoredTrajectory): void {
    const o = s.trajectory?.outcome;
    this.episodes.push({
      submitted: o?.submitted ?? false,
      modified: (o?.modified ?? false) && (o?.submitted ?? false),
      resolved: o?.level === contracts.OutcomeLevel.OUTCOME_LEVEL_RESOLVED,
      channels: s.channels.map((c) => ({
        name: c.name,
        raw: c.value,
        gated: c.gatePassed ? c.value : 0,
        open: c.gatePassed,
      })),
    });
    if (this.episodes.length > this.size) this.episodes.splice(0, this.episodes.length - this.size);
  }

  stats(): WindowStats {
    const n = this.episodes.length;
    const share = (f: (e: EpisodeSummary) => boolean): number => (n === 0 ? 0 : this.episodes.filter(f).length / n);
    const acc = new Map<string, { raw: number; gated: number; open: number; n: number }>();
    for (const e of this.episodes) {
      for (const c of e.channels) {
        const a = acc.get(c.name) ?? { raw: 0, gated: 0, open: 0, n: 0 };
        a.raw += c.raw;
        a.gated += c.gated;
        a.open += c.open ? 1 : 0;
        a.n += 1;
        acc.set(c.name, a);
      }
    }
    const channels = new Map<string, ChannelWindowStats>();
    for (const [name, a] of acc) {
      channels.set(name, { meanRaw: a.raw / a.n, meanGated: a.gated / a.n, gateOpenRate: a.open / a.n });
    }
    return {
      episodes: n,
      completionRate: share((e) => e.submitted),
      modificationRate: share((e) => e.modified),
      resolutionRate: share((e) => e.resolved),
      channels,
    };
  }
}
