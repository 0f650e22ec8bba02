// Field-level object differences as `elasticai diff` prints them for review.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffValues, formatChange, textChange } from '../../stacks/cli/object-diff.js';

const container = (
  name: string,
  image: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> => ({
  name,
  image,
  ...extra,
});

describe('diffValues', () => {
  it('matches named list items by name: an inserted container does not change the others', () => {
    const old = { spec: { containers: [container('app', 'a:1'), container('proxy', 'p:1')] } };
    const fresh = {
      spec: { containers: [container('init', 'i:1'), container('app', 'a:2'), container('proxy', 'p:1')] },
    };
    assert.deepEqual(diffValues(old, fresh), [
      { path: 'spec.containers[name=app].image', old: 'a:1', new: 'a:2' },
      { path: 'spec.containers[name=init]', new: container('init', 'i:1') },
    ]);
  });

  it('reports a pure reordering of named items once, and unnamed lists by index', () => {
    const a = [container('x', '1'), container('y', '1')];
    const b = [container('y', '1'), container('x', '1')];
    assert.deepEqual(diffValues({ env: a }, { env: b }), [
      { path: 'env (order)', old: ['x', 'y'], new: ['y', 'x'] },
    ]);
    assert.deepEqual(diffValues({ args: ['--a', '--b'] }, { args: ['--a', '--c', '--d'] }), [
      { path: 'args[1]', old: '--b', new: '--c' },
      { path: 'args[2]', new: '--d' },
    ]);
  });

  it('quotes keys that are not identifiers, and sees added and removed fields', () => {
    const changes = diffValues(
      { metadata: { annotations: { 'autoscaling.keda.sh/paused': 'true' }, labels: { a: '1' } } },
      { metadata: { annotations: {}, labels: { a: '1', b: '2' } } },
    );
    assert.deepEqual(changes, [
      { path: 'metadata.annotations["autoscaling.keda.sh/paused"]', old: 'true' },
      { path: 'metadata.labels.b', new: '2' },
    ]);
    assert.deepEqual(
      diffValues({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }),
      [],
      'key order is not a change',
    );
    assert.deepEqual(
      diffValues({ a: 1 }, { a: '1' }),
      [{ path: 'a', old: 1, new: '1' }],
      'a type change is a change',
    );
  });
});

describe('formatChange', () => {
  it('prints path: old → new, absent sides, and long values shortened', () => {
    assert.equal(formatChange({ path: 'spec.replicas', old: 2, new: 3 }), 'spec.replicas: 2 → 3');
    assert.equal(formatChange({ path: 'spec.paused', new: true }), 'spec.paused: (absent) → true');
    assert.equal(formatChange({ path: 'x', old: { a: 1 } }), 'x: {"a":1} → (absent)');
    const long = formatChange({ path: 'x', old: 'a', new: Array.from({ length: 40 }, (_, i) => i) });
    assert.ok(long.endsWith('…'));
    assert.equal(long.length, 'x: "a" → '.length + 80);
  });

  it('summarises a change of a long text by its first differing line', () => {
    const before = ['{', '  "title": "ElasticAI",', '  "panels": 12', '}'].join('\n');
    const after = ['{', '  "title": "ElasticAI",', '  "panels": 14,', '  "refresh": "30s"', '}'].join('\n');
    assert.equal(
      formatChange({ path: 'data["dashboard.json"]', old: before, new: after }),
      'data["dashboard.json"]: text changed (4 → 5 lines), first at line 3: "\\"panels\\": 12" → "\\"panels\\": 14,"',
    );
    assert.equal(
      textChange('a\nb', 'a\nb\nc'),
      'text changed (2 → 3 lines), first at line 3: (end of text) → "c"',
    );
    assert.equal(
      formatChange({ path: 'script', new: 'line\nline' }),
      'script: (absent) → text of 2 lines, 9 characters',
    );
  });
});
