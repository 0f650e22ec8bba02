import { type ApiObject, type Duration, Size } from 'cdk8s';
import { ClusterChart } from './cluster-info.js';
import { Cpu, k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { GitOpsAddons } from './gitops-addons.js';
import { DEFAULTS, ENV, type ReadAccess, type TenantLimits } from '../../runtime/service/config.js';
import type { SecretKeyRef } from './autoscaled-workload.js';
import { ScaledObject } from './keda/scaled-object.js';
import type { Trigger } from './keda/trigger.js';
import type { Placement } from './placement.js';
import * as platform from './platform-deployment.js';
import { type ContainerResources, renderResources } from './resources.js';
import type { RuntimeHistory } from './runtime-history.js';
import {
  RUNTIME_METADATA,
  type RuntimeTriggerContext,
  type RuntimeTriggerOptions,
  buildRuntimeTrigger,
  checkTenantRules,
} from './runtime-trigger.js';
import {
  PropError,
  checkDnsLabel,
  checkDnsSubdomain,
  checkImage,
  checkInteger,
  checkNonEmpty,
} from './validation.js';
import type { WorkloadIdentity } from './workload-identity.js';

/** Default name of every object of the runtime (Deployment, Service, ServiceAccount, RBAC, ...). */
export const DECISION_RUNTIME_NAME = 'elasticai-runtime';
/** Default namespace: the {@link SystemNamespace}. */
export const DECISION_RUNTIME_NAMESPACE = 'elasticai-system';
/** Port of the KEDA external scaler (gRPC). */
export const RUNTIME_GRPC_PORT: number = DEFAULTS.grpcPort;
/** Port of `/healthz`, `/readyz`, `/metrics` and the REST API. */
export const RUNTIME_HTTP_PORT: number = DEFAULTS.httpPort;

const SECRETS_DIR = '/var/run/elasticai';
/** Secret files: readable by the pod's group (fsGroup), nobody else. */
const SECRET_FILE_MODE = 0o440;

/** Options of a {@link RuntimeServiceMonitor}. */
export interface RuntimeServiceMonitorOptions {
  /** Scrape interval. @default 30 s */
  readonly interval?: Duration;
  /** Extra labels, e.g. the `release` label a Prometheus' `serviceMonitorSelector` matches. @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * CA that signed the runtime's HTTP certificate, for scraping over TLS. Required when the runtime
   * serves HTTP over TLS (`httpTlsSecret`). @default none
   */
  readonly tlsCa?: SecretKeyRef;
}

/** How Prometheus finds the runtime's `/metrics`: a ServiceMonitor for an operator, or none. */
export class RuntimeServiceMonitor {
  /** A `monitoring.coreos.com/v1` ServiceMonitor, read by the Prometheus operator. */
  static prometheusOperator(options: RuntimeServiceMonitorOptions = {}): RuntimeServiceMonitor {
    return new RuntimeServiceMonitor('monitoring.coreos.com/v1', options);
  }

  /**
   * An `azmonitoring.coreos.com/v1` ServiceMonitor, read by AKS's managed Prometheus (the `ama-metrics`
   * add-on, which runs in `kube-system`: allow its scrapes with `httpIngressNamespaces`).
   */
  static azureManagedPrometheus(options: RuntimeServiceMonitorOptions = {}): RuntimeServiceMonitor {
    if (options.tlsCa !== undefined) {
      throw new PropError(
        'serviceMonitor.tlsCa',
        options.tlsCa.secretName,
        "is not supported: ama-metrics reads TLS material from its own configuration, not the runtime's namespace",
      );
    }
    return new RuntimeServiceMonitor('azmonitoring.coreos.com/v1', options);
  }

  /** No ServiceMonitor (scrape configured elsewhere, or not at all). */
  static none(): RuntimeServiceMonitor {
    return new RuntimeServiceMonitor(undefined, {});
  }

  private constructor(
    /** apiVersion of the ServiceMonitor; undefined for none. */
    readonly apiVersion: string | undefined,
    readonly options: RuntimeServiceMonitorOptions,
  ) {}
}

/** Egress to the Kubernetes API server (its endpoint addresses and ports, after Service translation). */
export interface RuntimeKubernetesApiAccess {
  /** Endpoint CIDRs (`kubectl get endpoints kubernetes`). @default ['0.0.0.0/0'] */
  readonly cidrs?: readonly string[];
  /** Endpoint ports. @default [443, 6443] */
  readonly ports?: readonly number[];
}

/** The runtime container's default memory request and limit, in MiB (the scaler bench runs in it). */
export const RUNTIME_DEFAULT_MEMORY_MIB = 768;

/** Props for a {@link DecisionRuntime}. */
export interface DecisionRuntimeProps {
  /** Runtime image, pinned to a tag or digest (`latest` and untagged references are refused). */
  readonly image: string;
  /**
   * Where the runtime reads demand history: `RuntimeHistory.prometheus(url)`,
   * `.amazonManagedPrometheus(...)`, `.azureMonitorWorkspace(...)`, `.webhookOnly()`, ...
   */
  readonly history: RuntimeHistory;
  /**
   * Name of the Deployment, Service, ServiceAccount, NetworkPolicy, PDB and RBAC objects (the
   * ClusterRole too: each runtime of a cluster needs its own name, and a ClusterChart refuses two
   * objects of one identity at synth). @default 'elasticai-runtime'
   */
  readonly name?: string;
  /** Namespace. @default 'elasticai-system' */
  readonly namespace?: string;
  /**
   * Replicas, at least 2: KEDA's `fallback` does not fire when an external scaler is unreachable (KEDA
   * issue 8056), so a single replica would be a single point of failure for every workload it scales.
   * @default 2
   */
  readonly replicas?: number;
  /**
   * Days of history each workload's engine learns from (1–90). A backfill replays at most 20,160 points
   * per workload (14 days at 1 minute, 2.3 days at 10 s: the engine's longest season is a week), so days
   * beyond that reach only longer intervals (35 days from 2.5 minutes).
   * @default 14
   */
  readonly historyDays?: number;
  /** How long the last good decision is served while history fails, before holding. @default 300 s */
  readonly staleAfter?: Duration;
  /** Timeout of one Prometheus request. @default 1500 ms */
  readonly prometheusTimeout?: Duration;
  /** Who may call the read endpoints (`GET /api/...`). @default 'authenticated' */
  readonly readAccess?: ReadAccess;
  /**
   * Authenticate bearer tokens with the API server (TokenReview + SubjectAccessReview); needs RBAC to
   * create both, granted only when true. @default true
   */
  readonly tokenReview?: boolean;
  /** Secret whose keys are API keys (key name = key id), mounted read-only. @default no API keys */
  readonly apiKeysSecret?: string;
  /** Secret key with the HMAC secret of the event webhook, mounted read-only. @default webhook disabled */
  readonly webhookSecret?: SecretKeyRef;
  /**
   * `kubernetes.io/tls` Secret for the gRPC server (with `ca.crt`: client certificates required).
   * @default plaintext
   */
  readonly grpcTlsSecret?: string;
  /** `kubernetes.io/tls` Secret for the HTTP server (probes then use HTTPS). @default plaintext */
  readonly httpTlsSecret?: string;
  /** Tenants: their namespaces and the most replicas any one of their workloads may get. @default none */
  readonly tenants?: readonly TenantLimits[];
  /**
   * Cloud identity of the pods, for a managed Prometheus: `WorkloadIdentity.awsIrsa(roleArn)` (EKS) or
   * `WorkloadIdentity.azureWorkload(clientId)` (AKS, also labels the pods). @default none
   */
  readonly identity?: WorkloadIdentity;
  /**
   * Namespace of the KEDA operator, the only gRPC client (`kube-system` for AKS's KEDA add-on). Synth
   * refuses a value other than where a GitOpsAddons of the same cluster installs KEDA.
   * @default 'keda'
   */
  readonly kedaNamespace?: string;
  /**
   * Namespaces whose pods may call the HTTP port (metrics scrapes, API clients).
   * @default ['monitoring', <namespace>]
   */
  readonly httpIngressNamespaces?: readonly string[];
  /** Where the API server is reachable. @default any address on ports 443 and 6443 */
  readonly kubernetesApi?: RuntimeKubernetesApiAccess;
  /** ServiceMonitor for `/metrics`. @default RuntimeServiceMonitor.prometheusOperator() */
  readonly serviceMonitor?: RuntimeServiceMonitor;
  /**
   * Container requests and limits. The memory limit bounds how many workloads a replica takes:
   * 10,000 at a 1-minute interval (with ~200 MiB to spare) or about 11,000 at 10 seconds in 768Mi
   * (512Mi: about 9,500 and 6,700); past that, new ones are refused (UNAVAILABLE to KEDA) rather than
   * the container being OOM-killed. Many short-interval workloads also need CPU: 9,000 ten-second ones
   * (without weekly models) saturated the 1-core limit.
   * @default cpu 250m (limit 1), memory 768Mi (limit 768Mi)
   */
  readonly resources?: ContainerResources;
  /** Capacity the pods run on. @default Placement.onDemandOnly() */
  readonly placement?: Placement;
  /** PriorityClass of the pods. @default 'system-cluster-critical' */
  readonly priorityClassName?: string;
  /** Non-root UID. @default 65532 */
  readonly runAsUser?: number;
}

/** Options of {@link DecisionRuntime.reference}. */
export interface DecisionRuntimeReferenceOptions {
  /** The runtime's name. @default 'elasticai-runtime' */
  readonly name?: string;
  /** The runtime's namespace. @default 'elasticai-system' */
  readonly namespace?: string;
}

/** A decision runtime workloads can be scaled by: its scaler address and trigger factory. */
export interface IDecisionRuntime {
  readonly name: string;
  readonly namespace: string;
  /** gRPC address of its KEDA external scaler, `<service>.<namespace>.svc.cluster.local:9090`. */
  readonly scalerAddress: string;
  /** A KEDA trigger handing a workload to the runtime (see {@link RuntimeTriggerOptions}). */
  trigger(options: RuntimeTriggerOptions): Trigger;
}

function scalerAddressOf(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.cluster.local:${RUNTIME_GRPC_PORT}`;
}

/** A runtime deployed elsewhere (another chart or app): its address and triggers, checked at synth. */
class DecisionRuntimeReference implements IDecisionRuntime {
  readonly scalerAddress: string;

  constructor(
    readonly name: string,
    readonly namespace: string,
  ) {
    checkDnsLabel('name', name);
    checkDnsLabel('namespace', namespace);
    this.scalerAddress = scalerAddressOf(name, namespace);
  }

  trigger(options: RuntimeTriggerOptions): Trigger {
    return buildRuntimeTrigger(this.scalerAddress, options, undefined);
  }
}

const IMAGE_REFERENCE =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::\w[\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/**
 * ElasticAI's decision runtime in a cluster: one image serving KEDA's external-scaler gRPC API (port
 * 9090) and a REST API with health, readiness and Prometheus metrics (port 8080).
 *
 * Highly available by construction (≥ 2 replicas spread over zones and nodes, a PDB, on-demand capacity,
 * `system-cluster-critical`), Pod Security "restricted" with a read-only root and `/tmp` as the only
 * writable path, least-privilege RBAC (ScaledObjects, TokenReview/SubjectAccessReview, its own Leases),
 * a NetworkPolicy that lets in only KEDA (gRPC) and the configured namespaces (HTTP), and configuration
 * through the runtime's own `ELASTICAI_*` variables (`runtime/service/config.ts`), secrets only as
 * mounted Secrets.
 *
 * `runtime.trigger({...})` hands a workload to it as a KEDA trigger; compose it with KEDA's own scalers
 * through `scalingModifiers` (`max(predicted, queue / 20)`).
 */
export class DecisionRuntime extends Construct implements IDecisionRuntime {
  /**
   * A runtime deployed elsewhere, by name and namespace: for triggers built before (or apart from) the
   * runtime itself, e.g. in an environment table. The runtime checks such triggers at synth when it is
   * in the same app.
   */
  static reference(options: DecisionRuntimeReferenceOptions = {}): IDecisionRuntime {
    return new DecisionRuntimeReference(
      options.name ?? DECISION_RUNTIME_NAME,
      options.namespace ?? DECISION_RUNTIME_NAMESPACE,
    );
  }

  readonly name: string;
  readonly namespace: string;
  readonly scalerAddress: string;
  /** Labels selecting the runtime's pods. */
  readonly selector: Readonly<Record<string, string>>;
  readonly history: RuntimeHistory;
  readonly tenants: readonly TenantLimits[];
  /** The ServiceAccount object (annotate it for a cloud identity created elsewhere). */
  readonly serviceAccount: ApiObject;
  /** The Deployment object. */
  readonly deployment: ApiObject;
  /** The Service object. */
  readonly service: ApiObject;

  private readonly context: RuntimeTriggerContext;
  /** The only namespace whose pods may reach the gRPC port (the NetworkPolicy's). */
  private kedaNamespace = 'keda';

  constructor(scope: Construct, id: string, props: DecisionRuntimeProps) {
    super(scope, id);
    this.name = props.name ?? DECISION_RUNTIME_NAME;
    this.namespace = props.namespace ?? DECISION_RUNTIME_NAMESPACE;
    checkDnsLabel('name', this.name);
    checkDnsLabel('namespace', this.namespace);
    checkRuntimeImage(props.image);
    const replicas = props.replicas ?? 2;
    checkInteger('replicas', replicas, 1);
    if (replicas < 2) {
      throw new PropError(
        'replicas',
        replicas,
        "must be at least 2: KEDA's fallback does not fire when an external scaler is unreachable (KEDA issue 8056), so one replica down would stop scaling every workload it serves",
      );
    }
    if (!props.history) {
      throw new PropError(
        'history',
        props.history,
        'is required: a RuntimeHistory (e.g. RuntimeHistory.prometheus(url))',
      );
    }
    this.history = props.history;
    if (props.history.kind === 'webhook-only' && props.webhookSecret === undefined) {
      throw new PropError(
        'webhookSecret',
        undefined,
        'is required with RuntimeHistory.webhookOnly(): the webhook would be the only history source',
      );
    }
    this.tenants = checkTenants(props.tenants ?? []);
    if (props.tokenReview === false && props.apiKeysSecret === undefined) {
      throw new PropError(
        'tokenReview',
        false,
        'needs apiKeysSecret: without token review or API keys no caller could authenticate',
      );
    }
    this.scalerAddress = scalerAddressOf(this.name, this.namespace);
    this.selector = platform.selector(this.name);
    this.context = {
      grpcTls: props.grpcTlsSecret !== undefined,
      webhookOnly: props.history.kind === 'webhook-only',
      tenants: this.tenants,
    };

    this.serviceAccount = this.createServiceAccount(props);
    this.createRbac(props.tokenReview ?? true);
    this.deployment = this.createDeployment(props, replicas);
    this.service = platform.service(this, this.component, [
      { name: 'grpc', port: RUNTIME_GRPC_PORT, appProtocol: 'grpc' },
      {
        name: 'http',
        port: RUNTIME_HTTP_PORT,
        appProtocol: props.httpTlsSecret !== undefined ? 'https' : 'http',
      },
    ]);
    // With 2 replicas: one always serves KEDA during drains.
    platform.disruptionBudget(this, this.component);
    this.createNetworkPolicy(props);
    this.createServiceMonitor(props);
    this.node.addValidation({ validate: () => this.validateTriggers() });
    this.node.addValidation({ validate: () => this.validateKedaNamespace() });
  }

  /**
   * A KEDA trigger that hands a workload to this runtime (named `predicted` unless `name` is given),
   * e.g. `runtime.trigger({ query: 'sum(rate(http_requests_total[2m])) * 60', capacityPerReplica: 1200 })`.
   * Checked against this runtime: its history (no `query` on a webhook-only runtime), its tenants and
   * its gRPC TLS.
   */
  trigger(options: RuntimeTriggerOptions): Trigger {
    const cluster = ClusterChart.find(this)?.cluster;
    return buildRuntimeTrigger(this.scalerAddress, options, {
      ...this.context,
      ...(cluster
        ? { cluster: { name: cluster.name, nodePools: cluster.nodePools.map((p) => p.name) } }
        : {}),
    });
  }

  private get labels(): Record<string, string> {
    return platform.labels(this.selector, 'decision-runtime');
  }

  private get component(): platform.PlatformComponent {
    return { name: this.name, namespace: this.namespace, selector: this.selector, labels: this.labels };
  }

  private meta(namespaced = true): k8s.ObjectMeta {
    return { name: this.name, ...(namespaced ? { namespace: this.namespace } : {}), labels: this.labels };
  }

  private createServiceAccount(props: DecisionRuntimeProps): ApiObject {
    const annotations = props.identity?.serviceAccountAnnotations;
    return new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: {
        ...this.meta(),
        ...(annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
      },
      // The runtime calls the API server (ScaledObjects, Leases, TokenReview).
      automountServiceAccountToken: true,
    });
  }

  private createRbac(tokenReview: boolean): void {
    const rules: k8s.PolicyRule[] = [
      // Workload discovery: every ScaledObject with a trigger pointing here.
      { apiGroups: ['keda.sh'], resources: ['scaledobjects'], verbs: ['get', 'list', 'watch'] },
      // Manual overrides write KEDA's pause annotations (autoscaling.keda.sh/paused, paused-replicas,
      // paused-scale-in, paused-scale-out) and nothing else. RBAC cannot limit a patch to annotations:
      // this grant could change any field of any ScaledObject, so the runtime only ever sends a merge
      // patch of metadata.annotations.
      { apiGroups: ['keda.sh'], resources: ['scaledobjects'], verbs: ['patch'] },
    ];
    if (tokenReview) {
      // Callers of the REST API authenticate with Kubernetes tokens; the runtime asks the API server.
      rules.push(
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
        { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
      );
    }
    const subject: k8s.Subject = { kind: 'ServiceAccount', name: this.name, namespace: this.namespace };
    new k8s.KubeClusterRole(this, 'ClusterRole', { metadata: this.meta(false), rules });
    new k8s.KubeClusterRoleBinding(this, 'ClusterRoleBinding', {
      metadata: this.meta(false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: this.name },
      subjects: [subject],
    });
    // Leader election of the override-expiry job, in the runtime's own namespace only.
    new k8s.KubeRole(this, 'Role', {
      metadata: this.meta(),
      rules: [
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
      ],
    });
    new k8s.KubeRoleBinding(this, 'RoleBinding', {
      metadata: this.meta(),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: this.name },
      subjects: [subject],
    });
  }

  private renderEnv(props: DecisionRuntimeProps): {
    env: k8s.EnvVar[];
    mounts: k8s.VolumeMount[];
    volumes: k8s.Volume[];
  } {
    const env: k8s.EnvVar[] = [
      { name: ENV.grpcPort, value: String(RUNTIME_GRPC_PORT) },
      { name: ENV.httpPort, value: String(RUNTIME_HTTP_PORT) },
    ];
    const tmp = platform.tmpVolume('64Mi');
    const mounts: k8s.VolumeMount[] = [tmp.mount];
    const volumes: k8s.Volume[] = [tmp.volume];
    const mountSecret = (
      volume: string,
      secretName: string,
      prop: string,
      items?: k8s.KeyToPath[],
    ): string => {
      checkDnsSubdomain(prop, secretName);
      const path = `${SECRETS_DIR}/${volume}`;
      mounts.push({ name: volume, mountPath: path, readOnly: true });
      volumes.push({
        name: volume,
        secret: { secretName, defaultMode: SECRET_FILE_MODE, ...(items ? { items } : {}) },
      });
      return path;
    };
    const keyItem = (prop: string, ref: SecretKeyRef, file: string): k8s.KeyToPath[] => {
      if (!/^[-._a-zA-Z0-9]+$/.test(ref.key)) throw new PropError(prop, ref.key, 'must be a Secret data key');
      return [{ key: ref.key, path: file }];
    };

    const history = props.history;
    if (history.url !== undefined) {
      env.push(
        { name: ENV.prometheusUrl, value: history.url },
        { name: ENV.prometheusAuth, value: history.auth },
      );
      const token = history.bearerToken;
      if (token) {
        const dir = mountSecret(
          'prometheus-token',
          token.secretName,
          'history.token.secretName',
          keyItem('history.token.key', token, 'token'),
        );
        env.push({ name: ENV.prometheusTokenFile, value: `${dir}/token` });
      }
      if (history.awsRegion !== undefined)
        env.push({ name: ENV.prometheusAwsRegion, value: history.awsRegion });
      if (props.prometheusTimeout !== undefined) {
        const ms = props.prometheusTimeout.toMilliseconds({ integral: false });
        checkInteger('prometheusTimeout', ms, 100, 60_000);
        env.push({ name: ENV.prometheusTimeoutMs, value: String(ms) });
      }
    } else if (props.prometheusTimeout !== undefined) {
      throw new PropError(
        'prometheusTimeout',
        props.prometheusTimeout.toMilliseconds({ integral: false }),
        'applies only with a Prometheus history',
      );
    }
    const historyDays = props.historyDays ?? DEFAULTS.historyDays;
    checkInteger('historyDays', historyDays, 1, 90);
    env.push({ name: ENV.historyDays, value: String(historyDays) });
    const staleAfter = props.staleAfter?.toSeconds({ integral: false }) ?? DEFAULTS.staleAfterSeconds;
    checkInteger('staleAfter', staleAfter, 0, 86_400);
    env.push({ name: ENV.staleAfterSeconds, value: String(staleAfter) });
    const readAccess = props.readAccess ?? DEFAULTS.readAccess;
    if (readAccess !== 'anonymous' && readAccess !== 'authenticated') {
      throw new PropError('readAccess', readAccess, 'must be "anonymous" or "authenticated"');
    }
    env.push(
      { name: ENV.readAccess, value: readAccess },
      { name: ENV.tokenReview, value: String(props.tokenReview ?? true) },
    );
    if (this.tenants.length > 0) env.push({ name: ENV.tenants, value: JSON.stringify(this.tenants) });
    if (props.apiKeysSecret !== undefined) {
      env.push({
        name: ENV.apiKeysDir,
        value: mountSecret('api-keys', props.apiKeysSecret, 'apiKeysSecret'),
      });
    }
    if (props.webhookSecret !== undefined) {
      const dir = mountSecret(
        'webhook',
        props.webhookSecret.secretName,
        'webhookSecret.secretName',
        keyItem('webhookSecret.key', props.webhookSecret, 'secret'),
      );
      env.push({ name: ENV.webhookSecretFile, value: `${dir}/secret` });
    }
    if (props.grpcTlsSecret !== undefined) {
      env.push({
        name: ENV.grpcTlsDir,
        value: mountSecret('grpc-tls', props.grpcTlsSecret, 'grpcTlsSecret'),
      });
    }
    if (props.httpTlsSecret !== undefined) {
      env.push({
        name: ENV.httpTlsDir,
        value: mountSecret('http-tls', props.httpTlsSecret, 'httpTlsSecret'),
      });
    }
    env.push(
      { name: ENV.podName, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: ENV.namespace, valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    );
    return { env, mounts, volumes };
  }

  private createDeployment(props: DecisionRuntimeProps, replicas: number): ApiObject {
    const pod = platform.podSettings(props);
    const { env, mounts, volumes } = this.renderEnv(props);
    const probe = platform.httpProbe('http', props.httpTlsSecret !== undefined ? 'HTTPS' : 'HTTP', 3);
    return platform.deployment(this, this.component, {
      replicas,
      pod,
      podLabels: { ...this.labels, ...props.identity?.podLabels },
      // Longer than the runtime's own drain of gRPC and HTTP on SIGTERM (10 s by default).
      terminationGracePeriodSeconds: 30,
      container: {
        name: 'runtime',
        image: props.image,
        ports: [
          platform.containerPort('grpc', RUNTIME_GRPC_PORT),
          platform.containerPort('http', RUNTIME_HTTP_PORT),
        ],
        env,
        resources: renderResources(
          'resources',
          props.resources ?? {
            cpu: { request: Cpu.millis(250), limit: Cpu.millis(1000) },
            memory: {
              request: Size.mebibytes(RUNTIME_DEFAULT_MEMORY_MIB),
              limit: Size.mebibytes(RUNTIME_DEFAULT_MEMORY_MIB),
            },
          },
        ),
        // Up to 60 s to listen; then ready only when /readyz says so; restarted when /healthz stops answering.
        startupProbe: probe('/healthz', 2, 30),
        readinessProbe: probe('/readyz', 10, 3),
        livenessProbe: probe('/healthz', 10, 3),
        volumeMounts: mounts,
      },
      volumes,
    });
  }

  /**
   * A GitOpsAddons of the same cluster that installs KEDA elsewhere than `kedaNamespace` leaves the
   * runtime's NetworkPolicy letting no KEDA operator in: every ScaledObject on the runtime would fail.
   */
  private validateKedaNamespace(): string[] {
    const chart = ClusterChart.find(this);
    if (!chart) return [];
    return chart.node.root.node
      .findAll()
      .filter((c) => ClusterChart.isClusterChart(c) && c.cluster.name === chart.cluster.name)
      .flatMap((c) => c.node.findAll())
      .filter((c): c is GitOpsAddons => c instanceof GitOpsAddons)
      .filter((addons) => addons.kedaNamespace !== undefined && addons.kedaNamespace !== this.kedaNamespace)
      .map(
        (addons) =>
          `DecisionRuntime ${this.namespace}/${this.name}: kedaNamespace is "${this.kedaNamespace}", but ${addons.node.path} installs KEDA in "${addons.kedaNamespace}", so the runtime's NetworkPolicy lets no KEDA operator reach its gRPC port; set kedaNamespace: '${addons.kedaNamespace}'`,
      );
  }

  private createNetworkPolicy(props: DecisionRuntimeProps): void {
    const kedaNamespace = props.kedaNamespace ?? 'keda';
    checkDnsLabel('kedaNamespace', kedaNamespace);
    this.kedaNamespace = kedaNamespace;
    const httpNamespaces = props.httpIngressNamespaces ?? ['monitoring', this.namespace];
    checkNonEmpty('httpIngressNamespaces', httpNamespaces);
    httpNamespaces.forEach((ns, i) => checkDnsLabel(`httpIngressNamespaces[${i}]`, ns));
    const api = platform.kubernetesApiEndpoints(props.kubernetesApi);

    const egress: k8s.NetworkPolicyEgressRule[] = [
      platform.dnsEgressRule(),
      platform.kubernetesApiEgressRule(api),
    ];
    const destination = props.history.destination(this.namespace);
    if (destination?.namespace !== undefined) {
      egress.push({
        to: [platform.fromNamespace(destination.namespace)],
        ports: [platform.tcpPort(destination.port)],
      });
    } else if (destination !== undefined) {
      // A managed Prometheus outside the cluster (its addresses are not fixed); the cloud identity's
      // token endpoint (STS, Entra ID) is HTTPS on 443 too.
      egress.push({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [platform.tcpPort(destination.port)] });
    }
    platform.networkPolicy(
      this,
      this.component,
      [
        { from: [platform.fromNamespace(kedaNamespace)], ports: [platform.tcpPort(RUNTIME_GRPC_PORT)] },
        {
          from: [...new Set(httpNamespaces)].map(platform.fromNamespace),
          ports: [platform.tcpPort(RUNTIME_HTTP_PORT)],
        },
      ],
      egress,
    );
  }

  private createServiceMonitor(props: DecisionRuntimeProps): void {
    const monitor = props.serviceMonitor ?? RuntimeServiceMonitor.prometheusOperator();
    if (monitor.apiVersion === undefined) return;
    const o = monitor.options;
    const interval = platform.serviceMonitorInterval(o.interval);
    const tls = props.httpTlsSecret !== undefined;
    if (tls && o.tlsCa === undefined && monitor.apiVersion === 'monitoring.coreos.com/v1') {
      throw new PropError(
        'serviceMonitor.tlsCa',
        undefined,
        'is required when the runtime serves HTTP over TLS (httpTlsSecret): Prometheus must verify its certificate',
      );
    }
    if (tls && monitor.apiVersion === 'azmonitoring.coreos.com/v1') {
      throw new PropError(
        'serviceMonitor',
        'azureManagedPrometheus',
        'cannot scrape over TLS (httpTlsSecret): use RuntimeServiceMonitor.none() or plain HTTP',
      );
    }
    platform.checkServiceMonitorLabels(o.labels);
    const endpoint = platform.metricsEndpoint('http', interval, tls ? 'https' : 'http');
    if (tls && o.tlsCa) {
      checkDnsSubdomain('serviceMonitor.tlsCa.secretName', o.tlsCa.secretName);
      endpoint.tlsConfig = {
        serverName: `${this.name}.${this.namespace}.svc`,
        ca: { secret: { name: o.tlsCa.secretName, key: o.tlsCa.key } },
      };
    }
    platform.serviceMonitor(this, this.component, monitor.apiVersion, o.labels, endpoint);
  }

  /**
   * Synth-time check of every ScaledObject in the app whose external trigger points at this runtime, the
   * way the runtime will check it: a Prometheus query needs a Prometheus, gRPC TLS needs the trigger's
   * TLS material, and tenant names and replica caps must fit the runtime's tenants.
   */
  private validateTriggers(): string[] {
    const errors: string[] = [];
    for (const so of this.node.root.node.findAll()) {
      if (!(so instanceof ScaledObject)) continue;
      so.triggers.forEach((t, i) => {
        if (
          (t.type !== 'external' && t.type !== 'external-push') ||
          t.metadata.scalerAddress !== this.scalerAddress
        ) {
          return;
        }
        const where = `ScaledObject ${so.namespace}/${so.name} triggers[${i}]`;
        const metric = t.metadata[RUNTIME_METADATA.metric] ?? 'demand';
        const source = t.metadata[RUNTIME_METADATA.source] ?? 'prometheus';
        if (metric === 'demand' && source === 'prometheus' && this.context.webhookOnly) {
          errors.push(
            `${where}: queries Prometheus, but runtime ${this.namespace}/${this.name} has none (RuntimeHistory.webhookOnly())`,
          );
        }
        if (this.context.grpcTls && t.authentication === undefined) {
          errors.push(
            `${where}: runtime ${this.namespace}/${this.name} serves gRPC over TLS; the trigger needs authentication with caCert`,
          );
        }
        errors.push(...checkTenantRules(where, so.namespace, t.metadata, this.tenants));
        errors.push(...checkTriggerBounds(where, so, t.metadata));
      });
    }
    return errors;
  }
}

