import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Testing } from 'cdk8s';
import {
  NodeTerminationHandler,
  NTH_IMAGE,
  NTH_METRICS_PORT,
  type NodeTerminationHandlerProps,
} from '../../constructs/aws/node-termination-handler.js';
import { MetricsScraping } from '../../constructs/k8s/metrics-scraping.js';
import { only, synth, type Json } from '../support/chart.js';
import { validateAll, type KubeObject } from '../support/validate.js';
import { MONITOR_KINDS, monitorErrors } from '../k8s/monitor-schema.js';

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

/** The handler synthesized with other props. */
function nthObjects(props: Partial<NodeTerminationHandlerProps>): KubeObject[] {
  const c = Testing.chart();
  new NodeTerminationHandler(c, 'nth', {
    queueUrl: QUEUE_URL,
    region: 'us-east-1',
    serviceAccountAnnotations: {},
    ...props,
  });
  return synth(c);
}
const containerOf = (objects: KubeObject[]): Json =>
  (only(objects, 'Deployment') as Json).spec.template.spec.containers[0];
const envOf = (objects: KubeObject[]): Record<string, string> =>
  Object.fromEntries(containerOf(objects).env.map((e: Json) => [e.name, e.value]));

describe('NodeTerminationHandler', () => {
  it('renders schema-valid objects', async () => {
    assert.deepEqual(await validateAll(objects), []);
    assert.deepEqual(objects.map((o) => o.kind).sort(), [
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'NetworkPolicy',
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

  it('refuses a malformed region, a queue URL that is not one or is in another region, and bad annotation keys', () => {
    const c = Testing.chart();
    const base = { queueUrl: QUEUE_URL, region: 'us-east-1', serviceAccountAnnotations: {} };
    assert.throws(
      () => new NodeTerminationHandler(c, 'r', { ...base, region: 'mars' }),
      /^PropError: region: must be an AWS region name like "us-east-1" \(got "mars"\)$/,
    );
    assert.throws(
      () => new NodeTerminationHandler(c, 'u', { ...base, queueUrl: 'not a url' }),
      /^PropError: queueUrl: must be an SQS queue URL .*\(got "not a url"\)$/,
    );
    assert.throws(
      () => new NodeTerminationHandler(c, 'w', { ...base, region: 'eu-west-1' }),
      /^PropError: queueUrl: must name a queue in region "eu-west-1" \(the queue is in "us-east-1"\)/,
    );
    assert.throws(
      () => new NodeTerminationHandler(c, 'k', { ...base, serviceAccountAnnotations: { 'bad key!': 'x' } }),
      /^PropError: serviceAccountAnnotations: is not a valid Kubernetes annotation key \(got "bad key!"\)$/,
    );
    // a CDK token (the stack's queue URL) is only known at deploy time: taken as is
    new NodeTerminationHandler(c, 't', { ...base, queueUrl: '${Token[TOKEN.123]}' });
  });

  it('takes the queue URLs of every partition, each on its own SQS domain, and the legacy form', () => {
    // GIVEN a queue URL of each endpoint form, with the region it is in
    const cases = [
      ['https://sqs.us-east-1.amazonaws.com/123456789012/nth', 'us-east-1'],
      ['https://sqs.cn-north-1.amazonaws.com.cn/123456789012/nth', 'cn-north-1'],
      ['https://sqs.us-gov-west-1.amazonaws.com/123456789012/nth', 'us-gov-west-1'],
      ['https://sqs.us-iso-east-1.c2s.ic.gov/123456789012/nth', 'us-iso-east-1'],
      ['https://sqs.us-isob-east-1.sc2s.sgov.gov/123456789012/nth', 'us-isob-east-1'],
      ['https://eu-west-1.queue.amazonaws.com/123456789012/nth.fifo', 'eu-west-1'],
      // ISO-E and ISO-F, and the commercial FIPS, dual-stack and FIPS dual-stack endpoints
      ['https://sqs.eu-isoe-west-1.cloud.adc-e.uk/123456789012/nth', 'eu-isoe-west-1'],
      ['https://sqs.us-isof-south-1.csp.hci.ic.gov/123456789012/nth', 'us-isof-south-1'],
      ['https://sqs-fips.us-east-1.amazonaws.com/123456789012/nth', 'us-east-1'],
      ['https://sqs.eu-west-1.api.aws/123456789012/nth', 'eu-west-1'],
      ['https://sqs-fips.us-west-2.api.aws/123456789012/nth', 'us-west-2'],
      // the European Sovereign Cloud (partition aws-eusc, DNS suffix amazonaws.eu)
      ['https://sqs.eusc-de-east-1.amazonaws.eu/123456789012/nth', 'eusc-de-east-1'],
    ] as const;
    for (const [queueUrl, region] of cases) {
      // WHEN the handler reads it  THEN accepted, and passed on as is
      const e = envOf(nthObjects({ queueUrl, region }));
      assert.deepEqual([e.QUEUE_URL, e.AWS_REGION], [queueUrl, region]);
    }
    // WHEN the domain is another partition's than the region's  THEN refused, naming the region
    for (const [queueUrl, region] of [
      ['https://sqs.cn-north-1.amazonaws.com/123456789012/nth', 'cn-north-1'],
      ['https://sqs.us-east-1.c2s.ic.gov/123456789012/nth', 'us-east-1'],
      ['https://sqs.us-iso-east-1.sc2s.sgov.gov/123456789012/nth', 'us-iso-east-1'],
      ['https://sqs.eu-isoe-west-1.csp.hci.ic.gov/123456789012/nth', 'eu-isoe-west-1'],
      ['https://sqs.us-isof-south-1.cloud.adc-e.uk/123456789012/nth', 'us-isof-south-1'],
      ['https://sqs.cn-north-1.api.aws/123456789012/nth', 'cn-north-1'],
      ['https://sqs.eusc-de-east-1.amazonaws.com/123456789012/nth', 'eusc-de-east-1'],
      ['https://sqs.eu-central-1.amazonaws.eu/123456789012/nth', 'eu-central-1'],
    ] as const) {
      assert.throws(
        () => nthObjects({ queueUrl, region }),
        new RegExp(
          `^PropError: queueUrl: must use the SQS domain of region "${region}" \\(got "${queueUrl}"\\)$`,
        ),
      );
    }
    // WHEN the domain is the region's partition's but the prefix is not one of its endpoints there
    // THEN refused saying so, with the hosts the partition has on that domain
    for (const [queueUrl, region, partition, host] of [
      [
        'https://sqs-fips.cn-north-1.amazonaws.com.cn/123456789012/nth',
        'cn-north-1',
        'aws-cn',
        'sqs.cn-north-1.amazonaws.com.cn',
      ],
      [
        'https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/nth',
        'us-gov-west-1',
        'aws-us-gov',
        'sqs.us-gov-west-1.amazonaws.com',
      ],
      [
        'https://sqs-fips.eusc-de-east-1.amazonaws.eu/123456789012/nth',
        'eusc-de-east-1',
        'aws-eusc',
        'sqs.eusc-de-east-1.amazonaws.eu',
      ],
    ] as const) {
      assert.throws(
        () => nthObjects({ queueUrl, region }),
        (e: Error) =>
          e.name === 'PropError' &&
          e.message ===
            `queueUrl: must use an SQS endpoint of region "${region}": the domain is right but the prefix ` +
              `"sqs-fips" is not one of partition ${partition}'s (${host}) (got "${queueUrl}")`,
      );
    }
    // WHEN the region of an ISO queue is not the handler's  THEN refused like a commercial one
    assert.throws(
      () =>
        nthObjects({
          queueUrl: 'https://sqs.us-isob-east-1.sc2s.sgov.gov/123456789012/nth',
          region: 'us-iso-east-1',
        }),
      /^PropError: queueUrl: must name a queue in region "us-iso-east-1" \(the queue is in "us-isob-east-1"\)/,
    );
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

  describe('metrics', () => {
    it('serves its Prometheus metrics on 9092 by default, reachable only from the monitoring namespace', () => {
      // GIVEN the defaults (MetricsScraping.collector())
      // THEN the server is on, on the named port the PodMonitor scrapes
      assert.equal(env.ENABLE_PROMETHEUS_SERVER, 'true');
      assert.equal(env.PROMETHEUS_SERVER_PORT, String(NTH_METRICS_PORT));
      assert.equal(NTH_METRICS_PORT, 9092);
      assert.deepEqual(
        container.ports.find((p: Json) => p.name === 'http-metrics'),
        { name: 'http-metrics', containerPort: 9092, protocol: 'TCP' },
      );
      // AND the NetworkPolicy on its pods admits `monitoring` on 9092, and nothing else
      const policy = (only(objects, 'NetworkPolicy', 'aws-node-termination-handler') as Json).spec;
      assert.deepEqual(policy.podSelector.matchLabels, deployment.spec.selector.matchLabels);
      assert.deepEqual(policy.policyTypes, ['Ingress']);
      assert.deepEqual(policy.ingress, [
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
          ports: [{ protocol: 'TCP', port: 9092 }],
        },
      ]);
      // AND no PodMonitor, whose CRD a fresh cluster may not have yet
      assert.equal(objects.filter((o) => MONITOR_KINDS.has(o.kind)).length, 0);
    });

    it('writes a PodMonitor on `http-metrics` for a Prometheus operator, the same as podMonitor() writes alone', () => {
      // GIVEN a Prometheus operator in `observability`
      const scraping = MetricsScraping.prometheusOperator({ namespaces: ['observability'] });
      // WHEN
      const withHandler = nthObjects({ monitoring: scraping });
      const alone = Testing.chart();
      NodeTerminationHandler.podMonitor(alone, 'monitor', { scraping });
      // THEN one schema-valid PodMonitor selecting the handler's pods on its metrics port
      const monitor = only(withHandler, 'PodMonitor', 'aws-node-termination-handler') as Json;
      assert.equal(monitor.metadata.namespace, 'kube-system');
      assert.deepEqual(
        monitor.spec.selector.matchLabels,
        (only(withHandler, 'Deployment') as Json).spec.selector.matchLabels,
      );
      assert.equal(monitor.spec.jobLabel, 'app.kubernetes.io/name');
      assert.deepEqual(monitor.spec.podMetricsEndpoints, [
        { port: 'http-metrics', path: '/metrics', interval: '30s', scheme: 'http' },
      ]);
      assert.deepEqual(only(synth(alone), 'PodMonitor'), monitor);
      assert.deepEqual(monitorErrors(withHandler), []);
      const policy = (only(withHandler, 'NetworkPolicy') as Json).spec;
      assert.equal(
        policy.ingress[0].from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'],
        'observability',
      );
    });

    it('keeps the server off and lets nobody in with MetricsScraping.none()', async () => {
      // GIVEN / WHEN
      const off = nthObjects({ monitoring: MetricsScraping.none() });
      // THEN
      assert.equal(envOf(off).ENABLE_PROMETHEUS_SERVER, 'false');
      assert.equal(envOf(off).PROMETHEUS_SERVER_PORT, undefined);
      assert.deepEqual(
        containerOf(off).ports.map((p: Json) => p.name),
        ['liveness-probe'],
      );
      assert.deepEqual((only(off, 'NetworkPolicy') as Json).spec.ingress ?? [], []);
      assert.deepEqual(await validateAll(off), []);
    });

    it('refuses a scraper namespace that is not a DNS label, naming monitoring', () => {
      assert.throws(
        () => nthObjects({ monitoring: MetricsScraping.collector({ namespaces: ['Monitoring'] }) }),
        /^PropError: monitoring\.namespaces\[0\]: must be a lowercase RFC 1123 label .*\(got "Monitoring"\)$/,
      );
    });
  });
});
