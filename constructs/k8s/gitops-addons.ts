import { ApiObject, Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkIamRoleArn } from './aws-arns.js';
import {
  KEDA_CHART_METRICS_VALUES,
  KedaInstallation,
  KedaOperatorMetrics,
} from './keda/keda-operator-metrics.js';
import { MetricsScraping } from './metrics-scraping.js';
import {
  PropError,
  checkDnsLabel,
  checkDnsSubdomain,
  checkInteger,
  checkAnnotationKeys,
} from './validation.js';

/** One pinned Helm chart: where it lives and which release of it is installed. */
export interface HelmChartPin {
  /** Chart name in the repository. */
  readonly chart: string;
  /** Helm repository URL (an HTTPS index, not OCI). */
  readonly repoUrl: string;
  /** Exact chart version. */
  readonly version: string;
  /** The application version that chart release ships, for the record. */
  readonly appVersion: string;
}

/**
 * The charts this package installs, pinned to exact releases. Bump these deliberately (the KEDA pin
 * matches the KEDA CRDs the constructs are validated against, `shared/crds/keda`, v2.20.2).
 *
 * Sources: KEDA chart release "Chart: v2.20.2 | App: v2.20.2"
 * (https://github.com/kedacore/charts/releases/tag/v2.20.2); metrics-server chart release
 * metrics-server-helm-chart-3.13.1, which updates the image to 0.8.1
 * (https://github.com/kubernetes-sigs/metrics-server/releases); the Kubernetes autoscaler project's
 * own VPA chart, release vertical-pod-autoscaler-chart-0.13.0 (Chart.yaml version 0.13.0, appVersion
 * 1.8.0, https://github.com/kubernetes/autoscaler/releases/tag/vertical-pod-autoscaler-chart-0.13.0),
 * which chart-releaser publishes to the project's Helm repository
 * (.github/workflows/chart-release.yaml, charts_dir vertical-pod-autoscaler/charts). Since chart 0.12.0
 * the VPA CRDs are chart templates behind the `crds.enabled` value, so they are upgraded with the chart.
 */
export const ADDON_CHARTS = {
  keda: {
    chart: 'keda',
    repoUrl: 'https://kedacore.github.io/charts',
    version: '2.20.2',
    appVersion: '2.20.2',
  },
  metricsServer: {
    chart: 'metrics-server',
    repoUrl: 'https://kubernetes-sigs.github.io/metrics-server/',
    version: '3.13.1',
    appVersion: '0.8.1',
  },
  verticalPodAutoscaler: {
    chart: 'vertical-pod-autoscaler',
    repoUrl: 'https://kubernetes.github.io/autoscaler',
    version: '0.13.0',
    appVersion: '1.8.0',
  },
} as const satisfies Record<string, HelmChartPin>;

/** Options for {@link GitOpsEngine.flux}. */
export interface FluxEngineOptions {
  /** Namespace of Flux's controllers, where the HelmRepository and HelmRelease objects go. @default 'flux-system' */
  readonly namespace?: string;
  /** How often Flux re-reads the repositories and reconciles the releases. @default Duration.minutes(10) */
  readonly interval?: Duration;
}

/** Options for {@link GitOpsEngine.argoCd}. */
export interface ArgoCdEngineOptions {
  /** Namespace Argo CD watches for Applications. @default 'argocd' */
  readonly namespace?: string;
  /** Argo CD project the Applications belong to. @default 'default' */
  readonly project?: string;
  /** API server Argo CD deploys to. @default 'https://kubernetes.default.svc' (its own cluster) */
  readonly destinationServer?: string;
}

/** The GitOps tool that installs the add-ons. */
export class GitOpsEngine {
  /** Flux: one `HelmRepository` and one `HelmRelease` per chart. */
  static flux(options: FluxEngineOptions = {}): GitOpsEngine {
    return new GitOpsEngine(
      'flux',
      options.namespace ?? 'flux-system',
      options.interval ?? Duration.minutes(10),
    );
  }

  /** Argo CD: one `Application` per chart, synced automatically with pruning. */
  static argoCd(options: ArgoCdEngineOptions = {}): GitOpsEngine {
    return new GitOpsEngine(
      'argocd',
      options.namespace ?? 'argocd',
      undefined,
      options.project ?? 'default',
      options.destinationServer ?? 'https://kubernetes.default.svc',
    );
  }

