import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Gauge, Registry } from 'prom-client';
import { WorkloadGauge } from '../../../runtime/service/metrics.js';

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
