import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration, Size, Testing } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import { parse } from 'yaml';
import { Expander } from '../../constructs/k8s/autoscaler-profile.js';
import {
  CloudProvider,
  ClusterAutoscaler,
  type ClusterAutoscalerProps,
} from '../../constructs/k8s/cluster-autoscaler.js';
import { KubernetesVersion } from '../../constructs/k8s/kubernetes-version.js';
import { MetricsScraping } from '../../constructs/k8s/metrics-scraping.js';
import { PropError } from '../../constructs/k8s/validation.js';
import { only, synth, testChart, testCluster, type Json } from '../support/chart.js';
import { validateAll, type KubeObject } from '../support/validate.js';
import { MONITOR_KINDS, monitorErrors } from './monitor-schema.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

const BASE: ClusterAutoscalerProps = { cloudProvider: CloudProvider.aws({ region: 'eu-west-1' }) };

function synthAutoscaler(
  overrides: Partial<ClusterAutoscalerProps> = {},
  version: KubernetesVersion = KubernetesVersion.V1_33,
): { objects: KubeObject[]; autoscaler: ClusterAutoscaler } {
  const chart = testChart(testCluster({ name: 'prod-eu', kubernetesVersion: version }));
  const autoscaler = new ClusterAutoscaler(chart, 'ca', { ...BASE, ...overrides });
  return { objects: synth(chart), autoscaler };
}

const podSpec = (objects: KubeObject[]): Json => (only(objects, 'Deployment').spec as Json).template.spec;
const container = (objects: KubeObject[]): Json => podSpec(objects).containers[0];
const clusterRules = (objects: KubeObject[]): Rule[] => only(objects, 'ClusterRole').rules as Rule[];
const roleRules = (objects: KubeObject[]): Rule[] => only(objects, 'Role').rules as Rule[];

/** Verbs granted on `group/resource` by rules without resourceNames (i.e. on every object). */
function verbsOn(rules: Rule[], group: string, resource: string): string[] {
  return rules
    .filter((r) => !r.resourceNames && r.apiGroups.includes(group) && r.resources.includes(resource))
    .flatMap((r) => r.verbs)
    .sort();
}

function assertPropError(fn: () => unknown, prop: string, value: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PropError, `expected PropError, got ${String(e)}`);
    assert.equal(e.prop, prop);
    assert.ok(e.message.includes(value), `${e.message} should mention ${value}`);
    return true;
  });
}

