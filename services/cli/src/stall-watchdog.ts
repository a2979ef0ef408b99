/**
 * Tracks whether the learner step advances. Pure (time is passed in) so it is testable;
 * the CLI aborts the run when `stalledFor` exceeds spec.watchdog.stallTimeoutMs.
 */
export class StallWatchdog {
  private lastStep = -1;
  private lastChangeMs: number;

  constructor(
    private readonly timeoutMs: number,
    startMs: number,
  ) {
    this.lastChangeMs = startMs;
  }

  /** Records the step seen at `nowMs`; returns an error message when stalled. */
  observe(step: number, nowMs: number): string | undefined {
    if (step !== this.lastStep) {
      this.lastStep = step;
      this.lastChangeMs = nowMs;
      return undefined;
    }
    const stalled = nowMs - this.lastChangeMs;
    if (stalled >= this.timeoutMs) {
      return `learner step stuck at ${step} for ${stalled} ms (watchdog.stallTimeoutMs ${this.timeoutMs}); see the logs/ of the run`;
    }
    return undefined;
  }
}
