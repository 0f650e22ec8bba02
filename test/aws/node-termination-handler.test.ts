import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Testing } from 'cdk8s';
import { NodeTerminationHandler, NTH_IMAGE } from '../../constructs/aws/node-termination-handler.js';
import { only, synth, type Json } from '../support/chart.js';
import { validateAll } from '../support/validate.js';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/nth';
const ROLE = 'arn:aws:iam::123456789012:role/nth';

// GIVEN the termination handler in queue mode, synthesized once
const chart = Testing.chart();
new NodeTerminationHandler(chart, 'nth', {
  queueUrl: QUEUE_URL,
  region: 'us-east-1',
  serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': ROLE },
});
const objects = synth(chart);
const deployment: Json = only(objects, 'Deployment', 'aws-node-termination-handler');
const pod: Json = deployment.spec.template.spec;
const container: Json = pod.containers[0];
const env = Object.fromEntries(container.env.map((e: Json) => [e.name, e.value ?? e.valueFrom]));

describe('NodeTerminationHandler', () => {
  it('renders schema-valid objects', async () => {
    assert.deepEqual(await validateAll(objects), []);
    assert.deepEqual(objects.map((o) => o.kind).sort(), [
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'PodDisruptionBudget',
      'ServiceAccount',
    ]);
  });

  it('reads the interruption queue in queue-processor mode, acting only on managed-tagged instances', () => {
    assert.equal(env.ENABLE_SQS_TERMINATION_DRAINING, 'true');
    assert.equal(env.QUEUE_URL, QUEUE_URL);
    assert.equal(env.AWS_REGION, 'us-east-1');
    assert.equal(env.CHECK_TAG_BEFORE_DRAINING, 'true');
    assert.equal(env.MANAGED_TAG, 'aws-node-termination-handler/managed');
    assert.deepEqual(env.NODE_NAME, { fieldRef: { fieldPath: 'spec.nodeName' } });
    assert.equal(container.image, NTH_IMAGE);
    assert.match(NTH_IMAGE, /^public\.ecr\.aws\/aws-ec2\/aws-node-termination-handler:v\d+\.\d+\.\d+$/);
  });

  it('uses its IRSA role and only the RBAC of the upstream chart', () => {
    const sa: Json = only(objects, 'ServiceAccount', 'aws-node-termination-handler');
    assert.deepEqual(sa.metadata.annotations, { 'eks.amazonaws.com/role-arn': ROLE });
    assert.equal(sa.metadata.namespace, 'kube-system');
    const role: Json = only(objects, 'ClusterRole');
    assert.deepEqual(role.rules, [
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'patch', 'update'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'get'] },
      { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
      { apiGroups: ['extensions'], resources: ['daemonsets'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get'] },
    ]);
    const binding: Json = only(objects, 'ClusterRoleBinding');
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: 'aws-node-termination-handler', namespace: 'kube-system' },
    ]);
  });

  it('runs restricted, on on-demand system nodes, two replicas with a PDB', () => {
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    assert.deepEqual(container.securityContext.capabilities, { drop: ['ALL'] });
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.ok(container.resources.requests.cpu && container.resources.limits.memory);
    assert.ok(container.livenessProbe.httpGet && container.readinessProbe.httpGet);
    assert.deepEqual(pod.tolerations, [{ key: 'CriticalAddonsOnly', operator: 'Exists' }]);
    const terms = pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    assert.ok(
      terms[0].matchExpressions.some(
        (e: Json) => e.key === 'eks.amazonaws.com/capacityType' && e.operator === 'NotIn',
      ),
    );
    assert.equal(deployment.spec.replicas, 2);
    assert.equal((only(objects, 'PodDisruptionBudget') as Json).spec.maxUnavailable, 1);
  });

  it('refuses an unpinned image and bad replica counts', () => {
    const c = Testing.chart();
    const base = { queueUrl: QUEUE_URL, region: 'us-east-1', serviceAccountAnnotations: {} };
    assert.throws(
      () => new NodeTerminationHandler(c, 'a', { ...base, image: 'nth:latest' }),
      /image: must not use the mutable "latest" tag/,
    );
    assert.throws(
      () => new NodeTerminationHandler(c, 'b', { ...base, replicas: 0 }),
      /replicas: must be between 1 and 10 \(got 0\)/,
    );
  });
});
