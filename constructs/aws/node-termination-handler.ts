import { Cpu, k8s } from 'cdk8s-plus-28';
import { Size } from 'cdk8s';
import { Construct } from 'constructs';
import { MetricsMonitor, MetricsTarget } from '../k8s/metrics-monitor.js';
import { MetricsScraping, scraperIngress } from '../k8s/metrics-scraping.js';
import { Placement } from '../k8s/placement.js';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../k8s/pod-security.js';
import { renderResources } from '../k8s/resources.js';
import { checkDnsLabel, checkImage, checkInteger, PropError } from '../k8s/validation.js';
import { checkAwsRegion, checkSqsQueueUrl } from './aws-checks.js';
import { isQualifiedKey } from '../k8s/node-pool-checks.js';

// This file stays free of aws-cdk-lib: the manifest synth (and the Pulumi program) build NTH's
// PodMonitor through `NodeTerminationHandler.podMonitor` without loading it.

/** Tag NTH checks before it acts on an instance (its `managedTag` default). */
export const NTH_MANAGED_TAG = 'aws-node-termination-handler/managed';

/**
 * AWS Node Termination Handler release deployed by default: v1.25.2 (aws/aws-node-termination-handler
 * GitHub release, 2025; image on public ECR). Bump deliberately.
 */
export const NTH_IMAGE = 'public.ecr.aws/aws-ec2/aws-node-termination-handler:v1.25.2';

const NAME = 'aws-node-termination-handler';
/** Probe server port (the chart's `probes.httpGet.port`). */
const PROBE_PORT = 8080;
/**
 * Port of NTH's Prometheus server (`PROMETHEUS_SERVER_PORT`, the chart's `prometheusServerPort`
 * default), serving `/metrics`.
 */
export const NTH_METRICS_PORT = 9092;
/** Name of the metrics container port (the upstream chart's). */
const METRICS_PORT_NAME = 'http-metrics';
/** Labels of NTH's pods that its Deployment, PDB, NetworkPolicy and PodMonitor select. */
const SELECTOR = { 'app.kubernetes.io/name': NAME };
/** UID/GID the upstream chart runs the handler as. */
const RUN_AS = 1000;

/** Props for a {@link NodeTerminationHandler}. */
export interface NodeTerminationHandlerProps {
  /**
   * URL of the SQS queue fed by the interruption rules and lifecycle hooks
   * (`https://sqs.<region>.amazonaws.com/<account>/<name>`, in `region`, on the SQS domain of its partition:
   * `amazonaws.com.cn`, `c2s.ic.gov`, `sc2s.sgov.gov`; or the legacy `<region>.queue.amazonaws.com`), or
   * the queue's `queueUrl` token.
   */
  readonly queueUrl: string;
  /** AWS region of the queue, e.g. `us-east-1`. */
  readonly region: string;
  /** ServiceAccount annotations: the IRSA role (`eks.amazonaws.com/role-arn`). */
  readonly serviceAccountAnnotations: Readonly<Record<string, string>>;
  /** Namespace. @default 'kube-system' */
  readonly namespace?: string;
  /** Replicas; queue mode shares the queue between them. @default 2 */
  readonly replicas?: number;
  /** Image, pinned. @default NTH_IMAGE */
  readonly image?: string;
  /** Seconds pods get to stop when a node drains; -1 uses each pod's own grace period. @default -1 */
  readonly podTerminationGracePeriodSeconds?: number;
  /** Seconds the handler waits for a node drain before giving up. @default 120 */
  readonly nodeTerminationGracePeriodSeconds?: number;
  /**
   * Who scrapes the handler's Prometheus server (port 9092: `actions_total`, the drain counter of the
   * spot alert and panel). Any choice but `none()` turns the server on; the NetworkPolicy lets only the
   * scraper's namespaces reach it. With a monitor flavour a PodMonitor is written too.
   * @default MetricsScraping.collector(): server on, the `monitoring` namespace let in, no PodMonitor
   */
  readonly monitoring?: MetricsScraping;
}

