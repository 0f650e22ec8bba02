/**
 * The track record of pre-scaling. Each decision may ask for replicas above what the current demand
 * needs because the forecast expects a rise; `leadSteps` later, the demand seen since tells how many of
 * them were needed. The needed share, over recent pre-scales, sets how far the next pre-scale is
 * trusted: a forecast that keeps expecting rises that do not come (a seasonal model expecting
 * yesterday's random burst again) is scaled back, so it cannot keep costing more than it is worth.
 * Forecasts whose rises come keep their pre-scaling in full.
 *
 * Two records are kept: one for pre-scales of a rise (less than {@link BURST_FACTOR} × the current need
 * on top) and one for bets on a burst (at least that). A series' daily ramps can be well foreseen while
 * its spikes are not, and one pooled share would let the ramps pay for the spikes.
 */
import { StateArena } from './state-arena.js';

/** Pre-scales of a kind judged before its record is used (until then every pre-scale is trusted). */
const MIN_SETTLED = 10;
/**
 * Weight kept by a record per judged pre-scale: a half-life of about 138 pre-scales. On the policy
 * suite 0.99 and 0.995 differ by under 1% of cost, and 0.98 already loses the goal on one calm trace (a
 * rare needed pre-scale scaled back), so the slower one is kept.
 */
const DECAY = 0.995;
/**
 * A pre-scale of at least this many times the current need on top is a bet on a burst. On the policy
 * suite 2, 3 and 4 give the same results within 2% of cost; 1 costs one trace two more violations.
 */
const BURST_FACTOR = 2;

const RISE = 0;
const BURST = 1;

/** Which record judges a pre-scale of `extra` replicas over a need of `base`. */
function kindOf(base: number, extra: number): number {
  return extra >= BURST_FACTOR * Math.max(1, base) ? BURST : RISE;
}

export class PrescaleLedger {
  /** Per pending decision (a ring of `leadSteps`): the replicas current demand needed then, ... */
  private readonly base: Int32Array;
  /** ... the replicas asked above that, ... */
  private readonly extra: Int32Array;
  /** ... and the highest need seen since. */
  private readonly peak: Int32Array;
  /** Per kind (rise, burst): decayed replicas needed and asked, and pre-scales judged. */
  private readonly needed: Float64Array;
  private readonly asked: Float64Array;
  private readonly judged: Int32Array;
  private next = 0;

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
    this.needed = arena.float64(2);
    this.asked = arena.float64(2);
    this.judged = arena.int32(2);
  }

  get bytes(): number {
    return this.base.byteLength * 3 + 40 + 16;
  }

  /**
   * Takes the replicas the newest demand needs (NaN for a broken point: pre-scales whose window holds one
   * are not judged) and judges the pre-scale made `leadSteps` steps ago. Call once per step, before
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
    const base = this.base[this.next] ?? 0;
    const used = Math.min(extra, Math.max(0, (this.peak[this.next] ?? 0) - base));
    const kind = kindOf(base, extra);
    this.needed[kind] = DECAY * (this.needed[kind] ?? 0) + used;
    this.asked[kind] = DECAY * (this.asked[kind] ?? 0) + extra;
    this.judged[kind] = (this.judged[kind] ?? 0) + 1;
  }

  /** Records this step's pre-scale: `extra` replicas asked above the `base` current demand needs. */
  record(base: number, extra: number): void {
    this.base[this.next] = base;
    this.extra[this.next] = extra;
    this.peak[this.next] = 0;
    this.next = (this.next + 1) % this.extra.length;
  }

  /**
   * Share of recent pre-scaled replicas of this pre-scale's kind that were needed; NaN until 10 of
   * that kind have been judged.
   */
  neededShare(base: number, extra: number): number {
    const kind = kindOf(base, extra);
    const asked = this.asked[kind] ?? 0;
    return (this.judged[kind] ?? 0) >= MIN_SETTLED && asked > 0
      ? (this.needed[kind] ?? 0) / asked
      : Number.NaN;
  }

  /** Factor [0, 1] on a pre-scale of `extra` over `base`: min(1, needed share ÷ break-even), 1 without a record. */
  trust(base: number, extra: number): number {
    const share = this.neededShare(base, extra);
    if (this.breakEven <= 0 || !Number.isFinite(share)) return 1;
    return Math.min(1, share / this.breakEven);
  }
}
