import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  Tenant,
  TenantEgress,
  TenantIngress,
  TenantPort,
  type TenantProps,
} from '../../constructs/k8s/tenant.js';
import { only, synth, testChart } from '../support/chart.js';
import { validateAll, type KubeObject } from '../support/validate.js';

const ENTRA_GROUP = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';

function tenantObjects(props: Partial<TenantProps> = {}): KubeObject[] {
  const chart = testChart();
  new Tenant(chart, 'shop', { name: 'shop', groups: [ENTRA_GROUP], ...props });
  return synth(chart);
}

interface PolicySpec {
  podSelector: Record<string, unknown>;
  policyTypes: string[];
  ingress?: { from?: Record<string, unknown>[]; ports?: { protocol: string; port: number }[] }[];
  egress?: { to?: Record<string, unknown>[]; ports?: { protocol: string; port: number }[] }[];
}

function policy(objects: KubeObject[], name: string): PolicySpec {
  return only(objects, 'NetworkPolicy', name).spec as PolicySpec;
}

describe('Tenant', () => {
  it('synthesizes schema-valid objects, all in its namespace', async () => {
    // GIVEN a tenant with every optional network rule
    const objects = tenantObjects({
      ingress: [TenantIngress.fromNamespace('ingress-nginx', [TenantPort.tcp(8080)])],
      egress: [TenantEgress.toCidr('10.20.0.0/16', [TenantPort.tcp(5432)])],
      kubernetesApi: { cidrs: ['172.20.0.1/32'] },
    });
    // THEN every object validates and every namespaced object sits in the tenant namespace
    assert.deepEqual(await validateAll(objects), []);
    for (const o of objects.filter((x) => x.kind !== 'Namespace')) {
      assert.equal(o.metadata?.namespace, 'shop', `${o.kind} ${o.metadata?.name}`);
    }
  });

  it('labels the namespace for the restricted Pod Security Standard and the tenant', () => {
    // GIVEN / WHEN
    const ns = only(tenantObjects(), 'Namespace', 'shop');
    // THEN
    const labels = ns.metadata?.labels as Record<string, string>;
    assert.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted');
    assert.equal(labels['pod-security.kubernetes.io/warn'], 'restricted');
    assert.equal(labels['pod-security.kubernetes.io/audit'], 'restricted');
    assert.equal(labels['elasticai.io/tenant'], 'shop');
  });

  it('denies all ingress and egress by default', () => {
    // GIVEN / WHEN
    const spec = policy(tenantObjects(), 'default-deny-all');
    // THEN it selects every pod, covers both directions and allows nothing
    assert.deepEqual(spec.podSelector, {});
    assert.deepEqual(spec.policyTypes, ['Ingress', 'Egress']);
    assert.equal(spec.ingress, undefined);
    assert.equal(spec.egress, undefined);
  });

  it('allows DNS to kube-dns in kube-system over UDP and TCP 53', () => {
    // GIVEN / WHEN
    const spec = policy(tenantObjects(), 'allow-dns');
    // THEN
    assert.deepEqual(spec.policyTypes, ['Egress']);
    assert.deepEqual(spec.egress, [
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
    ]);
  });

  it('allows traffic within the namespace unless turned off', () => {
    // GIVEN the default, and a tenant that turns it off
    const on = policy(tenantObjects(), 'allow-same-namespace');
    const off = tenantObjects({ allowWithinNamespace: false });
    // THEN
    assert.deepEqual(on.ingress, [{ from: [{ podSelector: {} }] }]);
    assert.deepEqual(on.egress, [{ to: [{ podSelector: {} }] }]);
    assert.equal(off.filter((o) => o.metadata?.name === 'allow-same-namespace').length, 0);
  });

  it('adds no ingress, egress or API allows unless asked', () => {
    // GIVEN / WHEN
    const names = tenantObjects()
      .filter((o) => o.kind === 'NetworkPolicy')
      .map((o) => o.metadata?.name)
      .sort();
    // THEN
    assert.deepEqual(names, ['allow-dns', 'allow-same-namespace', 'default-deny-all']);
  });

  it('allows ingress from named namespaces on the given ports', () => {
    // GIVEN
    const objects = tenantObjects({
      ingress: [
        TenantIngress.fromNamespace('ingress-nginx', [TenantPort.tcp(8080)]),
        TenantIngress.fromNamespace('monitoring'),
      ],
    });
    // WHEN
    const spec = policy(objects, 'allow-ingress');
    // THEN
    assert.deepEqual(spec.policyTypes, ['Ingress']);
    assert.deepEqual(spec.ingress, [
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }],
        ports: [{ protocol: 'TCP', port: 8080 }],
      },
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] },
    ]);
  });

  it('allows egress to CIDRs on the given ports', () => {
    // GIVEN
    const objects = tenantObjects({
      egress: [TenantEgress.toCidr('10.20.0.0/16', [TenantPort.tcp(5432)], ['10.20.9.0/24'])],
    });
    // WHEN
    const spec = policy(objects, 'allow-egress');
    // THEN
    assert.deepEqual(spec.egress, [
      {
        to: [{ ipBlock: { cidr: '10.20.0.0/16', except: ['10.20.9.0/24'] } }],
        ports: [{ protocol: 'TCP', port: 5432 }],
      },
    ]);
  });

  it('allows egress to the Kubernetes API only when asked, on 443 by default', () => {
    // GIVEN
    const objects = tenantObjects({ kubernetesApi: { cidrs: ['172.20.0.1/32'] } });
    // WHEN
    const spec = policy(objects, 'allow-kubernetes-api');
    // THEN
    assert.deepEqual(spec.egress, [
      { to: [{ ipBlock: { cidr: '172.20.0.1/32' } }], ports: [{ protocol: 'TCP', port: 443 }] },
    ]);
  });

  it('sets a quota with load balancers and node ports at 0 by default', () => {
    // GIVEN / WHEN
    const hard = (
      only(tenantObjects(), 'ResourceQuota', 'tenant-quota').spec as { hard: Record<string, unknown> }
    ).hard;
    // THEN
    assert.equal(hard['services.loadbalancers'], '0');
    assert.equal(hard['services.nodeports'], '0');
    assert.equal(hard['requests.cpu'], '4');
    assert.equal(hard['limits.memory'], '16Gi');
  });

  it('renders typed quota values', () => {
    // GIVEN
    const objects = tenantObjects({
      quota: {
        cpu: { requests: Cpu.millis(2500), limits: Cpu.units(5) },
        memory: { requests: Size.mebibytes(3072), limits: Size.gibibytes(6) },
        pods: 30,
        loadBalancers: 1,
      },
    });
    // WHEN
    const hard = (only(objects, 'ResourceQuota').spec as { hard: Record<string, unknown> }).hard;
    // THEN
    assert.equal(hard['requests.cpu'], '2500m');
    assert.equal(hard['limits.cpu'], '5');
    assert.equal(hard['requests.memory'], '3Gi');
    assert.equal(hard['limits.memory'], '6Gi');
    assert.equal(hard.pods, '30');
    assert.equal(hard['services.loadbalancers'], '1');
  });

  it('gives containers default requests, limits and a max', () => {
    // GIVEN / WHEN
    const spec = only(tenantObjects(), 'LimitRange', 'tenant-limits').spec as {
      limits: Record<string, unknown>[];
    };
    // THEN
    assert.deepEqual(spec.limits, [
      {
        type: 'Container',
        defaultRequest: { cpu: '100m', memory: '128Mi' },
        default: { cpu: '500m', memory: '512Mi' },
        max: { cpu: '4', memory: '8Gi' },
      },
    ]);
  });

  it('grants the groups a developer Role with no wildcards and no Secrets', () => {
    // GIVEN / WHEN
    const objects = tenantObjects();
    const role = only(objects, 'Role', 'tenant-developer') as KubeObject & {
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    };
    const binding = only(objects, 'RoleBinding', 'tenant-developers') as KubeObject & {
      roleRef: unknown;
      subjects: unknown[];
    };
    // THEN
    for (const rule of role.rules) {
      assert.ok(!rule.verbs.includes('*'), JSON.stringify(rule));
      assert.ok(!rule.resources.includes('*'), JSON.stringify(rule));
      assert.ok(!rule.apiGroups.includes('*'), JSON.stringify(rule));
      assert.ok(!rule.resources.includes('secrets'), JSON.stringify(rule));
      assert.ok(
        !rule.verbs.includes('escalate') &&
          !rule.verbs.includes('bind') &&
          !rule.verbs.includes('impersonate'),
      );
    }
    const canWrite = (group: string, resource: string) =>
      role.rules.some(
        (r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes('patch'),
      );
    assert.ok(canWrite('apps', 'deployments'));
    assert.ok(canWrite('', 'services'));
    assert.ok(canWrite('', 'configmaps'));
    assert.ok(canWrite('keda.sh', 'scaledobjects'));
    assert.ok(!canWrite('', 'pods'));
    assert.ok(!canWrite('rbac.authorization.k8s.io', 'roles'));
    assert.deepEqual(binding.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'tenant-developer',
    });
    assert.deepEqual(binding.subjects, [
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: ENTRA_GROUP },
    ]);
  });

  it('lets the role read Secrets only when allowSecretsRead is set', () => {
    // GIVEN
    const role = only(tenantObjects({ allowSecretsRead: true }), 'Role') as KubeObject & {
      rules: { resources: string[]; verbs: string[] }[];
    };
    // THEN reading is allowed, writing is not
    const secrets = role.rules.filter((r) => r.resources.includes('secrets'));
    assert.deepEqual(
      secrets.map((r) => r.verbs),
      [['get', 'list', 'watch']],
    );
  });

  it('is found by Tenant.of from constructs created inside it', () => {
    // GIVEN a tenant with a nested construct, and a construct outside it
    const chart = testChart();
    const tenant = new Tenant(chart, 'shop', { name: 'shop', groups: [ENTRA_GROUP] });
    const inner = new Construct(new Construct(tenant, 'api'), 'scaler');
    const outside = new Construct(chart, 'other');
    // THEN
    assert.equal(Tenant.of(inner), tenant);
    assert.equal(Tenant.of(tenant), tenant);
    assert.equal(Tenant.of(inner)?.namespace, 'shop');
    assert.equal(Tenant.of(outside), undefined);
  });

  it('refuses names that are not DNS labels or are system namespaces', () => {
    for (const name of ['Shop', 'shop_1', 'kube-system', 'kube-public', 'default']) {
      assert.throws(
        () => new Tenant(testChart(), 't', { name, groups: [ENTRA_GROUP] }),
        (e: Error) => e.message.startsWith('name:') && e.message.includes(JSON.stringify(name)),
        name,
      );
    }
  });

  it('refuses an empty group list', () => {
    assert.throws(
      () => new Tenant(testChart(), 't', { name: 'shop', groups: [] }),
      /^PropError: groups: must not be empty/,
    );
  });

  it('refuses non-positive quota values, naming the prop and the value', () => {
    // GIVEN / WHEN / THEN
    assert.throws(() => tenantObjects({ quota: { pods: 0 } }), /quota\.pods: must be >= 1 \(got 0\)/);
    assert.throws(
      () => tenantObjects({ quota: { pods: 2.5 } }),
      /quota\.pods: must be an integer \(got 2\.5\)/,
    );
    assert.throws(
      () => tenantObjects({ quota: { cpu: { requests: Cpu.millis(0) } } }),
      /quota\.cpu\.requests: must be > 0 \(got "0m"\)/,
    );
    assert.throws(
      () => tenantObjects({ quota: { memory: { limits: Size.mebibytes(0) } } }),
      /quota\.memory\.limits: must be > 0 \(got "0Mi"\)/,
    );
    assert.throws(
      () => tenantObjects({ quota: { loadBalancers: -1 } }),
      /quota\.loadBalancers: must be >= 0 \(got -1\)/,
    );
  });

  it('refuses a namespace label value Kubernetes rejects', () => {
    assert.throws(
      () => tenantObjects({ labels: { team: 'payments team' } }),
      /^PropError: labels\.team: must be a label value .*\(got "payments team"\)$/,
    );
  });

  it('refuses non-finite quota sizes and CPU, naming the prop and the value', () => {
    // GIVEN / WHEN / THEN: "InfinityKi" or "Infinity" would be written as the quota otherwise
    assert.throws(
      () => tenantObjects({ quota: { storage: Size.gibibytes(Infinity) } }),
      /^PropError: quota\.storage: must be a finite size \(got "InfinityGi"\)$/,
    );
    assert.throws(
      () => tenantObjects({ quota: { cpu: { requests: Cpu.units(Infinity) } } }),
      /^PropError: quota\.cpu\.requests: must be a finite CPU amount \(got "Infinity"\)$/,
    );
    assert.throws(
      () => tenantObjects({ quota: { memory: { requests: Size.mebibytes(NaN) } } }),
      /^PropError: quota\.memory\.requests: must be a finite size \(got "NaNMi"\)$/,
    );
  });

  it('refuses quota limits below requests', () => {
    assert.throws(
      () => tenantObjects({ quota: { cpu: { requests: Cpu.units(4), limits: Cpu.units(2) } } }),
      /quota\.cpu\.limits: must be >= quota\.cpu\.requests \(4\) \(got "2"\)/,
    );
  });

  it('refuses container defaults above the max', () => {
    assert.throws(
      () => tenantObjects({ containerLimits: { default: { memory: Size.gibibytes(16) } } }),
      /containerLimits\.max\.memory: must be >= containerLimits\.default\.memory \(16Gi\) \(got "8Gi"\)/,
    );
  });

  it('refuses bad CIDRs and ports in network rules', () => {
    assert.throws(
      () => tenantObjects({ egress: [TenantEgress.toCidr('10.0.0.0/33')] }),
      /egress\[0\]\.cidr: must be an IPv4 or IPv6 CIDR .*\(got "10\.0\.0\.0\/33"\)/,
    );
    assert.throws(
      () => tenantObjects({ ingress: [TenantIngress.fromNamespace('ops', [TenantPort.tcp(70000)])] }),
      /ingress\[0\]\.ports\[0\]: must be between 1 and 65535 \(got 70000\)/,
    );
  });
});
