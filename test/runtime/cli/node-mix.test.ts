// The node-mix arithmetic on hand-computed cases: the common grid, node need, the floor, and the cost
// of each mix as a MixedInstancesPolicy bills it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  floorPercentile,
  mixHourlyCost,
  NodeMixError,
  nodeNeed,
  parseCpu,
  parseMemory,
  suggestNodeMix,
} from '../../../runtime/service/node-mix.js';
import type { PoolPrices, PoolWorkload } from '../../../runtime/service/node-mix.js';

const GI = 1024 ** 3;
const PRICES: PoolPrices = {
  nodeCpuCores: 4,
  nodeMemoryBytes: 16 * GI,
  onDemandHourly: 1,
  spotHourly: 0.25,
};

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);

describe('node need', () => {
  it('puts workloads of different intervals on the finer grid over the window both cover', () => {
    // GIVEN web every 60 s from t=0 (1-core pods) and batch every 120 s from t=60 (2 GiB pods)
    const web: PoolWorkload = {
      id: 'a/web',
      timestamps: [0, 60, 120, 180, 240, 300],
      replicas: [4, 8, 8, 12, null, 4],
      pod: { cpuCores: 1, memoryBytes: 1 * GI },
    };
    const batch: PoolWorkload = {
      id: 'a/batch',
      timestamps: [60, 180, 300],
      replicas: [2, 10, 0],
      pod: { cpuCores: 0.1, memoryBytes: 2 * GI },
    };
    const { timestamps, nodes, stepSeconds } = nodeNeed([web, batch], PRICES);
    // THEN the grid is 60..300 every 60 s; a value holds until the next, a null repeats the last
    assert.equal(stepSeconds, 60);
    assert.deepEqual(timestamps, [60, 120, 180, 240, 300]);
    // t=60: cpu 8 + 0.2 = 8.2 → 3 nodes; memory 8 + 4 = 12 GiB → 1: 3
    // t=120: same: 3; t=180: cpu 12 + 1 = 13 → 4; memory 12 + 20 = 32 GiB → 2: 4
    // t=240: web holds 12, batch holds 10: 4; t=300: cpu 4 + 0 → 1, memory 4 GiB → 1: 1
    assert.deepEqual(nodes, [3, 3, 4, 4, 1]);
  });

  it('does not buy a node for float noise, and refuses histories that never overlap', () => {
    const tenth = (id: string): PoolWorkload => ({
      id,
      timestamps: [0],
      replicas: [1],
      pod: { cpuCores: 0.1, memoryBytes: 1 },
    });
    // 40 × 0.1 cores is 4 cores: one node, although the float sum is 4.000000000000002
    const many = Array.from({ length: 40 }, (_, i) => tenth(`a/w${i}`));
    assert.deepEqual(nodeNeed(many, PRICES).nodes, [1]);
    assert.throws(
      () =>
        nodeNeed(
          [
            { id: 'a/x', timestamps: [0, 60], replicas: [1, 1], pod: { cpuCores: 1, memoryBytes: 1 } },
            { id: 'a/y', timestamps: [600, 660], replicas: [1, 1], pod: { cpuCores: 1, memoryBytes: 1 } },
          ],
          PRICES,
        ),
      (e: Error) => e instanceof NodeMixError && /do not overlap in time \(a\/x, a\/y\)/.test(e.message),
    );
  });
});

