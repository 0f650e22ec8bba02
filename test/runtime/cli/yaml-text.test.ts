// The CLI's YAML writer (the runtime image has no YAML library): what it writes must read back, with the
// `yaml` package, as exactly the data it was given, strings that YAML would otherwise turn into
// booleans, numbers or null included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { toYaml } from '../../../runtime/cli/yaml-text.js';

describe('toYaml', () => {
  it('writes block YAML that reads back as the same data', () => {
    const data = {
      apiVersion: 'autoscaling.k8s.io/v1',
      kind: 'VerticalPodAutoscaler',
      metadata: {
        name: 'web-vpa',
        labels: { 'app.kubernetes.io/managed-by': 'elasticai' },
        annotations: { 'elasticai.io/recommendation': JSON.stringify({ a: [1, 'x: y'], b: null }) },
      },
      spec: {
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        updatePolicy: { updateMode: 'Off' },
        list: [{ name: 'a', values: ['cpu', 'memory'] }, { name: 'b', values: [] }, [1, [2, 3]], {}],
        empty: {},
        numbers: [0, -1.5, 1e21, 3],
      },
    };
    const text = toYaml(data);
    assert.deepEqual(parse(text), data);
    // kubectl's layout: sequences under a key at the key's indent
    assert.match(text, /^spec:\n {2}targetRef:\n {4}apiVersion: apps\/v1\n/m);
    assert.match(text, /\n {2}list:\n {2}- name: a\n {4}values:\n {4}- cpu\n/);
  });

  it('quotes every string YAML would read as something else', () => {
    const tricky = [
      'Off',
      'on',
      'yes',
      'No',
      'y',
      'true',
      'null',
      '~',
      '',
      ' lead',
      'trail ',
      '1.0',
      '0x1F',
      '1e3',
      '-',
      '- x',
      'a: b',
      'a #b',
      '#c',
      '*ref',
      '&anchor',
      '!tag',
      '@at',
      '`tick',
      '%pct',
      '{x}',
      '[x]',
      '>fold',
      '|lit',
      "'single'",
      '"double"',
      'multi\nline',
      'tab\there',
      'ünïcode',
      '2024-01-01',
      '12:30',
      '.5',
      '+1',
      'NaN',
      '.inf',
    ];
    const data = {
      values: tricky,
      keyed: Object.fromEntries(tricky.filter((t) => t !== '').map((t) => [t, t])),
    };
    assert.deepEqual(parse(toYaml(data)), data);
    assert.match(toYaml({ mode: 'Off' }), /^mode: "Off"\n$/);
    assert.match(toYaml({ name: 'web-vpa' }), /^name: web-vpa\n$/);
  });

  it('refuses numbers JSON cannot hold', () => {
    assert.throws(() => toYaml({ x: NaN }), /NaN is not a finite number/);
  });
});
