// Every entry point package.json exports must load by its public name and offer what its README says:
// a missing build file behind an entry (as `./runtime` once was) only shows up in a user's import.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './support/paths.js';

const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string>;
};

/** One export each entry must have (the one its README opens with). */
const FLAGSHIP: Record<string, string> = {
  './k8s': 'AutoscaledWorkload',
  './aws': 'ElasticEksCluster',
  './azure': 'AksCluster',
  './runtime': 'WorkloadEngine',
};

describe('package entry points', () => {
  it('lists exactly the entries checked here', () => {
    assert.deepEqual(Object.keys(manifest.exports).sort(), Object.keys(FLAGSHIP).sort());
  });

  for (const [entry, flagship] of Object.entries(FLAGSHIP)) {
    it(`${manifest.name}${entry.slice(1)} loads by its package name and exports ${flagship}`, async () => {
      const module = (await import(`${manifest.name}${entry.slice(1)}`)) as Record<string, unknown>;
      assert.equal(typeof module[flagship], 'function', `${flagship} from ${entry}`);
    });
  }

  it('elasticai/runtime replays a trace and decides from code, as the CLI does', async () => {
    const runtime = await import('elasticai/runtime');
    // GIVEN a trace whose demand steps from 10 to 50 per minute, 10 per replica
    const rows = Array.from({ length: 120 }, (_, i) => `${i * 60},${i < 60 ? 10 : 50}`);
    const trace = runtime.parseTrace(['timestamp,demand', ...rows].join('\n'), 'step.csv');
    const context = {
      intervalSeconds: trace.intervalSeconds,
      capacityPerReplica: 10,
      startupSeconds: 60,
      minReplicas: 1,
      maxReplicas: 100,
    };
    // WHEN the oracle and the engine replay it
    const oracle = runtime.simulate(trace, runtime.oraclePolicy(), context);
    const predictive = runtime.simulate(trace, runtime.predictivePolicy(), context);
    // THEN the oracle never misses, and the engine ends holding at least the 5 replicas demand needs
    assert.equal(oracle.measures.violationIntervals, 0);
    assert.ok((predictive.desired.at(-1) ?? 0) >= 5, `engine holds ${predictive.desired.at(-1)}`);
    // AND an engine fed directly decides the same way, and refuses a bad setting naming it
    const engine = new runtime.WorkloadEngine({
      intervalSeconds: 60,
      capacityPerReplica: 10,
      leadSeconds: 60,
    });
    let last = 0;
    for (const row of trace.rows) last = engine.step(row.timestamp, row.demand).desiredReplicas;
    assert.equal(last, predictive.desired.at(-1));
    assert.throws(
      () => new runtime.WorkloadEngine({ intervalSeconds: 0, capacityPerReplica: 10, leadSeconds: 60 }),
      (error: unknown) =>
        error instanceof runtime.EngineSettingsError && /intervalSeconds/.test(error.message),
    );
  });
});
