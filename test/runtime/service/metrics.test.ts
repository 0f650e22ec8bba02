import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { Gauge, Registry } from 'prom-client';
import { RuntimeMetrics, WorkloadGauge } from '../../../runtime/service/metrics.js';
import { PROMTOOL } from '../../k8s/promtool.js';

type Label = 'namespace' | 'name' | 'state';

/** The same operations on a gauge, as the registry makes them. */
function exercise(gauge: Gauge<Label>): void {
  const a = { namespace: 'shop', name: 'checkout' };
  const b = { namespace: 'shop', name: 'cart' };
  gauge.set({ ...a, state: 'normal' }, 0.5);
  gauge.set({ ...b, state: 'normal' }, 0.25);
  gauge.set({ ...a, state: 'normal' }, 0.75);
  gauge.remove({ ...a, state: 'normal' });
  gauge.set({ ...a, state: 'surge' }, 0.999);
  gauge.set({ ...b, state: 'stale' }, Number.NaN);
  gauge.set({ namespace: 'web', name: 'nasa' }, 3);
}

describe('WorkloadGauge', () => {
  it('prints exactly what a prom-client Gauge prints for the same operations', async () => {
    // GIVEN a plain Gauge and a WorkloadGauge, each in its own registry
    const config = {
      help: 'Per-workload test gauge.',
      labelNames: ['namespace', 'name', 'state'] as Label[],
    };
    const plainRegistry = new Registry();
    const compactRegistry = new Registry();
    const plain = new Gauge<Label>({ ...config, name: 'test_gauge', registers: [plainRegistry] });
    const compact = new WorkloadGauge<Label>({ ...config, name: 'test_gauge', registers: [compactRegistry] });

    // WHEN both see the same sets and removes
    exercise(plain);
    exercise(compact);

    // THEN the exposition and get() are the same, and reading does not change them
    const expected = await plainRegistry.metrics();
    assert.match(expected, /test_gauge\{namespace="shop",name="checkout",state="surge"\} 0.999/);
    assert.equal(await compactRegistry.metrics(), expected);
    assert.deepEqual(await compact.get(), await plain.get());
    assert.equal(await compactRegistry.metrics(), expected);

    // AND reset empties it
    compact.reset();
    plain.reset();
    assert.equal(await compactRegistry.metrics(), await plainRegistry.metrics());
  });

  it('prints its exposition itself exactly as the registry would, escapes and odd values included', async () => {
    // GIVEN a plain Gauge and a WorkloadGauge, with a help text and label values that need escaping
    const config = {
      help: 'Odd \\ help\nover two lines.',
      labelNames: ['namespace', 'name', 'state'] as Label[],
    };
    const plainRegistry = new Registry();
    const plain = new Gauge<Label>({ ...config, name: 'odd_gauge', registers: [plainRegistry] });
    const compact = new WorkloadGauge<Label>({ ...config, name: 'odd_gauge', registers: [] });
    for (const gauge of [plain, compact]) {
      exercise(gauge);
      gauge.set(
        { namespace: 'we"ird', name: 'back\\slash\nnewline', state: 'normal' },
        Number.POSITIVE_INFINITY,
      );
      gauge.set({ namespace: 'x', name: 'y', state: 'normal' }, Number.NEGATIVE_INFINITY);
      gauge.set({ namespace: 'ns', name: 'no-state' }, 1e-7);
    }
    // WHEN the WorkloadGauge prints itself, not through a registry
    const text = compact.exposition();
    // THEN it is the registry's text of the plain gauge, character for character
    assert.equal(`${text}\n`, await plainRegistry.metrics());
    assert.match(
      text,
      /odd_gauge\{namespace="we\\"ird",name="back\\\\slash\\nnewline",state="normal"\} \+Inf/,
    );
    assert.match(text, /odd_gauge\{namespace="ns",name="no-state"\} 1e-7/);
    assert.match(text, /state="stale"\} Nan/);
  });

  it('/metrics text is what the registry prints, per-workload gauges included', async () => {
    // GIVEN the runtime's metrics with per-workload series and other metrics
    const metrics = new RuntimeMetrics({ defaultMetrics: false });
    for (let i = 0; i < 50; i++) {
      const ref = { namespace: `ns-${i % 3}`, name: `w-${i}` };
      metrics.desiredReplicas.set(ref, i);
      metrics.anomalyScore.set({ ...ref, state: i % 2 ? 'normal' : 'surge' }, i / 50);
    }
    metrics.decisions.inc({ rule: 'forecast' }, 3);
    metrics.headroomPods.set({ node_pool: 'general' }, 4);
    // WHEN /metrics renders it
    const text = await metrics.text();
    // THEN it is the registry's own rendering, in the same order
    assert.equal(text, await metrics.registry.metrics());
    assert.match(text, /elasticai_desired_replicas\{namespace="ns-1",name="w-49"\} 49/);
    // AND Prometheus' own linter parses and accepts it, escaped label values included
    metrics.predictedDemand.set({ namespace: 'we"ird', name: 'back\\slash\nnewline' }, Number.NaN);
    const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: await metrics.text(), encoding: 'utf8' });
    assert.equal(lint.status, 0, `${lint.stdout}${lint.stderr}`);
  });

  it('refuses labels it was not declared with, like prom-client', () => {
    const gauge = new WorkloadGauge<'namespace' | 'name'>({
      name: 'test_refuses',
      help: 'x',
      labelNames: ['namespace', 'name'],
      registers: [],
    });
    assert.throws(
      () => gauge.set({ namespace: 'a', name: 'b', pod: 'c' } as never, 1),
      /label "pod" is not one of namespace, name/,
    );
  });
});