/** Options of {@link NodeTerminationHandler.podMonitor}. */
export interface NodeTerminationHandlerPodMonitorOptions {
  /** Who scrapes (its flavour decides the PodMonitor's apiVersion; none for `collector()`/`none()`). */
  readonly scraping: MetricsScraping;
  /** Namespace of the handler. @default 'kube-system' */
  readonly namespace?: string;
}

/**
 * AWS Node Termination Handler in queue-processor mode as cdk8s objects (equal to the upstream
 * chart's `enableSqsTerminationDraining` Deployment and RBAC): it reads the interruption queue and
 * cordons and drains the node an event names, then completes the ASG lifecycle action. It only acts
 * on instances tagged `aws-node-termination-handler/managed` (the self-managed mixed groups; EKS
 * managed node groups drain their own nodes). Restricted pod security, on-demand system nodes, two
 * replicas with a PDB, and a NetworkPolicy: nothing may connect to the pods but the scraper's
 * namespaces, on the Prometheus server's port (and the kubelet's probes from the node).
 */
export class NodeTerminationHandler extends Construct {
  /**
   * A PodMonitor for the handler's Prometheus server, on its own: for a chart applied apart from the
   * handler (GitOps), where the monitor CRD exists, while the handler's stack applies it without one
   * (`monitoring: scraping.withoutMonitors()`). Job `aws-node-termination-handler`.
   */
  static podMonitor(
    scope: Construct,
    id: string,
    options: NodeTerminationHandlerPodMonitorOptions,
  ): MetricsMonitor {
    return new MetricsMonitor(scope, id, {
      name: NAME,
      namespace: options.namespace ?? 'kube-system',
      scraping: options.scraping,
      target: MetricsTarget.podPort(SELECTOR, METRICS_PORT_NAME),
      jobLabel: 'app.kubernetes.io/name',
      prop: 'scraping',
    });
  }

  readonly namespace: string;
  readonly serviceAccountName = NAME;
  /** Who scrapes the handler (`MetricsScraping.none()`: its Prometheus server is off). */
  readonly monitoring: MetricsScraping;

