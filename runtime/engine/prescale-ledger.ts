/**
 * The track record of pre-scaling. Each decision may ask for replicas above what the current demand
 * needs because the forecast expects a rise; `leadSteps` later, the demand seen since tells how many of
 * them were needed. The needed share, over recent pre-scales, sets how far the next pre-scale is
 * trusted: a forecast that keeps expecting rises that do not come (a seasonal model expecting
 * yesterday's random burst again) is scaled back, so it cannot keep costing more than it is worth.
 * Forecasts whose rises come keep their pre-scaling in full.
 */
import { StateArena } from './state-arena.js';

/** Pre-scales settled before the record is used (until then every pre-scale is trusted). */
const MIN_SETTLED = 10;
/**
 * Weight kept by the record per judged pre-scale: a half-life of about 138 pre-scales. On the policy
 * suite 0.99 and 0.995 differ by under 1% of cost, and 0.98 already loses the goal on one calm trace (a
 * rare needed pre-scale scaled back), so the slower one is kept.
 */
const DECAY = 0.995;

export class PrescaleLedger {
  /** Per pending decision (a ring of `leadSteps`): the replicas current demand needed then, ... */
  private readonly base: Int32Array;
  /** ... the replicas asked above that, ... */
  private readonly extra: Int32Array;
  /** ... and the highest need seen since. */
  private readonly peak: Int32Array;
  private next = 0;
  private needed = 0;
  private asked = 0;
  private settled = 0;

  /**
   * @param leadSteps steps from a decision to the replicas it adds serving: the window a pre-scale is judged on.
   * @param breakEven needed share below which pre-scaling is scaled back (0: always trusted in full).
   */
  constructor(
    leadSteps: number,
    private readonly breakEven: number,
    arena: StateArena = StateArena.standalone,
  ) {
    const slots = Math.max(1, leadSteps);
    this.base = arena.int32(slots);
    this.extra = arena.int32(slots);
    this.peak = arena.int32(slots);
  }

  get bytes(): number {
    return this.base.byteLength * 3 + 32;
  }

  /**
   * Takes the replicas the newest demand needs (NaN for a broken point: pre-scales whose window holds one
   * are not judged) and settles the pre-scale made `leadSteps` steps ago. Call once per step, before
   * {@link record}.
   */
  observe(need: number): void {
    const valid = Number.isFinite(need);
    for (let i = 0; i < this.extra.length; i++) {
      if (!valid) this.extra[i] = 0;
      else if (need > (this.peak[i] ?? 0)) this.peak[i] = need;
    }
    const extra = this.extra[this.next] ?? 0;
    if (extra <= 0) return;
    const used = Math.min(extra, Math.max(0, (this.peak[this.next] ?? 0) - (this.base[this.next] ?? 0)));
    this.needed = DECAY * this.needed + used;
    this.asked = DECAY * this.asked + extra;
    this.settled++;
  }

  /** Records this step's pre-scale: `extra` replicas asked above the `base` current demand needs. */
  record(base: number, extra: number): void {
    this.base[this.next] = base;
    this.extra[this.next] = extra;
    this.peak[this.next] = 0;
    this.next = (this.next + 1) % this.extra.length;
  }

  /** Share of recent pre-scaled replicas that were needed; NaN until enough pre-scales have settled. */
  get neededShare(): number {
    return this.settled >= MIN_SETTLED && this.asked > 0 ? this.needed / this.asked : Number.NaN;
  }

  /** Factor (0..1] on the next pre-scale: min(1, needed share ÷ break-even), 1 without a record. */
  get trust(): number {
    const share = this.neededShare;
    if (this.breakEven <= 0 || !Number.isFinite(share)) return 1;
    return Math.min(1, share / this.breakEven);
  }
}
