import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration } from 'cdk8s';
import {
  ADDON_CHARTS,
  GitOpsAddons,
  GitOpsEngine,
  KedaPodIdentity,
  type GitOpsAddonsProps,
} from '../../constructs/k8s/gitops-addons.js';
import { MetricsScraping } from '../../constructs/k8s/metrics-scraping.js';
import { only, synth, testChart, type Json } from '../support/chart.js';
import { validateAll, type KubeObject } from '../support/validate.js';
import { MONITOR_KINDS, monitorErrors } from './monitor-schema.js';

/** KEDA's chart values that put the operator's metrics port on its Service. */
const METRICS_ON = { prometheus: { operator: { enabled: true } } };

function addonObjects(props: GitOpsAddonsProps): KubeObject[] {
  const chart = testChart();
  new GitOpsAddons(chart, 'addons', props);
  return synth(chart);
}

interface HelmReleaseSpec {
  interval: string;
  releaseName: string;
  targetNamespace: string;
  chart: { spec: { chart: string; version: string; sourceRef: unknown; interval: string } };
  install: { createNamespace: boolean; crds: string };
  upgrade: { crds: string };
  values: Record<string, unknown>;
}

interface ApplicationSpec {
  project: string;
  source: {
    repoURL: string;
    chart: string;
    targetRevision: string;
    helm: { releaseName: string; valuesObject: unknown };
  };
  destination: { server: string; namespace: string };
  syncPolicy: { automated: { prune: boolean; selfHeal: boolean }; syncOptions: string[] };
}