  private constructor(
    readonly kind: 'flux' | 'argocd',
    readonly namespace: string,
    readonly interval?: Duration,
    readonly project?: string,
    readonly destinationServer?: string,
  ) {}
}

/** How the KEDA operator gets cloud credentials for scalers that use workload identity. */
export class KedaPodIdentity {
  /** EKS IAM Roles for Service Accounts: the chart annotates the operator's ServiceAccount with the role. */
  static awsIrsa(roleArn: string): KedaPodIdentity {
    return new KedaPodIdentity('aws', roleArn);
  }

  /**
   * AKS Workload Identity: the chart labels the operator for the webhook and annotates its
   * ServiceAccount with the managed identity's client id.
   * @param tenantId the Entra ID tenant. @default the cluster's
   */
  static azureWorkload(clientId: string, tenantId?: string): KedaPodIdentity {
    return new KedaPodIdentity('azure-workload', clientId, tenantId);
  }

  private constructor(
    readonly provider: 'aws' | 'azure-workload',
    readonly identity: string,
    readonly tenantId?: string,
  ) {}
}

/** KEDA add-on options. */
export interface KedaAddonOptions {
  /** Install KEDA. @default true */
  readonly enabled?: boolean;
  /** Chart version override (exact semver). @default ADDON_CHARTS.keda.version */
  readonly version?: string;
  /** Namespace KEDA runs in. @default 'keda' */
  readonly namespace?: string;
  /** Operator replicas (one is active, the others wait on the leader lease). @default 2 */
  readonly operatorReplicas?: number;
  /** Cloud identity for the operator. @default none */
  readonly podIdentity?: KedaPodIdentity;
  /** Extra annotations on the operator's ServiceAccount. @default {} */
  readonly serviceAccountAnnotations?: Readonly<Record<string, string>>;
  /**
   * Who scrapes the operator's metrics (port 8080: `keda_scaler_detail_errors_total`,
   * `keda_scaled_object_errors_total`, `keda_scaler_metrics_value`, which the runtime's alerts read).
   * Unless `none()`: the chart exposes them on the `keda-operator` Service, a NetworkPolicy lets only the
   * scraper's namespaces (and KEDA's own, for the metrics apiserver's gRPC) reach the operator, and the
   * KEDA namespace is written as an object so GitOps can apply that policy before Helm creates it. With a
   * monitor flavour a ServiceMonitor is written too. `none()` leaves the chart's defaults alone.
   * @default MetricsScraping.collector(): the `monitoring` namespace let in, no ServiceMonitor
   */
  readonly monitoring?: MetricsScraping;
}

/** metrics-server add-on options. */
export interface MetricsServerAddonOptions {
  /** Install metrics-server. @default true */
  readonly enabled?: boolean;
  /** Chart version override (exact semver). @default ADDON_CHARTS.metricsServer.version */
  readonly version?: string;
  /** Namespace metrics-server runs in. @default 'kube-system' */
  readonly namespace?: string;
  /** Replicas; with more than one a PodDisruptionBudget keeps one available. @default 2 */
  readonly replicas?: number;
}

/** Vertical Pod Autoscaler add-on options (the upstream kubernetes/autoscaler chart). */
export interface VerticalPodAutoscalerAddonOptions {
  /**
   * Install the VPA: its CRDs and recommender, so `VerticalPodAutoscaler` objects can be applied and
   * get recommendations. Set the cluster's `verticalPodAutoscaler: true` as well, so the constructs
   * accept VPA objects for it.
   * @default false
   */
  readonly enabled?: boolean;
  /** Chart version override (exact semver). @default ADDON_CHARTS.verticalPodAutoscaler.version */
  readonly version?: string;
  /** Namespace the VPA components run in (the upstream manifests use kube-system). @default 'kube-system' */
  readonly namespace?: string;
  /**
   * Install only the recommender (plus the CRDs), not the updater and admission controller. The
   * recommender only writes recommendations into the VPA objects' status; the updater evicts (or
   * resizes in place) pods whose requests are off, and the admission controller's webhook rewrites
   * the requests of every pod a VPA selects as it is created. ElasticAI's VPAs default to
   * `updateMode: Off` (recommendations only), which needs neither; set `false` for VPAs in `Initial`,
   * `Recreate`, `InPlaceOrRecreate` or `InPlace` mode, which do nothing without them.
   * @default true
   */
  readonly recommenderOnly?: boolean;
}

