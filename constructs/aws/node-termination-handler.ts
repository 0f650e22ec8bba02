import { Cpu, k8s } from 'cdk8s-plus-28';
import { Size } from 'cdk8s';
import { Construct } from 'constructs';
import { Placement } from '../k8s/placement.js';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../k8s/pod-security.js';
import { renderResources } from '../k8s/resources.js';
import { checkDnsLabel, checkImage, checkInteger, PropError } from '../k8s/validation.js';
import { NTH_MANAGED_TAG } from './node-termination-handler-role.js';

/**
 * AWS Node Termination Handler release deployed by default: v1.25.2 (aws/aws-node-termination-handler
 * GitHub release, 2025; image on public ECR). Bump deliberately.
 */
export const NTH_IMAGE = 'public.ecr.aws/aws-ec2/aws-node-termination-handler:v1.25.2';

const NAME = 'aws-node-termination-handler';
/** Probe server port (the chart's `probes.httpGet.port`). */
const PROBE_PORT = 8080;
/** UID/GID the upstream chart runs the handler as. */
const RUN_AS = 1000;

/** Props for a {@link NodeTerminationHandler}. */
export interface NodeTerminationHandlerProps {
  /** URL of the SQS queue fed by the interruption rules and lifecycle hooks. */
  readonly queueUrl: string;
  /** AWS region of the queue. */
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
}

/**
 * AWS Node Termination Handler in queue-processor mode as cdk8s objects (equal to the upstream
 * chart's `enableSqsTerminationDraining` Deployment and RBAC): it reads the interruption queue and
 * cordons and drains the node an event names, then completes the ASG lifecycle action. It only acts
 * on instances tagged `aws-node-termination-handler/managed` (the self-managed mixed groups; EKS
 * managed node groups drain their own nodes). Restricted pod security, on-demand system nodes, two
 * replicas with a PDB.
 */
export class NodeTerminationHandler extends Construct {
  readonly namespace: string;
  readonly serviceAccountName = NAME;

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
    if (props.queueUrl.length === 0) throw new PropError('queueUrl', props.queueUrl, 'must not be empty');

    const labels = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/part-of': 'elasticai' };
    const selector = { 'app.kubernetes.io/name': NAME };
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
      ENABLE_PROMETHEUS_SERVER: 'false',
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
                ports: [{ name: 'liveness-probe', containerPort: PROBE_PORT, protocol: 'TCP' }],
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
  }
}