describe('GitOpsAddons', () => {
  it('pins exact chart versions from the upstream repositories', () => {
    assert.deepEqual(ADDON_CHARTS.keda, {
      chart: 'keda',
      repoUrl: 'https://kedacore.github.io/charts',
      version: '2.20.2',
      appVersion: '2.20.2',
    });
    assert.deepEqual(ADDON_CHARTS.metricsServer, {
      chart: 'metrics-server',
      repoUrl: 'https://kubernetes-sigs.github.io/metrics-server/',
      version: '3.13.1',
      appVersion: '0.8.1',
    });
    assert.deepEqual(ADDON_CHARTS.verticalPodAutoscaler, {
      chart: 'vertical-pod-autoscaler',
      repoUrl: 'https://kubernetes.github.io/autoscaler',
      version: '0.13.0',
      appVersion: '1.8.0',
    });
  });

  describe('with Flux', () => {
    it("emits schema-valid HelmRepository and HelmRelease objects in flux-system, and KEDA's metrics policy", async () => {
      // GIVEN / WHEN
      const objects = addonObjects({ engine: GitOpsEngine.flux() });
      // THEN
      assert.deepEqual(await validateAll(objects), []);
      assert.deepEqual(
        objects.map((o) => `${o.apiVersion} ${o.kind} ${o.metadata?.namespace}/${o.metadata?.name}`).sort(),
        [
          'helm.toolkit.fluxcd.io/v2 HelmRelease flux-system/keda',
          'helm.toolkit.fluxcd.io/v2 HelmRelease flux-system/metrics-server',
          'networking.k8s.io/v1 NetworkPolicy keda/elasticai-keda-operator',
          'source.toolkit.fluxcd.io/v1 HelmRepository flux-system/kedacore',
          'source.toolkit.fluxcd.io/v1 HelmRepository flux-system/metrics-server',
          'v1 Namespace undefined/keda',
        ],
      );
    });

    it('points the repositories at the pinned chart URLs', () => {
      const objects = addonObjects({ engine: GitOpsEngine.flux() });
      assert.deepEqual(only(objects, 'HelmRepository', 'kedacore').spec, {
        url: 'https://kedacore.github.io/charts',
        interval: '10m',
      });
      assert.deepEqual(only(objects, 'HelmRepository', 'metrics-server').spec, {
        url: 'https://kubernetes-sigs.github.io/metrics-server/',
        interval: '10m',
      });
    });

    it('installs KEDA 2.20.2 into keda with CRDs created and replaced on upgrade', () => {
      // GIVEN / WHEN
      const spec = only(addonObjects({ engine: GitOpsEngine.flux() }), 'HelmRelease', 'keda')
        .spec as HelmReleaseSpec;
      // THEN
      assert.deepEqual(spec.chart.spec, {
        chart: 'keda',
        version: '2.20.2',
        sourceRef: { kind: 'HelmRepository', name: 'kedacore', namespace: 'flux-system' },
        interval: '10m',
      });
      assert.equal(spec.releaseName, 'keda');
      assert.equal(spec.targetNamespace, 'keda');
      assert.equal(spec.install.createNamespace, true);
      assert.equal(spec.install.crds, 'Create');
      assert.equal(spec.upgrade.crds, 'CreateReplace');
      assert.deepEqual(spec.values, { operator: { replicaCount: 2 }, ...METRICS_ON });
    });

    it('installs metrics-server 3.13.1 into kube-system with 2 replicas and a PDB', () => {
      const spec = only(addonObjects({ engine: GitOpsEngine.flux() }), 'HelmRelease', 'metrics-server')
        .spec as HelmReleaseSpec;
      assert.equal(spec.chart.spec.chart, 'metrics-server');
      assert.equal(spec.chart.spec.version, '3.13.1');
      assert.equal(spec.targetNamespace, 'kube-system');
      assert.equal(spec.install.createNamespace, false);
      assert.deepEqual(spec.values, { replicas: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 } });
    });

    it('uses the given namespace and interval', () => {
      // GIVEN
      const objects = addonObjects({
        engine: GitOpsEngine.flux({ namespace: 'gitops', interval: Duration.hours(1) }),
        metricsServer: { enabled: false },
      });
      // THEN
      const release = only(objects, 'HelmRelease', 'keda');
      assert.equal(release.metadata?.namespace, 'gitops');
      assert.equal((release.spec as HelmReleaseSpec).interval, '1h');
      assert.equal(only(objects, 'HelmRepository', 'kedacore').metadata?.namespace, 'gitops');
    });
  });

  describe('with Argo CD', () => {
    it('emits one schema-valid Application per chart in argocd', async () => {
      // GIVEN / WHEN
      const objects = addonObjects({ engine: GitOpsEngine.argoCd() });
      // THEN
      assert.deepEqual(await validateAll(objects), []);
      assert.deepEqual(
        objects
          .filter((o) => o.kind === 'Application')
          .map((o) => `${o.apiVersion} ${o.kind} ${o.metadata?.namespace}/${o.metadata?.name}`)
          .sort(),
        [
          'argoproj.io/v1alpha1 Application argocd/keda',
          'argoproj.io/v1alpha1 Application argocd/metrics-server',
        ],
      );
    });

    it('syncs KEDA automatically with prune, namespace creation and server-side apply', () => {
      // GIVEN / WHEN
      const spec = only(addonObjects({ engine: GitOpsEngine.argoCd() }), 'Application', 'keda')
        .spec as ApplicationSpec;
      // THEN
      assert.equal(spec.project, 'default');
      assert.deepEqual(spec.source, {
        repoURL: 'https://kedacore.github.io/charts',
        chart: 'keda',
        targetRevision: '2.20.2',
        helm: { releaseName: 'keda', valuesObject: { operator: { replicaCount: 2 }, ...METRICS_ON } },
      });
      assert.deepEqual(spec.destination, { server: 'https://kubernetes.default.svc', namespace: 'keda' });
      assert.deepEqual(spec.syncPolicy.automated, { prune: true, selfHeal: true });
      assert.deepEqual(spec.syncPolicy.syncOptions, ['CreateNamespace=true', 'ServerSideApply=true']);
    });

    it('installs metrics-server from its repository without server-side apply', () => {
      const spec = only(addonObjects({ engine: GitOpsEngine.argoCd() }), 'Application', 'metrics-server')
        .spec as ApplicationSpec;
      assert.equal(spec.source.repoURL, 'https://kubernetes-sigs.github.io/metrics-server/');
      assert.equal(spec.source.chart, 'metrics-server');
      assert.equal(spec.source.targetRevision, '3.13.1');
      assert.equal(spec.destination.namespace, 'kube-system');
      assert.deepEqual(spec.syncPolicy.syncOptions, ['CreateNamespace=true']);
    });

    it('uses the given namespace and project', () => {
      const app = only(
        addonObjects({ engine: GitOpsEngine.argoCd({ namespace: 'gitops', project: 'platform' }) }),
        'Application',
        'keda',
      );
      assert.equal(app.metadata?.namespace, 'gitops');
      assert.equal((app.spec as ApplicationSpec).project, 'platform');
    });
  });

  it('leaves out disabled add-ons', () => {
    // GIVEN KEDA disabled for Flux and metrics-server disabled for Argo CD
    const flux = addonObjects({ engine: GitOpsEngine.flux(), keda: { enabled: false } });
    const argo = addonObjects({ engine: GitOpsEngine.argoCd(), metricsServer: { enabled: false } });
    // THEN
    assert.deepEqual(flux.map((o) => o.metadata?.name).sort(), ['metrics-server', 'metrics-server']);
    assert.deepEqual(
      argo.filter((o) => o.kind === 'Application').map((o) => o.metadata?.name),
      ['keda'],
    );
  });

  it('renders typed KEDA values: replicas, AWS IRSA, service account annotations', async () => {
    // GIVEN
    const objects = addonObjects({
      engine: GitOpsEngine.flux(),
      keda: {
        operatorReplicas: 1,
        podIdentity: KedaPodIdentity.awsIrsa('arn:aws:iam::123456789012:role/keda-operator'),
        serviceAccountAnnotations: { 'example.com/owner': 'platform' },
      },
      metricsServer: { replicas: 1 },
    });
    // THEN
    assert.deepEqual(await validateAll(objects), []);
    assert.deepEqual((only(objects, 'HelmRelease', 'keda').spec as HelmReleaseSpec).values, {
      operator: { replicaCount: 1 },
      podIdentity: {
        aws: { irsa: { enabled: true, roleArn: 'arn:aws:iam::123456789012:role/keda-operator' } },
      },
      serviceAccount: { operator: { annotations: { 'example.com/owner': 'platform' } } },
      ...METRICS_ON,
    });
    assert.deepEqual((only(objects, 'HelmRelease', 'metrics-server').spec as HelmReleaseSpec).values, {
      replicas: 1,
    });
  });

  it('renders Azure workload identity values for KEDA', () => {
    const clientId = '00000000-1111-2222-3333-444444444444';
    const app = only(
      addonObjects({
        engine: GitOpsEngine.argoCd(),
        keda: { podIdentity: KedaPodIdentity.azureWorkload(clientId) },
      }),
      'Application',
      'keda',
    );
    const values = (app.spec as ApplicationSpec).source.helm.valuesObject as Record<string, unknown>;
    assert.deepEqual(values.podIdentity, { azureWorkload: { enabled: true, clientId } });
  });

  it('accepts an exact version override', () => {
    const release = only(
      addonObjects({ engine: GitOpsEngine.flux(), keda: { version: '2.20.1' } }),
      'HelmRelease',
      'keda',
    );
    assert.equal((release.spec as HelmReleaseSpec).chart.spec.version, '2.20.1');
  });

  it('refuses a KEDA service account annotation key Kubernetes rejects', () => {
    assert.throws(
      () =>
        addonObjects({
          engine: GitOpsEngine.flux(),
          keda: { serviceAccountAnnotations: { 'example.com/': 'x' } },
        }),
      /^PropError: keda\.serviceAccountAnnotations: must be an annotation key.*\(got "example\.com\/"\)$/,
    );
  });

  it('refuses version overrides that are not exact semver, naming the prop and value', () => {
    for (const version of ['latest', '2.20', '>=2.20.0', 'v2.20.2', '2.20.x']) {
      assert.throws(
        () => addonObjects({ engine: GitOpsEngine.flux(), keda: { version } }),
        (e: Error) =>
          e.message.startsWith('keda.version: must be an exact semantic version') &&
          e.message.endsWith(`(got ${JSON.stringify(version)})`),
        version,
      );
    }
    assert.throws(
      () => addonObjects({ engine: GitOpsEngine.argoCd(), metricsServer: { version: '*' } }),
      /metricsServer\.version: must be an exact semantic version/,
    );
  });

  it('refuses bad identities and replica counts', () => {
    assert.throws(
      () =>
        addonObjects({
          engine: GitOpsEngine.flux(),
          keda: { podIdentity: KedaPodIdentity.awsIrsa('keda-role') },
        }),
      /keda\.podIdentity\.roleArn: must be an IAM role ARN like "arn:aws:iam::123456789012:role\/<name>" \(got "keda-role"\)/,
    );
    assert.throws(
      () =>
        addonObjects({
          engine: GitOpsEngine.flux(),
          keda: { podIdentity: KedaPodIdentity.azureWorkload('abc') },
        }),
      /keda\.podIdentity\.clientId: must be a client id \(GUID\) \(got "abc"\)/,
    );
    assert.throws(
      () => addonObjects({ engine: GitOpsEngine.flux(), metricsServer: { replicas: 0 } }),
      /metricsServer\.replicas: must be between 1 and 10 \(got 0\)/,
    );
  });
  describe('verticalPodAutoscaler', () => {
    const RECOMMENDER_ONLY = {
      crds: { enabled: true, keep: true },
      recommender: { enabled: true },
      updater: { enabled: false },
      admissionController: { enabled: false },
    };

    function addons(props: GitOpsAddonsProps): { construct: GitOpsAddons; objects: KubeObject[] } {
      const chart = testChart();
      const construct = new GitOpsAddons(chart, 'addons', props);
      return { construct, objects: synth(chart) };
    }

    it('is not installed by default', () => {
      // GIVEN / WHEN
      const { construct, objects } = addons({ engine: GitOpsEngine.flux() });
      // THEN
      assert.equal(construct.installsVerticalPodAutoscaler, false);
      assert.equal(construct.versions['vertical-pod-autoscaler'], undefined);
      assert.deepEqual(
        objects.filter(
          (o) => o.metadata?.name === 'vertical-pod-autoscaler' || o.metadata?.name === 'autoscaler',
        ),
        [],
      );
    });

    it('is not installed when explicitly disabled', () => {
      const { construct, objects } = addons({
        engine: GitOpsEngine.argoCd(),
        verticalPodAutoscaler: { enabled: false, recommenderOnly: false },
      });
      assert.equal(construct.installsVerticalPodAutoscaler, false);
      assert.deepEqual(
        objects.filter((o) => o.kind === 'Application').map((o) => o.metadata?.name),
        ['keda', 'metrics-server'],
      );
    });

    describe('with Flux', () => {
      it('emits schema-valid HelmRepository and HelmRelease objects and reports the install', async () => {
        // GIVEN / WHEN
        const { construct, objects } = addons({
          engine: GitOpsEngine.flux(),
          verticalPodAutoscaler: { enabled: true },
        });
        // THEN
        assert.deepEqual(await validateAll(objects), []);
        assert.equal(construct.installsVerticalPodAutoscaler, true);
        assert.equal(construct.versions['vertical-pod-autoscaler'], '0.13.0');
        assert.deepEqual(
          objects
            .map((o) => `${o.apiVersion} ${o.kind} ${o.metadata?.namespace}/${o.metadata?.name}`)
            .filter((k) => k.includes('autoscaler')),
          [
            'source.toolkit.fluxcd.io/v1 HelmRepository flux-system/autoscaler',
            'helm.toolkit.fluxcd.io/v2 HelmRelease flux-system/vertical-pod-autoscaler',
          ],
        );
      });

      it('points the repository at the kubernetes/autoscaler chart repository', () => {
        const { objects } = addons({ engine: GitOpsEngine.flux(), verticalPodAutoscaler: { enabled: true } });
        assert.deepEqual(only(objects, 'HelmRepository', 'autoscaler').spec, {
          url: 'https://kubernetes.github.io/autoscaler',
          interval: '10m',
        });
      });

      it('installs chart 0.13.0 into kube-system with its CRDs and only the recommender', () => {
        // GIVEN / WHEN
        const { objects } = addons({ engine: GitOpsEngine.flux(), verticalPodAutoscaler: { enabled: true } });
        const spec = only(objects, 'HelmRelease', 'vertical-pod-autoscaler').spec as HelmReleaseSpec;
        // THEN
        assert.deepEqual(spec.chart.spec, {
          chart: 'vertical-pod-autoscaler',
          version: '0.13.0',
          sourceRef: { kind: 'HelmRepository', name: 'autoscaler', namespace: 'flux-system' },
          interval: '10m',
        });
        assert.equal(spec.releaseName, 'vertical-pod-autoscaler');
        assert.equal(spec.targetNamespace, 'kube-system');
        assert.equal(spec.install.createNamespace, false);
        assert.deepEqual(spec.values, RECOMMENDER_ONLY);
      });

      it('creates a namespace other than kube-system', () => {
        const { objects } = addons({
          engine: GitOpsEngine.flux(),
          verticalPodAutoscaler: { enabled: true, namespace: 'vpa' },
        });
        const spec = only(objects, 'HelmRelease', 'vertical-pod-autoscaler').spec as HelmReleaseSpec;
        assert.equal(spec.targetNamespace, 'vpa');
        assert.equal(spec.install.createNamespace, true);
      });
    });

    describe('with Argo CD', () => {
      it('emits one schema-valid Application with the pinned chart and recommender-only values', async () => {
        // GIVEN / WHEN
        const { construct, objects } = addons({
          engine: GitOpsEngine.argoCd(),
          verticalPodAutoscaler: { enabled: true },
        });
        // THEN
        assert.deepEqual(await validateAll(objects), []);
        assert.equal(construct.installsVerticalPodAutoscaler, true);
        const app = only(objects, 'Application', 'vertical-pod-autoscaler');
        assert.equal(app.metadata?.namespace, 'argocd');
        const spec = app.spec as ApplicationSpec;
        assert.deepEqual(spec.source, {
          repoURL: 'https://kubernetes.github.io/autoscaler',
          chart: 'vertical-pod-autoscaler',
          targetRevision: '0.13.0',
          helm: { releaseName: 'vertical-pod-autoscaler', valuesObject: RECOMMENDER_ONLY },
        });
        assert.deepEqual(spec.destination, {
          server: 'https://kubernetes.default.svc',
          namespace: 'kube-system',
        });
        assert.deepEqual(spec.syncPolicy.automated, { prune: true, selfHeal: true });
        assert.deepEqual(spec.syncPolicy.syncOptions, ['CreateNamespace=true']);
      });
    });

    it('enables the updater and admission controller when recommenderOnly is false', async () => {
      // GIVEN
      const props = { enabled: true, recommenderOnly: false };
      // WHEN
      const flux = addons({ engine: GitOpsEngine.flux(), verticalPodAutoscaler: props }).objects;
      const argo = addons({ engine: GitOpsEngine.argoCd(), verticalPodAutoscaler: props }).objects;
      // THEN
      const expected = {
        crds: { enabled: true, keep: true },
        recommender: { enabled: true },
        updater: { enabled: true },
        admissionController: { enabled: true },
      };
      assert.deepEqual(await validateAll([...flux, ...argo]), []);
      assert.deepEqual(
        (only(flux, 'HelmRelease', 'vertical-pod-autoscaler').spec as HelmReleaseSpec).values,
        expected,
      );
      assert.deepEqual(
        (only(argo, 'Application', 'vertical-pod-autoscaler').spec as ApplicationSpec).source.helm
          .valuesObject,
        expected,
      );
    });

    it('accepts an exact version override', () => {
      const { objects } = addons({
        engine: GitOpsEngine.argoCd(),
        verticalPodAutoscaler: { enabled: true, version: '0.12.0' },
      });
      const spec = only(objects, 'Application', 'vertical-pod-autoscaler').spec as ApplicationSpec;
      assert.equal(spec.source.targetRevision, '0.12.0');
    });

    it('refuses a version that is not exact semver, naming the prop and value', () => {
      for (const version of ['0.13', 'latest', '^0.13.0', 'v0.13.0']) {
        assert.throws(
          () => addons({ engine: GitOpsEngine.flux(), verticalPodAutoscaler: { enabled: true, version } }),
          (e: Error) =>
            e.message ===
            `verticalPodAutoscaler.version: must be an exact semantic version such as "0.13.0" (no ranges, no "latest") (got ${JSON.stringify(version)})`,
          version,
        );
      }
    });

    it('refuses a namespace that is not a DNS label, naming the prop and value', () => {
      assert.throws(
        () =>
          addons({
            engine: GitOpsEngine.argoCd(),
            verticalPodAutoscaler: { enabled: true, namespace: 'Kube_System' },
          }),
        (e: Error) =>
          e.message ===
          'verticalPodAutoscaler.namespace: must be a lowercase RFC 1123 label (a-z, 0-9, "-", at most 63 characters) (got "Kube_System")',
      );
    });
  });

  describe("KEDA operator's metrics", () => {
    const policyOf = (objects: KubeObject[]): Json =>
      (only(objects, 'NetworkPolicy', 'elasticai-keda-operator') as Json).spec;
    const namespacesOf = (rule: Json): string[] =>
      rule.from.map((p: Json) => p.namespaceSelector?.matchLabels['kubernetes.io/metadata.name'] ?? '<own>');

    it("lets only the monitoring namespace reach the operator's metrics, and KEDA's own pods its gRPC port", () => {
      // GIVEN / WHEN the defaults (MetricsScraping.collector())
      const objects = addonObjects({ engine: GitOpsEngine.flux() });
      // THEN the policy selects the chart's operator pods only
      const policy = policyOf(objects);
      assert.equal(only(objects, 'NetworkPolicy').metadata?.namespace, 'keda');
      assert.deepEqual(policy.podSelector, { matchLabels: { app: 'keda-operator' } });
      assert.deepEqual(policy.policyTypes, ['Ingress']);
      // AND admits the metrics apiserver (its own namespace) on 9666, the scraper on 8080, nothing else
      assert.deepEqual(
        policy.ingress.map((r: Json) => [
          namespacesOf(r),
          r.ports.map((p: Json) => `${p.protocol}/${p.port}`),
        ]),
        [
          [['<own>'], ['TCP/9666']],
          [['monitoring'], ['TCP/8080']],
        ],
      );
      assert.deepEqual(policy.ingress[0].from, [{ podSelector: {} }]);
      // AND no ServiceMonitor: a collector configured elsewhere needs none
      assert.equal(objects.filter((o) => MONITOR_KINDS.has(o.kind)).length, 0);
    });

    it("writes KEDA's namespace, so Flux can apply the policy before Helm creates it", () => {
      // GIVEN / WHEN
      const objects = addonObjects({ engine: GitOpsEngine.flux() });
      // THEN the namespace exists as an object, and the release still creates it when missing
      assert.deepEqual(only(objects, 'Namespace').metadata, {
        name: 'keda',
        labels: { 'app.kubernetes.io/managed-by': 'elasticai' },
      });
      assert.equal(
        (only(objects, 'HelmRelease', 'keda').spec as HelmReleaseSpec).install.createNamespace,
        true,
      );
      // AND a KEDA in kube-system gets no Namespace object
      const inKubeSystem = addonObjects({ engine: GitOpsEngine.flux(), keda: { namespace: 'kube-system' } });
      assert.equal(inKubeSystem.filter((o) => o.kind === 'Namespace').length, 0);
      assert.equal(only(inKubeSystem, 'NetworkPolicy').metadata?.namespace, 'kube-system');
    });

    it("scrapes the operator's Service port `metrics` with a schema-valid ServiceMonitor beside a Prometheus operator", async () => {
      // GIVEN a kube-prometheus-stack selecting `release: kps`
      const monitoring = MetricsScraping.prometheusOperator({ labels: { release: 'kps' } });
      // WHEN
      const objects = addonObjects({ engine: GitOpsEngine.argoCd(), keda: { monitoring } });
      // THEN the ServiceMonitor selects the chart's keda-operator Service, on the port its values add
      const monitor = only(objects, 'ServiceMonitor') as Json;
      assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
      assert.equal(monitor.metadata.namespace, 'keda');
      assert.equal(monitor.metadata.labels.release, 'kps');
      assert.deepEqual(monitor.spec.selector, { matchLabels: { 'app.kubernetes.io/name': 'keda-operator' } });
      assert.deepEqual(monitor.spec.endpoints, [
        { port: 'metrics', path: '/metrics', interval: '30s', scheme: 'http' },
      ]);
      const values = (only(objects, 'Application', 'keda').spec as ApplicationSpec).source.helm
        .valuesObject as Json;
      assert.deepEqual(values.prometheus, METRICS_ON.prometheus);
      assert.deepEqual(monitorErrors(objects), []);
      assert.deepEqual(await validateAll(objects.filter((o) => !MONITOR_KINDS.has(o.kind))), []);
    });

    it('leaves the chart alone with MetricsScraping.none(), and writes nothing when KEDA is off', () => {
      // GIVEN / WHEN
      const none = addonObjects({
        engine: GitOpsEngine.flux(),
        keda: { monitoring: MetricsScraping.none() },
      });
      const off = addonObjects({
        engine: GitOpsEngine.flux(),
        keda: { enabled: false, monitoring: MetricsScraping.prometheusOperator() },
      });
      // THEN
      assert.deepEqual((only(none, 'HelmRelease', 'keda').spec as HelmReleaseSpec).values, {
        operator: { replicaCount: 2 },
      });
      for (const objects of [none, off]) {
        assert.deepEqual(
          objects.filter((o) => ['NetworkPolicy', 'Namespace', 'ServiceMonitor'].includes(o.kind)),
          [],
        );
      }
    });

    it('refuses a scraper namespace that is not a DNS label, naming keda.monitoring', () => {
      assert.throws(
        () =>
          addonObjects({
            engine: GitOpsEngine.flux(),
            keda: { monitoring: MetricsScraping.collector({ namespaces: ['kube system'] }) },
          }),
        /^PropError: keda\.monitoring\.namespaces\[0\]: must be a lowercase RFC 1123 label .* \(got "kube system"\)$/,
      );
    });
  });
});