/** Props for {@link GitOpsAddons}. */
export interface GitOpsAddonsProps {
  /** Flux or Argo CD. */
  readonly engine: GitOpsEngine;
  /** KEDA. @default enabled, pinned version */
  readonly keda?: KedaAddonOptions;
  /** metrics-server (the HPA's cpu/memory metrics). @default enabled, pinned version, 2 replicas */
  readonly metricsServer?: MetricsServerAddonOptions;
  /** Vertical Pod Autoscaler (CRDs and recommender). @default not installed */
  readonly verticalPodAutoscaler?: VerticalPodAutoscalerAddonOptions;
}

/** Values passed to the KEDA chart. */
export interface KedaChartValues {
  readonly operator: { readonly replicaCount: number };
  readonly podIdentity?: {
    readonly aws?: { readonly irsa: { readonly enabled: true; readonly roleArn: string } };
    readonly azureWorkload?: {
      readonly enabled: true;
      readonly clientId: string;
      readonly tenantId?: string;
    };
  };
  readonly serviceAccount?: { readonly operator: { readonly annotations: Record<string, string> } };
  /** The operator's metrics on its Service (`KEDA_CHART_METRICS_VALUES`). */
  readonly prometheus?: { readonly operator: { readonly enabled: true } };
}

/** Values passed to the metrics-server chart. */
export interface MetricsServerChartValues {
  readonly replicas: number;
  readonly podDisruptionBudget?: { readonly enabled: true; readonly minAvailable: number };
}

/** Values passed to the Vertical Pod Autoscaler chart (keys of its values.yaml, chart 0.13.0). */
export interface VerticalPodAutoscalerChartValues {
  /** The CRDs are chart templates; `keep` leaves them (and so every VPA object) on uninstall. */
  readonly crds: { readonly enabled: true; readonly keep: true };
  readonly recommender: { readonly enabled: true };
  readonly updater: { readonly enabled: boolean };
  /** Disabling it also leaves out its webhook configuration and certificate jobs. */
  readonly admissionController: { readonly enabled: boolean };
}

