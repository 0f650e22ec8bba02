// Policy over everything `npm run synth` writes: Pod Security "restricted", resources and probes,
// least-privilege RBAC, default-deny networking per tenant, and no secret values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HEADROOM_COMPONENT_LABEL } from '../../constructs/k8s/headroom.js';
import { ENVIRONMENTS } from '../../stacks/environments.js';
import { synthEnvironment } from '../../stacks/synth-environment.js';
import type { KubeObject } from '../support/validate.js';
import type { Json } from '../support/chart.js';

const ALL: { where: string; obj: KubeObject }[] = ENVIRONMENTS.flatMap((env) =>
  synthEnvironment(env).flatMap((file) =>
    file.objects.map((obj) => ({
      where: `${env.name}/${file.path} ${obj.kind}/${obj.metadata?.name}`,
      obj: obj as KubeObject,
    })),
  ),
);

/** Pod templates of every kind that runs pods, with whether the pods are long-running. */
function podTemplates(obj: Json): { spec: Json; labels: Record<string, string>; longRunning: boolean }[] {
  const t = (template: Json, longRunning: boolean) =>
    template ? [{ spec: template.spec, labels: template.metadata?.labels ?? {}, longRunning }] : [];
  switch (obj.kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
      return t(obj.spec.template, true);
    case 'Job':
      return t(obj.spec.template, false);
    case 'CronJob':
      return t(obj.spec.jobTargetRef?.template ?? obj.spec.jobTemplate.spec.template, false);
    case 'ScaledJob':
      return t(obj.spec.jobTargetRef.template, false);
    case 'PodTemplate':
      return t(obj.template, true);
    default:
      return [];
  }
}

const PODS = ALL.flatMap(({ where, obj }) => podTemplates(obj).map((p) => ({ where, ...p })));