describe('ClusterAutoscaler', () => {
  it('synthesizes schema-valid objects with stable names', async () => {
    // GIVEN / WHEN
    const { objects } = synthAutoscaler();
    // THEN
    assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort(), [
      'ClusterRole/cluster-autoscaler',
      'ClusterRoleBinding/cluster-autoscaler',
      'Deployment/cluster-autoscaler',
      'NetworkPolicy/cluster-autoscaler',
      'PodDisruptionBudget/cluster-autoscaler',
      'Role/cluster-autoscaler',
      'RoleBinding/cluster-autoscaler',
      'ServiceAccount/cluster-autoscaler',
    ]);
    assert.deepEqual(await validateAll(objects), []);
  });

  it('defaults to kube-system and exposes namespace, service account and flags', () => {
    // GIVEN / WHEN
    const { objects, autoscaler } = synthAutoscaler();
    // THEN
    assert.equal(autoscaler.namespace, 'kube-system');
    assert.equal(autoscaler.serviceAccountName, 'cluster-autoscaler');
    for (const o of objects.filter((o) => !o.kind.startsWith('ClusterRole'))) {
      assert.equal(o.metadata?.namespace, 'kube-system', o.kind);
    }
    assert.deepEqual(container(objects).command, ['/cluster-autoscaler', ...autoscaler.flags]);
  });

  it('passes the profile defaults, AWS auto-discovery and its namespace as sorted flags', () => {
    // GIVEN / WHEN
    const { autoscaler } = synthAutoscaler();
    // THEN
    const flags = autoscaler.flags;
    assert.deepEqual([...flags], [...flags].sort());
    for (const expected of [
      '--cloud-provider=aws',
      '--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/prod-eu',
      '--expander=least-waste',
      '--scan-interval=10s',
      '--scale-down-unneeded-time=10m0s',
      '--scale-down-delay-after-add=10m0s',
      '--scale-down-delay-after-delete=0s',
      '--scale-down-delay-after-failure=3m0s',
      '--scale-down-unready-time=20m0s',
      '--scale-down-utilization-threshold=0.5',
      '--max-node-provision-time=15m0s',
      '--namespace=kube-system',
      '--address=:8085',
    ]) {
      assert.ok(flags.includes(expected), `missing ${expected}`);
    }
  });

  it('renders profile overrides into the command', () => {
    // GIVEN / WHEN
    const { objects } = synthAutoscaler({
      profile: { scaleDownUnneededTime: Duration.minutes(3), balanceSimilarNodeGroups: true },
    });
    // THEN
    const command: string[] = container(objects).command;
    assert.ok(command.includes('--scale-down-unneeded-time=3m0s'));
    assert.ok(command.includes('--balance-similar-node-groups=true'));
  });

  it('reports a bad profile field with its prop path', () => {
    // GIVEN / WHEN / THEN
    assertPropError(
      () => synthAutoscaler({ profile: { scaleDownUtilizationThreshold: 1.5 } }),
      'profile.scaleDownUtilizationThreshold',
      '1.5',
    );
  });

  it('runs in a custom namespace and tells the autoscaler so', async () => {
    // GIVEN / WHEN
    const { objects, autoscaler } = synthAutoscaler({ namespace: 'autoscaling' });
    // THEN
    assert.equal(autoscaler.namespace, 'autoscaling');
    assert.ok(autoscaler.flags.includes('--namespace=autoscaling'));
    assert.equal(only(objects, 'Deployment').metadata?.namespace, 'autoscaling');
    assert.deepEqual((only(objects, 'ClusterRoleBinding') as Json).subjects, [
      { kind: 'ServiceAccount', name: 'cluster-autoscaler', namespace: 'autoscaling' },
    ]);
    assert.deepEqual(await validateAll(objects), []);
  });

  it('refuses a cloud provider that does not match the cluster', () => {
    // GIVEN
    const chart = testChart(testCluster({ cloud: 'azure' }));
    // WHEN / THEN
    assertPropError(() => new ClusterAutoscaler(chart, 'ca', BASE), 'cloudProvider', '"aws"');
  });

  it('refuses a namespace that is not a DNS label', () => {
    // GIVEN / WHEN / THEN
    assertPropError(() => synthAutoscaler({ namespace: 'Kube_System' }), 'namespace', '"Kube_System"');
  });

  describe('image', () => {
    for (const minor of KubernetesVersion.supported()) {
      it(`pins the image minor to the cluster's minor (${minor})`, () => {
        // GIVEN
        const version = KubernetesVersion.of(minor);
        // WHEN
        const { objects, autoscaler } = synthAutoscaler({}, version);
        // THEN
        const image: string = container(objects).image;
        assert.equal(image, autoscaler.image);
        const match = /^registry\.k8s\.io\/autoscaling\/cluster-autoscaler:v1\.(\d+)\.\d+$/.exec(image);
        assert.ok(match, image);
        assert.equal(Number(match[1]), version.minor);
        assert.equal(image.split(':')[1], version.clusterAutoscalerTag);
      });
    }

    it('refuses an unknown minor, naming kubernetesVersion and the value', () => {
      // GIVEN / WHEN / THEN
      assertPropError(
        () => synthAutoscaler({ kubernetesVersion: KubernetesVersion.of('1.99') }),
        'kubernetesVersion',
        '"1.99"',
      );
    });

    it('refuses a kubernetesVersion different from the cluster it runs in', () => {
      // GIVEN / WHEN / THEN
      assertPropError(
        () => synthAutoscaler({ kubernetesVersion: KubernetesVersion.V1_32 }, KubernetesVersion.V1_33),
        'kubernetesVersion',
        '"1.32"',
      );
    });

    it('takes the version and cluster name from props outside a ClusterChart', () => {
      // GIVEN
      const chart = Testing.chart();
      // WHEN
      const ca = new ClusterAutoscaler(chart, 'ca', {
        ...BASE,
        clusterName: 'standalone',
        kubernetesVersion: KubernetesVersion.V1_34,
      });
      // THEN
      assert.equal(
        ca.image,
        `registry.k8s.io/autoscaling/cluster-autoscaler:${KubernetesVersion.V1_34.clusterAutoscalerTag}`,
      );
      assert.ok(ca.flags.some((f) => f.endsWith('k8s.io/cluster-autoscaler/standalone')));
    });

    it('requires kubernetesVersion and clusterName outside a ClusterChart', () => {
      // GIVEN / WHEN / THEN
      assertPropError(
        () => new ClusterAutoscaler(Testing.chart(), 'ca', { ...BASE, clusterName: 'x' }),
        'kubernetesVersion',
        'undefined',
      );
      assertPropError(
        () =>
          new ClusterAutoscaler(Testing.chart(), 'ca', {
            ...BASE,
            kubernetesVersion: KubernetesVersion.V1_33,
          }),
        'clusterName',
        'undefined',
      );
    });

    it('accepts a mirror repository and a same-minor patch tag', () => {
      // GIVEN / WHEN
      const { autoscaler } = synthAutoscaler({
        image: { repository: 'mirror.example.com:5000/autoscaling/cluster-autoscaler', tag: 'v1.33.0' },
      });
      // THEN
      assert.equal(autoscaler.image, 'mirror.example.com:5000/autoscaling/cluster-autoscaler:v1.33.0');
    });

    it('refuses a tag of another minor, or a repository that carries a tag', () => {
      // GIVEN / WHEN / THEN
      assertPropError(() => synthAutoscaler({ image: { tag: 'v1.32.7' } }), 'image.tag', '"v1.32.7"');
      assertPropError(() => synthAutoscaler({ image: { tag: 'latest' } }), 'image.tag', '"latest"');
      assertPropError(
        () => synthAutoscaler({ image: { repository: 'mirror.example.com/ca:v1' } }),
        'image.repository',
        '"mirror.example.com/ca:v1"',
      );
    });
  });

  describe('RBAC', () => {
    it('binds the ClusterRole and Role to the ServiceAccount', () => {
      // GIVEN / WHEN
      const { objects } = synthAutoscaler();
      // THEN
      const subject = { kind: 'ServiceAccount', name: 'cluster-autoscaler', namespace: 'kube-system' };
      const crb = only(objects, 'ClusterRoleBinding') as Json;
      assert.deepEqual(crb.roleRef, {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'cluster-autoscaler',
      });
      assert.deepEqual(crb.subjects, [subject]);
      const rb = only(objects, 'RoleBinding') as Json;
      assert.deepEqual(rb.roleRef, {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: 'cluster-autoscaler',
      });
      assert.deepEqual(rb.subjects, [subject]);
    });

    it('grants exactly what upstream grants, without wildcards', () => {
      // GIVEN / WHEN
      const { objects } = synthAutoscaler();
      const rules = [...clusterRules(objects), ...roleRules(objects)];
      // THEN: upstream uses no wildcard anywhere, so neither do we
      for (const rule of rules) {
        assert.ok(!rule.verbs.includes('*'), JSON.stringify(rule));
        assert.ok(!rule.resources.includes('*'), JSON.stringify(rule));
        assert.ok(!rule.apiGroups.includes('*'), JSON.stringify(rule));
      }
      const cr = clusterRules(objects);
      // read access to what the scheduler simulation needs
      assert.deepEqual(verbsOn(cr, '', 'pods'), ['get', 'list', 'watch']);
      assert.deepEqual(verbsOn(cr, '', 'persistentvolumeclaims'), ['get', 'list', 'watch']);
      assert.deepEqual(verbsOn(cr, 'apps', 'daemonsets'), ['get', 'list', 'watch']);
      assert.deepEqual(verbsOn(cr, 'policy', 'poddisruptionbudgets'), ['list', 'watch']);
      assert.deepEqual(verbsOn(cr, 'storage.k8s.io', 'volumeattachments'), ['get', 'list', 'watch']);
      assert.deepEqual(verbsOn(cr, 'storage.k8s.io', 'csistoragecapacities'), ['get', 'list', 'watch']);
      // the writes it needs: taint/annotate nodes, evict pods, events, leader election
      assert.deepEqual(verbsOn(cr, '', 'nodes'), ['get', 'list', 'update', 'watch']);
      assert.deepEqual(verbsOn(cr, '', 'pods/eviction'), ['create']);
      assert.deepEqual(verbsOn(cr, '', 'pods/status'), ['update']);
      assert.deepEqual(verbsOn(cr, '', 'events'), ['create', 'patch']);
      assert.deepEqual(verbsOn(cr, 'batch', 'jobs'), ['get', 'list', 'patch', 'watch']);
      assert.deepEqual(verbsOn(cr, 'coordination.k8s.io', 'leases'), ['create']);
      const namedLease = cr.find((r) => r.resources.includes('leases') && r.resourceNames);
      assert.deepEqual(namedLease, {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: ['cluster-autoscaler'],
        verbs: ['get', 'update'],
      });
      // never: delete nodes, touch secrets, or write workloads
      assert.ok(!verbsOn(cr, '', 'nodes').includes('delete'));
      assert.ok(!verbsOn(cr, '', 'nodes').includes('create'));
      assert.deepEqual(verbsOn(cr, '', 'secrets'), []);
      assert.deepEqual(verbsOn(cr, 'apps', 'deployments'), []);
      assert.deepEqual(verbsOn(cr, '', 'configmaps'), []);
    });

    it('has the same number of rules as upstream for 1.33 (14 minus resource.k8s.io)', () => {
      // GIVEN / WHEN
      const { objects } = synthAutoscaler();
      // THEN
      assert.equal(clusterRules(objects).length, 13);
      assert.deepEqual(verbsOn(clusterRules(objects), 'resource.k8s.io', 'resourceslices'), []);
    });

    it('adds read access to DRA objects from 1.35, where DRA is always on', () => {
      // GIVEN / WHEN
      const { objects } = synthAutoscaler({}, KubernetesVersion.V1_35);
      // THEN
      const cr = clusterRules(objects);
      assert.equal(cr.length, 14);
      for (const resource of ['deviceclasses', 'resourceslices', 'resourceclaims']) {
        assert.deepEqual(verbsOn(cr, 'resource.k8s.io', resource), ['get', 'list', 'watch']);
      }
    });

    it('limits the Role to the status ConfigMap without the priority expander', () => {
      // GIVEN / WHEN
      const { objects } = synthAutoscaler();
      // THEN
      assert.deepEqual(roleRules(objects), [
        { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
        {
          apiGroups: [''],
          resources: ['configmaps'],
          resourceNames: ['cluster-autoscaler-status'],
          verbs: ['delete', 'get', 'update'],
        },
      ]);
    });

    it('lets the autoscaler watch its priority-expander ConfigMap when that expander is used', () => {
      // GIVEN / WHEN
      const { objects } = synthAutoscaler({ profile: { expander: Expander.priority({ 10: ['.*'] }) } });
      // THEN
      assert.deepEqual(roleRules(objects), [
        { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'list', 'watch'] },
        {
          apiGroups: [''],
          resources: ['configmaps'],
          resourceNames: ['cluster-autoscaler-status', 'cluster-autoscaler-priority-expander'],
          verbs: ['delete', 'get', 'update', 'watch'],
        },
      ]);
    });
  });

  describe('capacity buffers', () => {
    const BUFFER_FLAGS = [
      '--capacity-buffer-controller-enabled=true',
      '--capacity-buffer-pod-injection-enabled=true',
      '--kube-api-content-type=application/json',
    ];

    it('adds no capacity-buffer flags by default, even where the controller exists', () => {
      // GIVEN / WHEN
      const { autoscaler } = synthAutoscaler({}, KubernetesVersion.V1_35);
      // THEN
      assert.equal(autoscaler.capacityBuffers, false);
      assert.deepEqual(
        autoscaler.flags.filter((f) => f.startsWith('--capacity-buffer') || f.startsWith('--kube-api')),
        [],
      );
    });

    it('enables the controller and pod injection, with JSON for the CRD client, on 1.34', async () => {
      // GIVEN / WHEN
      const { objects, autoscaler } = synthAutoscaler({ capacityBuffers: true }, KubernetesVersion.V1_34);
      // THEN
      assert.equal(autoscaler.capacityBuffers, true);
      for (const flag of BUFFER_FLAGS) assert.ok(autoscaler.flags.includes(flag), `missing ${flag}`);
      assert.ok(!autoscaler.flags.some((f) => f.startsWith('--capacity-buffer-pod-dry-run')));
      assert.deepEqual([...autoscaler.flags], [...autoscaler.flags].sort());
      assert.deepEqual(container(objects).command, ['/cluster-autoscaler', ...autoscaler.flags]);
      assert.deepEqual(await validateAll(objects), []);
    });

    it('turns the dry-run pod resolution off from 1.36 instead of granting pod creation', () => {
      // GIVEN / WHEN
      const { autoscaler } = synthAutoscaler({ capacityBuffers: true }, KubernetesVersion.V1_36);
      // THEN
      for (const flag of [...BUFFER_FLAGS, '--capacity-buffer-pod-dry-run-enabled=false']) {
        assert.ok(autoscaler.flags.includes(flag), `missing ${flag}`);
      }
    });

    it('grants no capacity-buffer RBAC by default', () => {
      // GIVEN / WHEN
      const cr = clusterRules(synthAutoscaler({}, KubernetesVersion.V1_36).objects);
      // THEN
      assert.deepEqual(verbsOn(cr, 'autoscaling.x-k8s.io', 'capacitybuffers'), []);
      assert.deepEqual(verbsOn(cr, 'autoscaling.x-k8s.io', 'capacitybuffers/status'), []);
      assert.deepEqual(verbsOn(cr, '', 'podtemplates'), []);
      assert.deepEqual(verbsOn(cr, 'apps', 'deployments'), []);
      assert.deepEqual(verbsOn(cr, '', 'resourcequotas'), []);
    });

    it('lets the controller read buffers and their templates and write buffer status on 1.34', async () => {
      // GIVEN / WHEN
      const { objects } = synthAutoscaler({ capacityBuffers: true }, KubernetesVersion.V1_34);
      const cr = clusterRules(objects);
      // THEN
      assert.equal(cr.length, 13 + 4);
      assert.deepEqual(verbsOn(cr, 'autoscaling.x-k8s.io', 'capacitybuffers'), ['get', 'list', 'watch']);
      assert.deepEqual(verbsOn(cr, 'autoscaling.x-k8s.io', 'capacitybuffers/status'), ['patch', 'update']);
      assert.deepEqual(verbsOn(cr, '', 'podtemplates'), ['get', 'list', 'watch']);
      assert.deepEqual(verbsOn(cr, 'apps', 'deployments'), ['get', 'list', 'watch']);
      assert.deepEqual(verbsOn(cr, '', 'resourcequotas'), []);
      assert.deepEqual(await validateAll(objects), []);
    });

    it('adds resource-quota reads from 1.35 and PodTemplate writes from 1.36', () => {
      // GIVEN / WHEN
      const v135 = clusterRules(synthAutoscaler({ capacityBuffers: true }, KubernetesVersion.V1_35).objects);
      const v136 = clusterRules(synthAutoscaler({ capacityBuffers: true }, KubernetesVersion.V1_36).objects);
      // THEN
      assert.deepEqual(verbsOn(v135, '', 'resourcequotas'), ['get', 'list', 'watch']);
      assert.deepEqual(verbsOn(v135, '', 'podtemplates'), ['get', 'list', 'watch']);
      assert.deepEqual(verbsOn(v136, '', 'resourcequotas'), ['get', 'list', 'watch']);
      assert.deepEqual(verbsOn(v136, '', 'podtemplates'), [
        'create',
        'get',
        'list',
        'patch',
        'update',
        'watch',
      ]);
    });

    it('still uses no wildcards, creates no pods and writes no buffers or workloads', () => {
      // GIVEN / WHEN
      const { objects } = synthAutoscaler({ capacityBuffers: true }, KubernetesVersion.V1_36);
      const cr = clusterRules(objects);
      // THEN
      for (const rule of [...cr, ...roleRules(objects)]) {
        assert.ok(!rule.verbs.includes('*'), JSON.stringify(rule));
        assert.ok(!rule.resources.includes('*'), JSON.stringify(rule));
        assert.ok(!rule.apiGroups.includes('*'), JSON.stringify(rule));
      }
      assert.ok(!verbsOn(cr, '', 'pods').includes('create'));
      assert.deepEqual(verbsOn(cr, 'autoscaling.x-k8s.io', 'capacitybuffers'), ['get', 'list', 'watch']);
      assert.deepEqual(verbsOn(cr, 'apps', 'deployments'), ['get', 'list', 'watch']);
      assert.deepEqual(verbsOn(cr, '', 'secrets'), []);
    });

    it('is refused below Kubernetes 1.34, naming capacityBuffers and the version', () => {
      // GIVEN / WHEN / THEN
      assertPropError(
        () => synthAutoscaler({ capacityBuffers: true }, KubernetesVersion.V1_33),
        'capacityBuffers',
        'needs Kubernetes >= 1.34 (the cluster runs 1.33)',
      );
      assertPropError(
        () =>
          new ClusterAutoscaler(Testing.chart(), 'ca', {
            ...BASE,
            clusterName: 'standalone',
            kubernetesVersion: KubernetesVersion.V1_29,
            capacityBuffers: true,
          }),
        'capacityBuffers',
        '1.29',
      );
    });

    it('accepts capacityBuffers: false on any version', () => {
      // GIVEN / WHEN / THEN
      assert.equal(synthAutoscaler({ capacityBuffers: false }).autoscaler.capacityBuffers, false);
    });
  });

  describe('ServiceAccount', () => {
    it('carries the IRSA role annotation', () => {
      // GIVEN
      const roleArn = 'arn:aws:iam::123456789012:role/prod-cluster-autoscaler';
      // WHEN
      const { objects } = synthAutoscaler({
        serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': roleArn },
      });
      // THEN
      const sa = only(objects, 'ServiceAccount') as Json;
      assert.deepEqual(sa.metadata.annotations, { 'eks.amazonaws.com/role-arn': roleArn });
      assert.equal(podSpec(objects).serviceAccountName, 'cluster-autoscaler');
    });

    it('refuses an annotation key Kubernetes rejects', () => {
      assertPropError(
        () => synthAutoscaler({ serviceAccountAnnotations: { 'bad key': 'x' } }),
        'serviceAccountAnnotations',
        '"bad key"',
      );
    });

    it('has no annotations by default and does not automount its token for other pods', () => {
      // GIVEN / WHEN
      const { objects } = synthAutoscaler();
      // THEN
      const sa = only(objects, 'ServiceAccount') as Json;
      assert.equal(sa.metadata.annotations, undefined);
      assert.equal(sa.automountServiceAccountToken, false);
    });
  });

  describe('pod', () => {
    it('is system-cluster-critical, tolerates CriticalAddonsOnly and mounts its API token', () => {
      // GIVEN / WHEN
      const spec = podSpec(synthAutoscaler().objects);
      // THEN
      assert.equal(spec.priorityClassName, 'system-cluster-critical');
      assert.deepEqual(spec.tolerations, [{ key: 'CriticalAddonsOnly', operator: 'Exists' }]);
      assert.equal(spec.automountServiceAccountToken, true);
    });

    it('runs with the restricted pod security settings', () => {
      // GIVEN / WHEN
      const { objects } = synthAutoscaler();
      const spec = podSpec(objects);
      const c = container(objects);
      // THEN
      assert.equal(spec.securityContext.runAsNonRoot, true);
      assert.deepEqual(spec.securityContext.seccompProfile, { type: 'RuntimeDefault' });
      assert.equal(c.securityContext.allowPrivilegeEscalation, false);
      assert.equal(c.securityContext.privileged, false);
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.equal(c.securityContext.runAsNonRoot, true);
      assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
      assert.equal(spec.hostNetwork, undefined);
    });

    it('probes /health-check and exposes metrics on port 8085', () => {
      // GIVEN / WHEN
      const c = container(synthAutoscaler().objects);
      // THEN
      assert.deepEqual(c.ports, [{ name: 'http', containerPort: 8085, protocol: 'TCP' }]);
      assert.deepEqual(c.livenessProbe.httpGet, { path: '/health-check', port: 'http' });
      assert.deepEqual(c.readinessProbe.httpGet, { path: '/health-check', port: 'http' });
    });

    it('requests 100m CPU and 600Mi memory by default, overridable', () => {
      // GIVEN / WHEN
      const byDefault = container(synthAutoscaler().objects);
      const custom = container(
        synthAutoscaler({
          resources: { cpu: { request: Cpu.millis(250) }, memory: { request: Size.gibibytes(1) } },
        }).objects,
      );
      // THEN
      assert.deepEqual(byDefault.resources.requests, { cpu: '100m', memory: '600Mi' });
      assert.equal(byDefault.resources.limits.memory, '600Mi');
      assert.deepEqual(custom.resources.requests, { cpu: '250m', memory: '1024Mi' });
    });

    it('sets AWS_REGION from the cloud provider', () => {
      // GIVEN / WHEN
      const withRegion = container(synthAutoscaler().objects);
      const without = container(synthAutoscaler({ cloudProvider: CloudProvider.aws() }).objects);
      // THEN
      assert.deepEqual(withRegion.env, [{ name: 'AWS_REGION', value: 'eu-west-1' }]);
      assert.deepEqual(without.env ?? [], []);
    });

    it('refuses a malformed region', () => {
      // GIVEN / WHEN / THEN
      assertPropError(() => CloudProvider.aws({ region: 'Europe' }), 'cloudProvider.region', '"Europe"');
      // a GovCloud or ISO infix after another prefix is no region of any partition
      for (const region of ['eu-gov-west-1', 'eu-iso-west-1']) {
        assertPropError(() => CloudProvider.aws({ region }), 'cloudProvider.region', `"${region}"`);
      }
    });

    it('takes the region names of every partition, the European Sovereign Cloud included', () => {
      for (const region of ['cn-north-1', 'us-gov-west-1', 'us-isob-east-1', 'eusc-de-east-1']) {
        // GIVEN a cluster in that region  WHEN synthesized
        const env = container(synthAutoscaler({ cloudProvider: CloudProvider.aws({ region }) }).objects).env;
        // THEN the autoscaler gets it as AWS_REGION
        assert.deepEqual(env, [{ name: 'AWS_REGION', value: region }]);
      }
    });

    it('spreads replicas over zones and hosts and stays off spot nodes', () => {
      // GIVEN / WHEN
      const spec = podSpec(synthAutoscaler({ replicas: 2 }).objects);
      // THEN
      assert.deepEqual(
        spec.topologySpreadConstraints.map((t: Json) => t.topologyKey),
        ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'],
      );
      const terms =
        spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
      assert.deepEqual(terms[0].matchExpressions[0], {
        key: 'eks.amazonaws.com/capacityType',
        operator: 'NotIn',
        values: ['SPOT'],
      });
    });

    it('defaults to one replica (leader election) and validates replicas', () => {
      // GIVEN / WHEN / THEN
      assert.equal((only(synthAutoscaler().objects, 'Deployment').spec as Json).replicas, 1);
      assert.equal((only(synthAutoscaler({ replicas: 2 }).objects, 'Deployment').spec as Json).replicas, 2);
      assertPropError(() => synthAutoscaler({ replicas: 0 }), 'replicas', '0');
    });
  });

  it('has a PodDisruptionBudget selecting the autoscaler pods', () => {
    // GIVEN / WHEN
    const { objects } = synthAutoscaler();
    // THEN
    const pdb = only(objects, 'PodDisruptionBudget') as Json;
    const deployment = only(objects, 'Deployment') as Json;
    assert.equal(pdb.spec.maxUnavailable, 1);
    assert.deepEqual(pdb.spec.selector, deployment.spec.selector);
    for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels)) {
      assert.equal(deployment.spec.template.metadata.labels[k], v);
    }
  });

  describe('priority expander', () => {
    it('writes the priorities ConfigMap and selects the chained expander', async () => {
      // GIVEN
      const expander = Expander.priority({
        50: ['.*on-demand.*'],
        10: ['.*spot.*', '^eks-general-.*$'],
      }).then(Expander.leastWaste());
      // WHEN
      const { objects, autoscaler } = synthAutoscaler({ profile: { expander } });
      // THEN
      assert.ok(autoscaler.flags.includes('--expander=priority,least-waste'));
      const cm = only(objects, 'ConfigMap', 'cluster-autoscaler-priority-expander') as Json;
      assert.equal(cm.metadata.namespace, 'kube-system');
      assert.deepEqual(Object.keys(cm.data), ['priorities']);
      assert.deepEqual(parse(cm.data.priorities), {
        10: ['.*spot.*', '^eks-general-.*$'],
        50: ['.*on-demand.*'],
      });
      assert.deepEqual(await validateAll(objects), []);
    });

    it('writes no ConfigMap without the priority expander', () => {
      // GIVEN / WHEN
      const { objects } = synthAutoscaler({ profile: { expander: Expander.random() } });
      // THEN
      assert.equal(objects.filter((o) => o.kind === 'ConfigMap').length, 0);
    });

    it('refuses invalid tiers, naming the tier', () => {
      // GIVEN / WHEN / THEN
      assertPropError(
        () => synthAutoscaler({ profile: { expander: Expander.priority({ 10: ['[a-'] }) } }),
        'profile.expander.priorities[10][0]',
        '"[a-"',
      );
      assertPropError(
        () => synthAutoscaler({ profile: { expander: Expander.priority({ 10: [] }) } }),
        'profile.expander.priorities[10]',
        '[]',
      );
    });
  });

  describe('metrics', () => {
    const ingressOf = (objects: KubeObject[]): Json => (only(objects, 'NetworkPolicy') as Json).spec;
    const fromNamespaces = (rule: Json): string[] =>
      rule.from.map((p: Json) => p.namespaceSelector.matchLabels['kubernetes.io/metadata.name']);

    it('lets only the monitoring namespace reach port 8085 by default, and writes no PodMonitor', () => {
      // GIVEN / WHEN the defaults (MetricsScraping.collector())
      const { objects, autoscaler } = synthAutoscaler();
      // THEN one ingress rule: from `monitoring`, on the metrics port, on the autoscaler's pods only
      const policy = ingressOf(objects);
      assert.deepEqual(policy.podSelector.matchLabels, { 'app.kubernetes.io/name': 'cluster-autoscaler' });
      assert.deepEqual(policy.policyTypes, ['Ingress']);
      assert.equal(policy.ingress.length, 1);
      assert.deepEqual(fromNamespaces(policy.ingress[0]), ['monitoring']);
      assert.deepEqual(policy.ingress[0].ports, [{ protocol: 'TCP', port: 8085 }]);
      assert.equal(autoscaler.monitoring.kind, 'collector');
      assert.equal(objects.filter((o) => MONITOR_KINDS.has(o.kind)).length, 0);
    });

    it('writes a schema-valid PodMonitor on the `http` port for a Prometheus operator, labelled for its selector', async () => {
      // GIVEN a kube-prometheus-stack whose Prometheus selects `release: kps`, scraping every 15 s
      const monitoring = MetricsScraping.prometheusOperator({
        labels: { release: 'kps' },
        interval: Duration.seconds(15),
        namespaces: ['observability'],
      });
      // WHEN
      const { objects } = synthAutoscaler({ monitoring });
      // THEN the PodMonitor scrapes /metrics on the container port the Deployment names `http` (8085)
      const monitor = only(objects, 'PodMonitor', 'cluster-autoscaler') as Json;
      assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
      assert.equal(monitor.metadata.namespace, 'kube-system');
      assert.equal(monitor.metadata.labels.release, 'kps');
      assert.deepEqual(
        monitor.spec.selector.matchLabels,
        (only(objects, 'Deployment') as Json).spec.selector.matchLabels,
      );
      assert.deepEqual(monitor.spec.namespaceSelector, { matchNames: ['kube-system'] });
      assert.equal(monitor.spec.jobLabel, 'app.kubernetes.io/name');
      assert.deepEqual(monitor.spec.podMetricsEndpoints, [
        { port: 'http', path: '/metrics', interval: '15s', scheme: 'http' },
      ]);
      const port = (container(objects).ports as Json[]).find((p) => p.name === 'http');
      assert.equal(port.containerPort, 8085);
      // AND the scraper's own namespace is the one let in
      assert.deepEqual(fromNamespaces(ingressOf(objects).ingress[0]), ['observability']);
      assert.deepEqual(monitorErrors(objects), []);
      assert.deepEqual(await validateAll(objects.filter((o) => !MONITOR_KINDS.has(o.kind))), []);
    });

    it('writes the AKS managed Prometheus flavour with its label limits, and lets kube-system in', () => {
      // GIVEN / WHEN
      const { objects } = synthAutoscaler({ monitoring: MetricsScraping.azureManagedPrometheus() });
      // THEN
      const monitor = only(objects, 'PodMonitor') as Json;
      assert.equal(monitor.apiVersion, 'azmonitoring.coreos.com/v1');
      assert.equal(monitor.spec.labelLimit, 63);
      assert.deepEqual(fromNamespaces(ingressOf(objects).ingress[0]), ['kube-system']);
      assert.deepEqual(monitorErrors(objects), []);
    });

    it('lets nobody in with MetricsScraping.none() (probes come from the node)', () => {
      // GIVEN / WHEN
      const { objects } = synthAutoscaler({ monitoring: MetricsScraping.none() });
      // THEN the policy still selects the pods, with no ingress rule: all connections refused
      const policy = ingressOf(objects);
      assert.deepEqual(policy.policyTypes, ['Ingress']);
      assert.deepEqual(policy.ingress ?? [], []);
      assert.equal(objects.filter((o) => MONITOR_KINDS.has(o.kind)).length, 0);
    });

    it('refuses a scraper namespace that is not a DNS label, or none, naming the prop', () => {
      // GIVEN / WHEN / THEN
      assertPropError(
        () => synthAutoscaler({ monitoring: MetricsScraping.collector({ namespaces: ['Monitoring'] }) }),
        'monitoring.namespaces[0]',
        '"Monitoring"',
      );
      assertPropError(
        () => synthAutoscaler({ monitoring: MetricsScraping.collector({ namespaces: [] }) }),
        'monitoring.namespaces',
        '[]',
      );
      assertPropError(
        () =>
          synthAutoscaler({
            monitoring: MetricsScraping.prometheusOperator({ interval: Duration.millis(1500) }),
          }),
        'monitoring.interval',
        '1.5',
      );
    });
  });
});
