/**
 * A progress bar on stderr for long runs: `simulate [#########.........]  45%  predictive  4,512/10,320 rows`.
 * Drawn only when stderr is a TTY and the run is long enough to be worth it, and never with `--json`
 * (scripts read stdout, and a pipe or log file must not fill with carriage returns). It redraws at most
 * every {@link REDRAW_MS} and whenever the whole percentage changes, and clears its line when done so
 * the report that follows starts on a clean line.
 */

/** Runs of fewer steps than this finish too fast to need a bar. */
export const PROGRESS_MIN_STEPS = 20_000;
/** Shortest time between two redraws. */
const REDRAW_MS = 100;
const WIDTH = 24;

export interface ProgressOptions {
  /** What is being done, shown before the bar (`simulate`). */
  readonly label: string;
  /** Steps in the whole run. */
  readonly total: number;
  /** Unit of a step for the counter (`rows`). */
  readonly unit: string;
  /** Where frames go (stderr). */
  readonly write: (text: string) => void;
  /** Whether to draw at all: stderr is a TTY, no `--json`, and the run is long. */
  readonly enabled: boolean;
  /** Clock in ms. @default Date.now */
  readonly clock?: () => number;
}

const count = (n: number): string => n.toLocaleString('en-US');

export class ProgressBar {
  private done = 0;
  private lastDraw = -Infinity;
  private lastPercent = -1;
  private phase = '';
  private drawn = false;
  private readonly clock: () => number;

  constructor(private readonly options: ProgressOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /** Whether frames are being drawn. */
  get enabled(): boolean {
    return this.options.enabled && this.options.total > 0;
  }

  /** Names the current part of the run (`predictive`); shown after the bar. */
  setPhase(phase: string): void {
    this.phase = phase;
    this.draw(true);
  }

  /** One more step done. */
  tick(steps = 1): void {
    if (!this.enabled) return;
    this.done = Math.min(this.options.total, this.done + steps);
    this.draw(false);
  }

  /** Clears the bar's line (call once the run is over, also on failure). */
  finish(): void {
    if (this.drawn) this.options.write('\r\u001b[2K');
    this.drawn = false;
  }

  private draw(force: boolean): void {
    if (!this.enabled) return;
    const { total, label, unit } = this.options;
    const percent = Math.floor((100 * this.done) / total);
    const now = this.clock();
    if (!force && percent === this.lastPercent && now - this.lastDraw < REDRAW_MS) return;
    this.lastPercent = percent;
    this.lastDraw = now;
    const filled = Math.round((WIDTH * this.done) / total);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}`;
    const phase = this.phase ? `  ${this.phase}` : '';
    this.options.write(
      `\r\u001b[2K${label} [${bar}] ${String(percent).padStart(3)}%${phase}  ${count(this.done)}/${count(total)} ${unit}`,
    );
    this.drawn = true;
  }
}
