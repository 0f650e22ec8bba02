/**
 * The `--prices FILE.json` of `elasticai recommend --node-mix`: per node pool, the allocatable size of
 * one node and the hourly price of an on-demand and a spot node (and optionally the pool's current mix);
 * optionally the size of a workload's pod where the runtime has no usage history for it.
 *
 * ```json
 * {
 *   "currency": "USD",
 *   "pools": {
 *     "general": {
 *       "node": { "cpu": "3920m", "memory": "14Gi" },
 *       "onDemandHourly": 0.192,
 *       "spotHourly": 0.0672,
 *       "current": { "onDemandBase": 1, "onDemandPercentAboveBase": 20 }
 *     }
 *   },
 *   "pods": { "shop/checkout": { "cpu": "500m", "memory": "512Mi" } }
 * }
 * ```
 *
 * Unknown fields are refused (a typo must not silently fall back to a default); every message names
 * the file and the field.
 */
import { readFileSync } from 'node:fs';
import type { PodSize, PoolPrices } from '../service/node-mix.js';
import { parseCpu, parseMemory } from '../service/node-mix.js';
import { UsageError } from './command.js';
import { describeFsError } from './csv-output.js';

export interface Prices {
  readonly currency: string;
  readonly pools: ReadonlyMap<string, PoolPrices>;
  /** Pod sizes by `namespace/name`, used before the runtime's recommendations. */
  readonly pods: ReadonlyMap<string, PodSize>;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const shown = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));

class Reader {
  constructor(private readonly file: string) {}

  fail(field: string, message: string, value: unknown): never {
    throw new UsageError(`--prices ${this.file}: ${field}: ${message} (got ${shown(value)})`);
  }

  object(
    field: string,
    value: unknown,
    keys: readonly string[],
    required: readonly string[] = [],
  ): Record<string, unknown> {
    if (!isRecord(value)) this.fail(field, 'must be an object', value);
    for (const k of Object.keys(value)) {
      if (!keys.includes(k))
        this.fail(`${field}.${k}`, `unknown field (known: ${keys.join(', ')})`, value[k]);
    }
    for (const k of required)
      if (value[k] === undefined) this.fail(`${field}.${k}`, 'is required', undefined);
    return value;
  }

  price(field: string, value: unknown): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      this.fail(field, 'must be a price per hour, a number >= 0', value);
    }
    return value;
  }

  cpu(field: string, value: unknown, positive: boolean): number {
    const v = parseCpu(value);
    if (v === undefined || (positive && !(v > 0))) {
      this.fail(field, `must be CPU cores or a quantity such as 4 or 3920m${positive ? ', > 0' : ''}`, value);
    }
    return v;
  }

  memory(field: string, value: unknown, positive: boolean): number {
    const v = parseMemory(value);
    if (v === undefined || (positive && !(v > 0))) {
      this.fail(field, `must be bytes or a quantity such as 16Gi or 512Mi${positive ? ', > 0' : ''}`, value);
    }
    return v;
  }
}

/** Parses the text of a prices file; `file` names it in messages. */
export function parsePrices(text: string, file: string): Prices {
  const r: Reader = new Reader(file);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `--prices ${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const root = r.object('(file)', data, ['currency', 'pools', 'pods'], ['pools']);
  const currency = root.currency ?? 'USD';
  if (typeof currency !== 'string' || currency === '')
    r.fail('currency', 'must be a currency code such as USD', currency);
  const poolsRaw = r.object('pools', root.pools, Object.keys(isRecord(root.pools) ? root.pools : {}));
  if (Object.keys(poolsRaw).length === 0) r.fail('pools', 'must name at least one node pool', poolsRaw);
  const pools = new Map<string, PoolPrices>();
  for (const [name, raw] of Object.entries(poolsRaw)) {
    const f = `pools.${name}`;
    const p = r.object(
      f,
      raw,
      ['node', 'onDemandHourly', 'spotHourly', 'current'],
      ['node', 'onDemandHourly', 'spotHourly'],
    );
    const node = r.object(`${f}.node`, p.node, ['cpu', 'memory'], ['cpu', 'memory']);
    let current: PoolPrices['current'];
    if (p.current !== undefined) {
      const c = r.object(
        `${f}.current`,
        p.current,
        ['onDemandBase', 'onDemandPercentAboveBase'],
        ['onDemandBase'],
      );
      const base = c.onDemandBase;
      if (typeof base !== 'number' || !Number.isInteger(base) || base < 0) {
        r.fail(`${f}.current.onDemandBase`, 'must be an integer >= 0', base);
      }
      const pct = c.onDemandPercentAboveBase ?? 0;
      if (typeof pct !== 'number' || !(pct >= 0 && pct <= 100)) {
        r.fail(`${f}.current.onDemandPercentAboveBase`, 'must be a number in [0, 100]', pct);
      }
      current = { onDemandBase: base, onDemandPercentAboveBase: pct };
    }
    pools.set(name, {
      nodeCpuCores: r.cpu(`${f}.node.cpu`, node.cpu, true),
      nodeMemoryBytes: r.memory(`${f}.node.memory`, node.memory, true),
      onDemandHourly: r.price(`${f}.onDemandHourly`, p.onDemandHourly),
      spotHourly: r.price(`${f}.spotHourly`, p.spotHourly),
      ...(current ? { current } : {}),
    });
  }
  const pods = new Map<string, PodSize>();
  if (root.pods !== undefined) {
    const podsRaw = r.object('pods', root.pods, Object.keys(isRecord(root.pods) ? root.pods : {}));
    for (const [id, raw] of Object.entries(podsRaw)) {
      if (!/^[a-z0-9][-a-z0-9]*\/[a-z0-9][-a-z0-9.]*$/.test(id)) {
        r.fail(`pods.${id}`, 'must be keyed by namespace/name', id);
      }
      const p = r.object(`pods.${id}`, raw, ['cpu', 'memory'], ['cpu', 'memory']);
      pods.set(id, {
        cpuCores: r.cpu(`pods.${id}.cpu`, p.cpu, false),
        memoryBytes: r.memory(`pods.${id}.memory`, p.memory, false),
      });
    }
  }
  return { currency, pools, pods };
}

/** Reads and parses the prices file at `path`. */
export function loadPrices(path: string): Prices {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--prices cannot be read (got "${path}": ${describeFsError(err)})`);
  }
  return parsePrices(text, path);
}