/**
 * The runtime's replica bounds against the ScaledObject's: the HPA clamps what the runtime asks into
 * its own bounds, so a runtime minimum above the HPA's maximum (or a maximum below its minimum) is a
 * setting that can never take effect.
 */
function checkTriggerBounds(
  where: string,
  so: ScaledObject,
  metadata: Readonly<Record<string, string>>,
): string[] {
  const errors: string[] = [];
  const min = metadata[RUNTIME_METADATA.minReplicas];
  const max = metadata[RUNTIME_METADATA.maxReplicas];
  if (min !== undefined && Number(min) > so.maxReplicas) {
    errors.push(
      `${where}: minReplicas ${min} is above the ScaledObject's maxReplicas ${so.maxReplicas}, which the HPA never exceeds`,
    );
  }
  if (max !== undefined && Number(max) < so.minReplicas) {
    errors.push(
      `${where}: maxReplicas ${max} is below the ScaledObject's minReplicas ${so.minReplicas}, which the HPA always keeps`,
    );
  }
  return errors;
}

function checkRuntimeImage(image: string): void {
  checkImage('image', image);
  if (!IMAGE_REFERENCE.test(image)) {
    throw new PropError('image', image, 'must be an image reference like "ghcr.io/org/name:1.2.3"');
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The runtime's own tenant rules (`parseTenants` of runtime/service/config.ts), as prop errors. */
function checkTenants(tenants: readonly TenantLimits[]): TenantLimits[] {
  const names = new Set<string>();
  const owners = new Map<string, string>();
  return tenants.map((t, i) => {
    const p = `tenants[${i}]`;
    if (!DNS_LABEL.test(t.name)) throw new PropError(`${p}.name`, t.name, 'must be a DNS label');
    if (names.has(t.name)) throw new PropError(`${p}.name`, t.name, 'must be unique among the tenants');
    names.add(t.name);
    checkNonEmpty(`${p}.namespaces`, t.namespaces);
    for (const ns of t.namespaces) {
      checkDnsLabel(`${p}.namespaces`, ns);
      const owner = owners.get(ns);
      if (owner !== undefined)
        throw new PropError(`${p}.namespaces`, ns, `already belongs to tenant ${owner}`);
      owners.set(ns, t.name);
    }
    checkInteger(`${p}.maxReplicas`, t.maxReplicas, 1);
    return { name: t.name, namespaces: [...t.namespaces], maxReplicas: t.maxReplicas };
  });
}