// Exact semver 2.0.0 (no ranges, no "latest", no leading "v").
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-((0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(\+([0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*))?$/;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** What every add-on resolves to, whatever its chart: the release name, where it comes from, where it goes. */
interface AddonRelease {
  /** Release (and HelmRelease / Application) name. */
  readonly id: 'keda' | 'metrics-server' | 'vertical-pod-autoscaler';
  /** Name of the Flux HelmRepository for the chart's repository. */
  readonly repositoryName: string;
  readonly pin: HelmChartPin;
  readonly version: string;
  readonly namespace: string;
  readonly createNamespace: boolean;
}

interface ResolvedAddon extends AddonRelease {
  readonly values: KedaChartValues | MetricsServerChartValues | VerticalPodAutoscalerChartValues;
  /** KEDA's CRDs exceed the client-side apply annotation limit. */
  readonly serverSideApply: boolean;
}

/**
 * KEDA, metrics-server and (opt-in) the Vertical Pod Autoscaler for clusters where no CDK or Pulumi
 * code installs them: GitOps objects that tell Flux or Argo CD to install the pinned Helm charts.
 * Nothing is fetched at synth time.
 */
export class GitOpsAddons extends Construct {
  /** The chart versions this construct renders, by add-on. */
  readonly versions: Readonly<Record<string, string>>;
  /** Whether the VPA (CRDs and recommender) is installed, i.e. the cluster's `verticalPodAutoscaler` may be true. */
  readonly installsVerticalPodAutoscaler: boolean;
  /** The namespace KEDA is installed in; undefined when KEDA is not installed here. */
  readonly kedaNamespace: string | undefined;

  constructor(scope: Construct, id: string, props: GitOpsAddonsProps) {
    super(scope, id);
    const engine = props.engine;
    checkDnsLabel('engine.namespace', engine.namespace);
    if (engine.project !== undefined) checkDnsSubdomain('engine.project', engine.project);
    if (engine.interval !== undefined && !(engine.interval.toMilliseconds() >= 1000)) {
      throw new PropError('engine.interval', `${engine.interval.toMilliseconds()}ms`, 'must be at least 1s');
    }

    const vpa = resolveVerticalPodAutoscaler(props.verticalPodAutoscaler ?? {});
    const addons = [
      resolveKeda(props.keda ?? {}),
      resolveMetricsServer(props.metricsServer ?? {}),
      vpa,
    ].filter((a): a is ResolvedAddon => a !== undefined);
    this.installsVerticalPodAutoscaler = vpa !== undefined;
    this.kedaNamespace = addons.find((a) => a.id === 'keda')?.namespace;
    this.versions = Object.fromEntries(addons.map((a) => [a.id, a.version]));

    for (const addon of addons) {
      if (engine.kind === 'flux') this.renderFlux(engine, addon);
      else this.renderArgoCd(engine, addon);
    }

    const keda = addons.find((a) => a.id === 'keda');
    const monitoring = props.keda?.monitoring ?? MetricsScraping.collector();
    if (keda && monitoring.enabled) {
      // The policy lives in KEDA's namespace, which Helm creates only when it installs the release: as an
      // object here, GitOps applies it first (Flux refuses a whole apply naming a missing namespace).
      if (keda.createNamespace) {
        new k8s.KubeNamespace(this, 'keda-namespace', {
          metadata: { name: keda.namespace, labels: { 'app.kubernetes.io/managed-by': 'elasticai' } },
        });
      }
      new KedaOperatorMetrics(this, 'keda-metrics', {
        installation: KedaInstallation.helmChart(keda.namespace),
        monitoring,
        prop: 'keda.monitoring',
      });
    }
  }

  private renderFlux(engine: GitOpsEngine, addon: ResolvedAddon): void {
    const interval = goDuration(engine.interval ?? Duration.minutes(10));
    const repoName = addon.repositoryName;
    new ApiObject(this, `${addon.id}-repository`, {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'HelmRepository',
      metadata: { name: repoName, namespace: engine.namespace },
      spec: { url: addon.pin.repoUrl, interval },
    });
    new ApiObject(this, `${addon.id}-release`, {
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name: addon.id, namespace: engine.namespace },
      spec: {
        interval,
        releaseName: addon.id,
        targetNamespace: addon.namespace,
        storageNamespace: addon.namespace,
        chart: {
          spec: {
            chart: addon.pin.chart,
            version: addon.version,
            sourceRef: { kind: 'HelmRepository', name: repoName, namespace: engine.namespace },
            interval,
          },
        },
        install: { createNamespace: addon.createNamespace, crds: 'Create', remediation: { retries: 3 } },
        upgrade: { crds: 'CreateReplace', remediation: { retries: 3, remediateLastFailure: true } },
        values: addon.values,
      },
    });
  }

  private renderArgoCd(engine: GitOpsEngine, addon: ResolvedAddon): void {
    const syncOptions = ['CreateNamespace=true'];
    if (addon.serverSideApply) syncOptions.push('ServerSideApply=true');
    new ApiObject(this, `${addon.id}-application`, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: addon.id, namespace: engine.namespace },
      spec: {
        project: engine.project ?? 'default',
        source: {
          repoURL: addon.pin.repoUrl,
          chart: addon.pin.chart,
          targetRevision: addon.version,
          helm: { releaseName: addon.id, valuesObject: addon.values },
        },
        destination: {
          server: engine.destinationServer ?? 'https://kubernetes.default.svc',
          namespace: addon.namespace,
        },
        syncPolicy: {
          automated: { prune: true, selfHeal: true },
          syncOptions,
          retry: { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
        },
      },
    });
  }
}

function resolveVersion(prop: string, override: string | undefined, pin: HelmChartPin): string {
  if (override === undefined) return pin.version;
  if (!SEMVER.test(override)) {
    throw new PropError(
      prop,
      override,
      `must be an exact semantic version such as "${pin.version}" (no ranges, no "latest")`,
    );
  }
  return override;
}

/** The options every add-on has. */
interface CommonAddonOptions {
  readonly enabled?: boolean;
  readonly version?: string;
  readonly namespace?: string;
}

/**
 * Resolves and checks the options every add-on shares (`<prop>.enabled`, `.version`, `.namespace`);
 * undefined when the add-on is disabled.
 */
function resolveRelease(
  prop: keyof GitOpsAddonsProps & keyof typeof ADDON_CHARTS,
  options: CommonAddonOptions,
  defaults: {
    readonly id: AddonRelease['id'];
    readonly repositoryName: string;
    readonly enabled: boolean;
    readonly namespace: string;
  },
): AddonRelease | undefined {
  if (!(options.enabled ?? defaults.enabled)) return undefined;
  const pin = ADDON_CHARTS[prop];
  const version = resolveVersion(`${prop}.version`, options.version, pin);
  const namespace = options.namespace ?? defaults.namespace;
  checkDnsLabel(`${prop}.namespace`, namespace);
  return {
    id: defaults.id,
    repositoryName: defaults.repositoryName,
    pin,
    version,
    namespace,
    createNamespace: namespace !== 'kube-system',
  };
}

function resolveKeda(options: KedaAddonOptions): ResolvedAddon | undefined {
  const release = resolveRelease('keda', options, {
    id: 'keda',
    repositoryName: 'kedacore',
    enabled: true,
    namespace: 'keda',
  });
  if (!release) return undefined;
  const replicaCount = options.operatorReplicas ?? 2;
  checkInteger('keda.operatorReplicas', replicaCount, 1, 10);

  let podIdentity: KedaChartValues['podIdentity'];
  const identity = options.podIdentity;
  if (identity?.provider === 'aws') {
    checkIamRoleArn('keda.podIdentity.roleArn', identity.identity);
    podIdentity = { aws: { irsa: { enabled: true, roleArn: identity.identity } } };
  } else if (identity?.provider === 'azure-workload') {
    if (!GUID.test(identity.identity)) {
      throw new PropError('keda.podIdentity.clientId', identity.identity, 'must be a client id (GUID)');
    }
    if (identity.tenantId !== undefined && !GUID.test(identity.tenantId)) {
      throw new PropError('keda.podIdentity.tenantId', identity.tenantId, 'must be a tenant id (GUID)');
    }
    podIdentity = {
      azureWorkload: {
        enabled: true,
        clientId: identity.identity,
        ...(identity.tenantId !== undefined ? { tenantId: identity.tenantId } : {}),
      },
    };
  }

  const annotations = options.serviceAccountAnnotations ?? {};
  checkAnnotationKeys('keda.serviceAccountAnnotations', annotations);
  const values: KedaChartValues = {
    operator: { replicaCount },
    ...(podIdentity ? { podIdentity } : {}),
    ...(Object.keys(annotations).length > 0
      ? { serviceAccount: { operator: { annotations: { ...annotations } } } }
      : {}),
    ...((options.monitoring ?? MetricsScraping.collector()).enabled ? KEDA_CHART_METRICS_VALUES : {}),
  };
  return { ...release, values, serverSideApply: true };
}

function resolveMetricsServer(options: MetricsServerAddonOptions): ResolvedAddon | undefined {
  const release = resolveRelease('metricsServer', options, {
    id: 'metrics-server',
    repositoryName: 'metrics-server',
    enabled: true,
    namespace: 'kube-system',
  });
  if (!release) return undefined;
  const replicas = options.replicas ?? 2;
  checkInteger('metricsServer.replicas', replicas, 1, 10);
  const values: MetricsServerChartValues = {
    replicas,
    ...(replicas > 1 ? { podDisruptionBudget: { enabled: true, minAvailable: 1 } } : {}),
  };
  return { ...release, values, serverSideApply: false };
}

function resolveVerticalPodAutoscaler(options: VerticalPodAutoscalerAddonOptions): ResolvedAddon | undefined {
  const release = resolveRelease('verticalPodAutoscaler', options, {
    id: 'vertical-pod-autoscaler',
    repositoryName: 'autoscaler',
    enabled: false,
    namespace: 'kube-system',
  });
  if (!release) return undefined;
  const full = !(options.recommenderOnly ?? true);
  const values: VerticalPodAutoscalerChartValues = {
    crds: { enabled: true, keep: true },
    recommender: { enabled: true },
    updater: { enabled: full },
    admissionController: { enabled: full },
  };
  return { ...release, values, serverSideApply: false };
}

/** A Go duration string (`10m`, `1h`, `90s`) as Flux expects. */
function goDuration(d: Duration): string {
  const seconds = Math.round(d.toSeconds({ integral: false }));
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
