/** What the progress line shows; all pure data so rendering is testable. */
export interface ProgressState {
  step: number;
  totalSteps: number;
  /** Mean reward of the latest finished step, if any. */
  reward: number | undefined;
  policyVersion: number;
  /** Trajectories per second over the recent window, if known. */
  trajPerSecond: number | undefined;
}

const FULL = "█";
const EMPTY = "░";

export function renderBar(step: number, total: number, width = 20): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, step / total)) : 0;
  const filled = Math.round(frac * width);
  return FULL.repeat(filled) + EMPTY.repeat(width - filled);
}

/** `step 12/40 |█████░░░░| reward 0.43  v12  traj/s 35.2` */
export function renderProgress(s: ProgressState, barWidth = 20): string {
  const reward = s.reward === undefined || !Number.isFinite(s.reward) ? "-" : s.reward.toFixed(2);
  const rate = s.trajPerSecond === undefined ? "-" : s.trajPerSecond.toFixed(1);
  return `step ${s.step}/${s.totalSteps} |${renderBar(s.step, s.totalSteps, barWidth)}| reward ${reward}  v${s.policyVersion}  traj/s ${rate}`;
}

export interface RateSample {
  timeMs: number;
  count: number;
}

/**
 * Rate of a monotonically increasing counter over the samples inside `windowMs` of the
 * newest one. Undefined until two samples span some time.
 */
export function rateOver(samples: readonly RateSample[], windowMs: number): number | undefined {
  const newest = samples[samples.length - 1];
  if (newest === undefined) return undefined;
  const inWindow = samples.filter((s) => newest.timeMs - s.timeMs <= windowMs);
  const oldest = inWindow[0];
  if (oldest === undefined || newest.timeMs <= oldest.timeMs) return undefined;
  return ((newest.count - oldest.count) * 1000) / (newest.timeMs - oldest.timeMs);
}

/** Keeps a bounded window of samples for rateOver. */
export class RateMeter {
  private readonly samples: RateSample[] = [];
  constructor(private readonly windowMs = 10_000) {}

  add(timeMs: number, count: number): void {
    this.samples.push({ timeMs, count });
    while (this.samples.length > 2 && timeMs - (this.samples[0]?.timeMs ?? timeMs) > this.windowMs)
      this.samples.shift();
  }

  rate(): number | undefined {
    return rateOver(this.samples, this.windowMs);
  }
}

export interface ProgressWriter {
  update(state: ProgressState): void;
  /** Prints a line (an event) without corrupting the progress line. */
  note(line: string): void;
  finish(): void;
}

/**
 * On a TTY the line is redrawn in place with \r; otherwise (logs, CI) one line per new step
 * so the output stays readable.
 */
export function createProgressWriter(stream: NodeJS.WriteStream = process.stderr): ProgressWriter {
  const tty = stream.isTTY === true;
  let lastLine = "";
  let lastStep = -1;
  return {
    update(state) {
      const line = renderProgress(state);
      if (tty) {
        if (line !== lastLine) stream.write(`\r\x1b[2K${line}`);
      } else if (state.step !== lastStep) {
        stream.write(line + "\n");
      }
      lastLine = line;
      lastStep = state.step;
    },
    note(line) {
      if (tty && lastLine) stream.write(`\r\x1b[2K${line}\n${lastLine}`);
      else stream.write(line + "\n");
    },
    finish() {
      if (tty && lastLine) stream.write("\n");
      lastLine = "";
    },
  };
}
