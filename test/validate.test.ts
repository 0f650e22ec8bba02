// The schema harness must itself reject bad objects, or every "validates" test below it is vacuous.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateObject } from './support/validate.js';

const scaledObject = {
  apiVersion: 'keda.sh/v1alpha1',
  kind: 'ScaledObject',
  metadata: { name: 'api', namespace: 'shop' },
  spec: {
    scaleTargetRef: { name: 'api' },
    triggers: [{ type: 'cpu', metricType: 'Utilization', metadata: { value: '60' } }],
  },
};

describe('schema harness', () => {
  it('accepts a valid KEDA ScaledObject', async () => {
    assert.deepEqual(await validateObject(scaledObject), []);
  });

  it('rejects a field the KEDA CRD does not declare (the API server would prune it)', async () => {
    const typo = { ...scaledObject, spec: { ...scaledObject.spec, minReplicas: 2 } };
    const errors = await validateObject(typo);
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /additionalProperty.*minReplicas/);
  });

  it('rejects a built-in object that breaks the Kubernetes schema', async () => {
    const errors = await validateObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: { selector: {}, template: { spec: { containers: [{ name: 'a', image: 5 }] } } },
    });
    assert.match(errors.join('\n'), /image must be string/);
  });

  it('refuses objects it has no schema for instead of passing them', async () => {
    const errors = await validateObject({
      apiVersion: 'example.com/v1',
      kind: 'Thing',
      metadata: { name: 'x' },
    });
    assert.match(errors.join('\n'), /no schema known/);
  });
});