describe('policy over all synthesized output', () => {
  it('finds pods to check (the policy is not vacuous)', () => {
    assert.ok(PODS.length >= 10, `only ${PODS.length} pod templates`);
  });

  it('every pod meets Pod Security "restricted"', () => {
    const failures: string[] = [];
    for (const { where, spec } of PODS) {
      const pod = spec.securityContext ?? {};
      if (spec.hostNetwork || spec.hostPID || spec.hostIPC) failures.push(`${where}: host namespaces`);
      if ((spec.volumes ?? []).some((v: Json) => v.hostPath)) failures.push(`${where}: hostPath volume`);
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        const sc = c.securityContext ?? {};
        const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
        const seccomp = (sc.seccompProfile ?? pod.seccompProfile)?.type;
        if (nonRoot !== true) failures.push(`${where} ${c.name}: runAsNonRoot not true`);
        if ((sc.runAsUser ?? pod.runAsUser) === 0) failures.push(`${where} ${c.name}: runs as UID 0`);
        if (sc.allowPrivilegeEscalation !== false)
          failures.push(`${where} ${c.name}: allowPrivilegeEscalation`);
        if (sc.privileged === true) failures.push(`${where} ${c.name}: privileged`);
        if (JSON.stringify(sc.capabilities?.drop) !== '["ALL"]')
          failures.push(`${where} ${c.name}: capabilities not drop ALL`);
        if ((sc.capabilities?.add ?? []).some((cap: string) => cap !== 'NET_BIND_SERVICE')) {
          failures.push(`${where} ${c.name}: adds capabilities`);
        }
        if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
          failures.push(`${where} ${c.name}: seccomp ${seccomp}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('every container sets cpu/memory requests and limits; long-running ones set probes', () => {
    const failures: string[] = [];
    for (const { where, spec, labels, longRunning } of PODS) {
      // Pause pods of the headroom have no process to probe; they are placeholders to be preempted.
      const isHeadroom = Object.entries(HEADROOM_COMPONENT_LABEL).every(([k, v]) => labels[k] === v);
      for (const c of spec.containers) {
        for (const kind of ['requests', 'limits']) {
          for (const res of ['cpu', 'memory']) {
            if (!c.resources?.[kind]?.[res]) failures.push(`${where} ${c.name}: no ${res} ${kind}`);
          }
        }
        if (longRunning && !isHeadroom && (!c.readinessProbe || !c.livenessProbe)) {
          failures.push(`${where} ${c.name}: missing readiness or liveness probe`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });

  it('RBAC has no wildcard verbs, resources or groups outside the upstream cluster-autoscaler exceptions', () => {
    const failures: string[] = [];
    for (const { where, obj } of ALL) {
      if (obj.kind !== 'Role' && obj.kind !== 'ClusterRole') continue;
      for (const rule of (obj as Json).rules ?? []) {
        for (const field of ['verbs', 'resources', 'apiGroups', 'nonResourceURLs']) {
          if ((rule[field] ?? []).includes('*'))
            failures.push(`${where}: "*" in ${field} ${JSON.stringify(rule)}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });

  it('only pods that call the API server mount a ServiceAccount token, and each one is bound to a role', () => {
    // The platform pieces that talk to the API server (the scale-to-zero resolver watches EndpointSlices
    // and presents its token to the runtime); every other pod runs without a token.
    const callers = new Set(['cluster-autoscaler', 'elasticai-runtime', 'elasticai-resolver']);
    const failures: string[] = [];
    const tokenPods = PODS.filter(({ spec }) => spec.automountServiceAccountToken === true);
    assert.ok(tokenPods.length > 0, 'no pod mounts a token: the check is vacuous');
    for (const { where, spec } of PODS) {
      const sa = spec.serviceAccountName as string | undefined;
      if (spec.automountServiceAccountToken !== true) {
        if (spec.automountServiceAccountToken !== false) failures.push(`${where}: token mount not explicit`);
        continue;
      }
      if (!sa || !callers.has(sa)) failures.push(`${where}: mounts a token as ${sa}`);
      const bound = ALL.some(
        ({ obj }) =>
          (obj.kind === 'RoleBinding' || obj.kind === 'ClusterRoleBinding') &&
          ((obj as Json).subjects ?? []).some((s: Json) => s.kind === 'ServiceAccount' && s.name === sa),
      );
      if (!bound) failures.push(`${where}: ${sa} mounts a token but has no role`);
    }
    assert.deepEqual(failures, []);
  });

  it('every tenant namespace has a default-deny NetworkPolicy for ingress and egress', () => {
    const tenants = ALL.filter(
      ({ obj }) => obj.kind === 'Namespace' && (obj.metadata as Json)?.labels?.['elasticai.io/tenant'],
    );
    assert.ok(tenants.length >= 3, 'expected tenant namespaces in every environment');
    for (const { where, obj } of tenants) {
      const ns = obj.metadata?.name;
      const denyAll = ALL.some(({ obj: p }) => {
        const spec = (p as Json).spec;
        return (
          p.kind === 'NetworkPolicy' &&
          p.metadata?.namespace === ns &&
          Object.keys(spec.podSelector ?? {}).length === 0 &&
          JSON.stringify([...spec.policyTypes].sort()) === '["Egress","Ingress"]' &&
          !spec.ingress?.length &&
          !spec.egress?.length
        );
      });
      assert.ok(denyAll, `${where}: no default-deny NetworkPolicy in namespace ${ns}`);
    }
  });

  it('contains no secret values', () => {
    const failures: string[] = [];
    const SECRET_PATTERNS: [string, RegExp][] = [
      ['AWS access key id', /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
      ['private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
      ['credential in URL', /[a-z]+:\/\/[^/\s:@]+:[^/\s@]+@/i],
      ['Azure storage key', /AccountKey=[A-Za-z0-9+/=]{20,}/],
      ['bearer token', /\bBearer\s+[A-Za-z0-9._-]{20,}/],
    ];
    for (const { where, obj } of ALL) {
      if (obj.kind === 'Secret' && ((obj as Json).data || (obj as Json).stringData))
        failures.push(`${where}: Secret with data`);
      const text = JSON.stringify(obj);
      for (const [what, pattern] of SECRET_PATTERNS)
        if (pattern.test(text)) failures.push(`${where}: ${what}`);
      for (const { spec } of podTemplates(obj)) {
        for (const c of spec.containers) {
          // A credential-named variable may carry a flag or the path of a file mounted from a Secret
          // (ELASTICAI_WEBHOOK_SECRET_FILE), never the credential itself.
          const secretMounts = (c.volumeMounts ?? [])
            .filter((m: Json) => (spec.volumes ?? []).some((v: Json) => v.name === m.name && v.secret))
            .map((m: Json) => m.mountPath as string);
          const harmless = (value: string) =>
            value === 'true' ||
            value === 'false' ||
            secretMounts.some((dir: string) => value === dir || value.startsWith(`${dir}/`));
          for (const e of c.env ?? []) {
            if (
              e.value !== undefined &&
              /PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY/i.test(e.name) &&
              !harmless(e.value)
            ) {
              failures.push(`${where} ${c.name}: env ${e.name} has an inline value`);
            }
          }
        }
      }
    }
    assert.deepEqual(failures, []);
  });
});
