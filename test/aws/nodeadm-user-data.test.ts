import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { nodeadmUserData } from '../../constructs/aws/nodeadm-user-data.js';

const BASE = {
  clusterName: 'c1',
  apiServerEndpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com',
  certificateAuthority: 'Q0E=',
  serviceCidr: '172.20.0.0/16',
};
const render = (o: Partial<Parameters<typeof nodeadmUserData>[0]> = {}): string =>
  new Stack().resolve(nodeadmUserData({ ...BASE, ...o }).render());

describe('nodeadm user data', () => {
  it('is a MIME document with one NodeConfig when nothing varies per node', () => {
    // GIVEN labels and no lifecycle labelling  WHEN rendered  THEN exactly one part, sorted labels
    const text = render({ labels: { b: '2', 'elasticai.io/node-pool': 'x' } });
    assert.equal(text.match(/^--ELASTICAI-NODEADM$/gm)?.length, 1);
    assert.match(text, /--ELASTICAI-NODEADM--\n$/);
    assert.match(text, / {4}flags:\n {6}- --node-labels=b=2,elasticai.io\/node-pool=x\n/);
    assert.doesNotMatch(text, /x-shellscript/);
  });

  it('omits the kubelet section without labels or taints', () => {
    assert.doesNotMatch(render(), /kubelet:/);
  });

  it('refuses labels the kubelet would reject', () => {
    assert.throws(
      () => render({ labels: { 'bad key!': 'x' } }),
      /labels: is not a valid Kubernetes label key \(got "bad key!"\)/,
    );
    assert.throws(
      () => render({ labels: { ok: 'has space' } }),
      /labels.ok: is not a valid label value \(got "has space"\)/,
    );
  });
});
