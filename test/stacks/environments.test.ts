// Every object of every environment validates against the official schemas, and the environments
// differ in substance, not only in names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENVIRONMENTS } from '../../stacks/environments.js';
import { synthEnvironment } from '../../stacks/synth-environment.js';
import { validateAll } from '../support/validate.js';

describe('environment table', () => {
  it('has dev, staging and prod', () => {
    assert.deepEqual(
      ENVIRONMENTS.map((e) => e.name),
      ['dev', 'staging', 'prod'],
    );
  });

  for (const env of ENVIRONMENTS) {
    it(`${env.name}: every synthesized object validates against its schema`, async () => {
      const files = synthEnvironment(env);
      const objects = files.flatMap((f) => [...f.objects]);
      assert.ok(objects.length > 20, `${env.name} synthesized only ${objects.length} objects`);
      assert.deepEqual(await validateAll(objects), []);
    });

    it(`${env.name}: writes one file per chart under <cluster>/`, () => {
      const paths = synthEnvironment(env).map((f) => f.path);
      for (const cluster of env.clusters) {
        assert.ok(
          paths.some((p) => p.startsWith(`${cluster.name}/tenant-`)),
          `no tenant chart for ${cluster.name}`,
        );
      }
      assert.equal(new Set(paths).size, paths.length);
      assert.ok(
        paths.every((p) => /^[a-z0-9-]+\/[a-z0-9-]+\.yaml$/.test(p)),
        paths.join(', '),
      );
    });
  }

  it('environments differ in sizes, replicas, spot share and retention', () => {
    const [dev, staging, prod] = ENVIRONMENTS;
    assert.ok(dev && staging && prod);
    const maxNodes = (e: typeof dev) =>
      Math.max(...e.clusters.flatMap((c) => c.nodePools.map((p) => p.maxSize)));
    assert.ok(maxNodes(dev) < maxNodes(staging) && maxNodes(staging) < maxNodes(prod));
    const maxReplicas = (e: typeof dev) =>
      Math.max(
        ...e.clusters.flatMap((c) => c.tenants.flatMap((t) => t.workloads.map((w) => w.replicas.max))),
      );
    assert.ok(maxReplicas(dev) < maxReplicas(prod));
    assert.ok(dev.logRetentionDays < prod.logRetentionDays);
    assert.ok(dev.metricsHistoryDays <= prod.metricsHistoryDays);
    // Spot share: the on-demand share above base of mixed pools grows towards prod.
    const onDemandShare = (e: typeof dev) =>
      Math.max(
        -1,
        ...e.clusters.flatMap((c) => c.nodePools.map((p) => p.mixed?.onDemandPercentageAboveBase ?? -1)),
      );
    assert.ok(onDemandShare(dev) < onDemandShare(prod), 'prod should keep more on-demand than dev');
  });

  it('renders what each environment declares: GitOps add-ons, headroom, the autoscaler per cloud', () => {
    const kinds = (envName: string, cluster: string) =>
      synthEnvironment(ENVIRONMENTS.find((e) => e.name === envName) as (typeof ENVIRONMENTS)[number])
        .filter((f) => f.path.startsWith(`${cluster}/`))
        .flatMap((f) => f.objects.map((o) => `${o.kind}/${o.metadata?.name}`));
    // dev: Flux installs KEDA and metrics-server; no headroom.
    assert.ok(kinds('dev', 'dev-use1').includes('HelmRelease/keda'));
    assert.ok(!kinds('dev', 'dev-use1').includes('PriorityClass/elasticai-headroom'));
    // staging EKS: Argo CD applications and one headroom pod.
    assert.ok(kinds('staging', 'staging-use1').includes('Application/keda'));
    assert.ok(kinds('staging', 'staging-use1').includes('Deployment/headroom'));
    // prod: headroom on both clouds; cluster-autoscaler only on EKS (AKS runs a managed one).
    assert.ok(kinds('prod', 'prod-use1').includes('ScaledObject/headroom'));
    assert.ok(kinds('prod', 'prod-use1').includes('Deployment/cluster-autoscaler'));
    assert.ok(!kinds('prod', 'prod-weu').includes('Deployment/cluster-autoscaler'));
    assert.ok(kinds('prod', 'prod-weu').includes('Deployment/headroom'));
  });

  it('declares VPA support exactly where something installs it', () => {
    for (const env of ENVIRONMENTS) {
      for (const cluster of env.clusters) {
        const installedByGitOps = cluster.gitopsAddons?.verticalPodAutoscaler?.enabled === true;
        // AKS: the Pulumi stack enables the managed VPA add-on from this flag.
        const expected = installedByGitOps || cluster.cloud === 'azure';
        assert.equal(cluster.verticalPodAutoscaler ?? false, expected, `${env.name}/${cluster.name}`);
      }
    }
  });
});