describe('floor and cost', () => {
  it('takes the floor by nearest rank downwards', () => {
    const sorted = Array.from({ length: 21 }, (_, i) => i); // 0..20
    assert.equal(floorPercentile(sorted, 0.05), 1); // floor(0.05 × 20) = index 1
    assert.equal(floorPercentile(sorted, 0), 0);
    assert.equal(floorPercentile(sorted, 1), 20);
    assert.equal(floorPercentile([3, 3, 7], 0.5), 3);
  });

  it('bills the base on-demand, a share above it on-demand and the rest spot', () => {
    // need 2, 6: base 3 → (2 od) + (3 od + 3 above); above at 50% on-demand: 1.5 od + 1.5 spot
    close(mixHourlyCost([2, 6], 3, 50, PRICES), (2 * 1 + (3 * 1 + 1.5 * 1 + 1.5 * 0.25)) / 2);
    close(mixHourlyCost([2, 6], 0, 0, PRICES), ((2 + 6) * 0.25) / 2);
    assert.equal(mixHourlyCost([], 3, 50, PRICES), 0);
  });

  it('suggests the floor as on-demand base and prices it against the current mix', () => {
    // GIVEN one workload whose need runs 2,2,2,...,10 (20 points) on 1-core pods, 4-core nodes
    const replicas = [...Array.from({ length: 19 }, () => 8), 40];
    const w: PoolWorkload = {
      id: 'shop/web',
      timestamps: replicas.map((_, i) => i * 60),
      replicas,
      pod: { cpuCores: 1, memoryBytes: GI },
    };
    const s = suggestNodeMix([w], { ...PRICES, current: { onDemandBase: 4, onDemandPercentAboveBase: 100 } });
    assert.ok(s);
    // THEN need is 2 nineteen times and 10 once: floor (p5 of 20 points: index 0) = 2
    assert.deepEqual(s.need, { min: 2, floor: 2, median: 2, peak: 10, mean: (19 * 2 + 10) / 20 });
    assert.equal(s.onDemandBase, 2);
    assert.deepEqual(s.spotAbove, { mean: 8 / 20, peak: 8 });
    assert.deepEqual(s.window, { from: 0, to: 1140, stepSeconds: 60, points: 20 });
    // all on-demand: mean need × 1; suggested: 2 od always + 8 spot once; current: all on-demand (100% above 4)
    close(s.cost.allOnDemand.hourly, 2.4);
    close(s.cost.suggested.hourly, (20 * 2 + 8 * 0.25) / 20);
    close(s.cost.current?.hourly ?? NaN, 2.4);
    close(s.cost.suggested.monthly, s.cost.suggested.hourly * 730);
    assert.equal(s.difference.against, 'current');
    close(s.difference.monthly, (2.1 - 2.4) * 730);
    close(s.difference.share, (2.1 - 2.4) / 2.4);
  });

  it('names the field of bad prices and of a bad percentile', () => {
    const w: PoolWorkload = {
      id: 'a/b',
      timestamps: [0],
      replicas: [1],
      pod: { cpuCores: 1, memoryBytes: 1 },
    };
    assert.throws(
      () => suggestNodeMix([w], { ...PRICES, spotHourly: -1 }),
      /spotHourly: must be a number ≥ 0 \(got -1\)/,
    );
    assert.throws(
      () => suggestNodeMix([w], { ...PRICES, current: { onDemandBase: 1.5, onDemandPercentAboveBase: 0 } }),
      /current\.onDemandBase: must be an integer ≥ 0 \(got 1\.5\)/,
    );
    assert.throws(
      () => suggestNodeMix([w], PRICES, { floorPercentile: 2 }),
      /floorPercentile: must be in \[0, 1\] \(got 2\)/,
    );
    assert.equal(suggestNodeMix([{ ...w, replicas: [null] }], PRICES), undefined);
  });
});

describe('quantities', () => {
  it('reads CPU and memory as Kubernetes writes them', () => {
    assert.equal(parseCpu('250m'), 0.25);
    assert.equal(parseCpu('4'), 4);
    assert.equal(parseCpu(1.5), 1.5);
    assert.equal(parseCpu('4 cores'), undefined);
    assert.equal(parseCpu(-1), undefined);
    assert.equal(parseMemory('16Gi'), 16 * GI);
    assert.equal(parseMemory('512Mi'), 512 * 1024 ** 2);
    assert.equal(parseMemory('1G'), 1e9);
    assert.equal(parseMemory('1.5Ki'), 1536);
    assert.equal(parseMemory('16GB'), undefined);
  });
});
