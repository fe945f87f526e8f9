/**
 * Runs a step over and over: every `intervalMs`, at once again while the step says there is more (it resolves
 * true), and at once when woken — or right after the step in progress, never two at a time. The outbox publisher
 * (woken by requests that wrote events) and the job worker (woken when a slot of a busy queue frees up) run on it.
 */
export class Pacer {
  private readonly step: () => Promise<boolean>;
  private readonly intervalMs: number;
  private readonly onError: (err: unknown) => void;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private again = false;

  constructor(step: () => Promise<boolean>, intervalMs: number, onError: (err: unknown) => void) {
    this.step = step;
    this.intervalMs = intervalMs;
    this.onError = onError;
  }

  start(): void {
    this.stopped = false;
    this.run();
  }

  /** Runs the step now, or right after the one running. Before start and after stop it does nothing. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.run();
  }

  /** No further steps; resolves once the one running (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private run(): void {
    if (this.stopped) return;
    this.timer = null;
    this.again = false;
    this.running = this.step()
      .catch((err: unknown) => {
        this.onError(err);
        return false;
      })
      .then((more) => {
        this.running = null;
        if (!this.stopped) this.timer = setTimeout(() => this.run(), more || this.again ? 0 : this.intervalMs);
      });
  }
}