  constructor(scope: Construct, id: string, props: NodeTerminationHandlerProps) {
    super(scope, id);
    this.namespace = props.namespace ?? 'kube-system';
    checkDnsLabel('namespace', this.namespace);
    const replicas = props.replicas ?? 2;
    checkInteger('replicas', replicas, 1, 10);
    const image = props.image ?? NTH_IMAGE;
    checkImage('image', image);
    const podGrace = props.podTerminationGracePeriodSeconds ?? -1;
    checkInteger('podTerminationGracePeriodSeconds', podGrace, -1);
    const nodeGrace = props.nodeTerminationGracePeriodSeconds ?? 120;
    checkInteger('nodeTerminationGracePeriodSeconds', nodeGrace, 1);
    checkAwsRegion('region', props.region);
    checkSqsQueueUrl('queueUrl', props.queueUrl, props.region);
    for (const key of Object.keys(props.serviceAccountAnnotations)) {
      if (!isQualifiedKey(key)) {
        throw new PropError('serviceAccountAnnotations', key, 'is not a valid Kubernetes annotation key');
      }
    }
    this.monitoring = props.monitoring ?? MetricsScraping.collector();
    const metrics = this.monitoring.enabled;

    const labels = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/part-of': 'elasticai' };
    const selector = { ...SELECTOR };
    const meta = (namespaced: boolean): k8s.ObjectMeta => ({
      name: NAME,
      labels,
      ...(namespaced ? { namespace: this.namespace } : {}),
    });

    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { ...meta(true), annotations: { ...props.serviceAccountAnnotations } },
      automountServiceAccountToken: false,
    });
    new k8s.KubeClusterRole(this, 'ClusterRole', {
      metadata: meta(false),
      rules: [
        { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'patch', 'update'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['list', 'get'] },
        { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
        { apiGroups: ['extensions'], resources: ['daemonsets'], verbs: ['get'] },
        { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get'] },
      ],
    });
    new k8s.KubeClusterRoleBinding(this, 'ClusterRoleBinding', {
      metadata: meta(false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
      subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: this.namespace }],
    });

    const env: Record<string, string> = {
      ENABLE_SQS_TERMINATION_DRAINING: 'true',
      QUEUE_URL: props.queueUrl,
      AWS_REGION: props.region,
      CHECK_TAG_BEFORE_DRAINING: 'true',
      MANAGED_TAG: NTH_MANAGED_TAG,
      DELETE_LOCAL_DATA: 'true',
      IGNORE_DAEMON_SETS: 'true',
      POD_TERMINATION_GRACE_PERIOD: String(podGrace),
      NODE_TERMINATION_GRACE_PERIOD: String(nodeGrace),
      ENABLE_PROBES_SERVER: 'true',
      PROBES_SERVER_PORT: String(PROBE_PORT),
      PROBES_SERVER_ENDPOINT: '/healthz',
      JSON_LOGGING: 'true',
      LOG_LEVEL: 'info',
      ENABLE_PROMETHEUS_SERVER: String(metrics),
      ...(metrics ? { PROMETHEUS_SERVER_PORT: String(NTH_METRICS_PORT) } : {}),
      EMIT_KUBERNETES_EVENTS: 'false',
    };
    const fieldEnv = (name: string, fieldPath: string): k8s.EnvVar => ({
      name,
      valueFrom: { fieldRef: { fieldPath } },
    });
    const probe: k8s.Probe = {
      httpGet: { path: '/healthz', port: k8s.IntOrString.fromNumber(PROBE_PORT) },
      initialDelaySeconds: 5,
      periodSeconds: 5,
    };

    new k8s.KubeDeployment(this, 'Deployment', {
      metadata: meta(true),
      spec: {
        replicas,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: NAME,
            // It cordons and drains nodes through the API.
            automountServiceAccountToken: true,
            priorityClassName: 'system-cluster-critical',
            securityContext: restrictedPodSecurityContext(RUN_AS),
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }],
            // Never on spot: it must outlive the nodes it drains.
            affinity: Placement.onDemandOnly().podSpecFields().affinity,
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'kubernetes.io/hostname',
                whenUnsatisfiable: 'ScheduleAnyway',
                labelSelector: { matchLabels: selector },
              },
            ],
            containers: [
              {
                name: NAME,
                image,
                imagePullPolicy: 'IfNotPresent',
                env: [
                  fieldEnv('NODE_NAME', 'spec.nodeName'),
                  fieldEnv('POD_NAME', 'metadata.name'),
                  fieldEnv('NAMESPACE', 'metadata.namespace'),
                  ...Object.entries(env)
                    .sort(([a], [b]) => a.localeCompare(b))
                    .map(([name, value]) => ({ name, value })),
                ],
                ports: [
                  { name: 'liveness-probe', containerPort: PROBE_PORT, protocol: 'TCP' },
                  ...(metrics
                    ? [{ name: METRICS_PORT_NAME, containerPort: NTH_METRICS_PORT, protocol: 'TCP' }]
                    : []),
                ],
                livenessProbe: probe,
                readinessProbe: probe,
                resources: renderResources('resources', {
                  cpu: { request: Cpu.millis(50) },
                  memory: { request: Size.mebibytes(64) },
                }),
                securityContext: restrictedContainerSecurityContext(),
              },
            ],
          },
        },
      },
    });
    new k8s.KubePodDisruptionBudget(this, 'PodDisruptionBudget', {
      metadata: meta(true),
      spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: selector } },
    });

    // Queue mode takes no connections: only the scraper, on the metrics port. Kubelet probes come from
    // the node, which the common CNIs (VPC CNI, Calico, Cilium) always let in.
    new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: meta(true),
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress'],
        ingress: scraperIngress(this.monitoring, 'monitoring', NTH_METRICS_PORT),
      },
    });
    if (this.monitoring.apiVersion !== undefined) {
      NodeTerminationHandler.podMonitor(this, 'PodMonitor', {
        scraping: this.monitoring,
        namespace: this.namespace,
      });
    }
  }
}
