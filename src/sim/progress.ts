/** A one-line progress bar on stderr, shown only when enabled and the run has lasted over a second. */

const WIDTH = 30;
const SHOW_AFTER_MS = 1000;
const REDRAW_MS = 100;

export class ProgressBar {
  private readonly enabled: boolean;
  private shown = false;
  private lastDraw = 0;

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  update(sinceMs: number, fraction: number, messages: number): void {
    if (!this.enabled || sinceMs < SHOW_AFTER_MS || sinceMs - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = sinceMs;
    const f = Math.min(1, Math.max(0, fraction));
    const full = Math.round(f * WIDTH);
    const bar = `${"#".repeat(full)}${"-".repeat(WIDTH - full)}`;
    process.stderr.write(
      `\r[${bar}] ${(f * 100).toFixed(0).padStart(3)}%  ${messages} messages  ${(sinceMs / 1000).toFixed(1)} s`,
    );
    this.shown = true;
  }

  done(): void {
    if (this.shown) process.stderr.write(`\r${" ".repeat(WIDTH + 50)}\r`);
    this.shown = false;
  }
}
