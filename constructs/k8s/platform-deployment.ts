import { ApiObject, Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { RuntimeKubernetesApiAccess } from './decision-runtime.js';
import { Placement } from './placement.js';
import {
  DEFAULT_RUN_AS_USER,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from './pod-security.js';
import { PropError, checkDnsSubdomain, checkInteger, checkNonEmpty, checkLabels } from './validation.js';

/*
 * The shape shared by the platform components that run the runtime image (the decision runtime and the
 * scale-to-zero resolver): a highly available Deployment (≥ 2 replicas spread over zones and nodes,
 * surge-only rollouts, a PDB, system-cluster-critical, Pod Security "restricted" with a read-only root
 * and a small `/tmp`), a ClusterIP Service, a NetworkPolicy that starts from DNS and the API server, and
 * a ServiceMonitor for `/metrics`. Each function makes one piece; the components keep what differs
 * (container, environment, RBAC, the NetworkPolicy's own rules, the scrape endpoint). Internal: not
 * exported from the package's entry point; imported as a namespace (`platform.deployment(...)`).
 */

/** Label every namespace carries with its own name: what NetworkPolicy peers select namespaces by. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** Names and labels of one platform component's objects. */
export interface PlatformComponent {
  /** Name of every namespaced object (Deployment, Service, PDB, NetworkPolicy, ServiceMonitor, ...). */
  readonly name: string;
  readonly namespace: string;
  /** Labels selecting the component's pods. */
  readonly selector: Readonly<Record<string, string>>;
  /** Labels of every object (the selector's included). */
  readonly labels: Readonly<Record<string, string>>;
}

/** Labels selecting a platform component's pods, by the component's name. */
export function selector(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': name };
}

/** Labels of a platform component's objects: its selector, its component and the ElasticAI labels. */
export function labels(
  podSelector: Readonly<Record<string, string>>,
  component: string,
): Record<string, string> {
  return {
    ...podSelector,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': 'elasticai',
    'app.kubernetes.io/managed-by': 'elasticai',
  };
}

function metadata(c: PlatformComponent): k8s.ObjectMeta {
  return { name: c.name, namespace: c.namespace, labels: { ...c.labels } };
}

/** Pod settings every platform component takes, as its props spell them. */
export interface PlatformPodOptions {
  readonly runAsUser?: number;
  readonly priorityClassName?: string;
  readonly placement?: Placement;
}

/** {@link PlatformPodOptions} checked, with their defaults. */
export interface PlatformPodSettings {
  /** Non-root UID (default 65532). */
  readonly runAsUser: number;
  /** Default `system-cluster-critical`. */
  readonly priorityClassName: string;
  /** Tolerations and affinity of the placement (default on-demand only). */
  readonly placement: { tolerations?: k8s.Toleration[]; affinity: k8s.Affinity };
}

/** Checks `runAsUser` and `priorityClassName` and applies the defaults of the three pod settings. */
export function podSettings(props: PlatformPodOptions): PlatformPodSettings {
  const runAsUser = props.runAsUser ?? DEFAULT_RUN_AS_USER;
  checkInteger('runAsUser', runAsUser, 1);
  const priorityClassName = props.priorityClassName ?? 'system-cluster-critical';
  checkDnsSubdomain('priorityClassName', priorityClassName);
  const placement = (props.placement ?? Placement.onDemandOnly()).podSpecFields();
  return { runAsUser, priorityClassName, placement };
}

/** A factory of HTTP GET probes on one named container port: `(path, periodSeconds, failureThreshold)`. */
export function httpProbe(
  port: string,
  scheme: 'HTTP' | 'HTTPS',
  timeoutSeconds: number,
): (path: string, periodSeconds: number, failureThreshold: number) => k8s.Probe {
  return (path, periodSeconds, failureThreshold) => ({
    httpGet: { path, port: k8s.IntOrString.fromString(port), scheme },
    periodSeconds,
    timeoutSeconds,
    failureThreshold,
  });
}

/** A named TCP port of the container. */
export function containerPort(name: string, port: number): k8s.ContainerPort {
  return { name, containerPort: port, protocol: 'TCP' };
}

/** `/tmp`, the only writable path of the read-only root: an `emptyDir` of `sizeLimit` and its mount. */
export function tmpVolume(sizeLimit: string): { mount: k8s.VolumeMount; volume: k8s.Volume } {
  return {
    mount: { name: 'tmp', mountPath: '/tmp' },
    volume: { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString(sizeLimit) } },
  };
}

/** What differs between the platform Deployments. */
export interface PlatformDeploymentSpec {
  readonly replicas: number;
  readonly pod: PlatformPodSettings;
  /** Labels of the pod template (at least the selector). */
  readonly podLabels: Record<string, string>;
  /** Longer than the process's own drain on SIGTERM. */
  readonly terminationGracePeriodSeconds: number;
  /** The one container; it gets `imagePullPolicy: IfNotPresent` and the restricted security context. */
  readonly container: k8s.Container;
  readonly volumes: k8s.Volume[];
}

/**
 * The component's Deployment (`Deployment`): surge-only rolling updates, spread over zones and nodes,
 * Pod Security "restricted", the ServiceAccount named like the component with its token mounted (every
 * platform component calls the API server), no Service links, and allowed on the system pool.
 */
export function deployment(scope: Construct, c: PlatformComponent, spec: PlatformDeploymentSpec): ApiObject {
  const spread = (topologyKey: string, whenUnsatisfiable: string): k8s.TopologySpreadConstraint => ({
    topologyKey,
    maxSkew: 1,
    whenUnsatisfiable,
    labelSelector: { matchLabels: { ...c.selector } },
    matchLabelKeys: ['pod-template-hash'],
  });
  const { pod } = spec;
  return new k8s.KubeDeployment(scope, 'Deployment', {
    metadata: metadata(c),
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: { ...c.selector } },
      revisionHistoryLimit: 5,
      // A new pod is ready before an old one goes: never fewer than `replicas` serve during a rollout.
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: {
          maxSurge: k8s.IntOrString.fromNumber(1),
          maxUnavailable: k8s.IntOrString.fromNumber(0),
        },
      },
      template: {
        metadata: { labels: spec.podLabels },
        spec: {
          serviceAccountName: c.name,
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          priorityClassName: pod.priorityClassName,
          securityContext: restrictedPodSecurityContext(pod.runAsUser),
          terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
          // A platform piece like cluster-autoscaler: may run on the system pool, never on spot.
          tolerations: [
            { key: 'CriticalAddonsOnly', operator: 'Exists' },
            ...(pod.placement.tolerations ?? []),
          ],
          affinity: pod.placement.affinity,
          topologySpreadConstraints: [
            // ScheduleAnyway across zones: in a zone outage the replacement must still schedule in the
            // surviving zones (DoNotSchedule would leave it pending at skew 2 against the empty zone).
            spread('topology.kubernetes.io/zone', 'ScheduleAnyway'),
            // DoNotSchedule across nodes: two replicas on one node die together; the autoscaler adds a
            // node rather than co-locating them (one eligible node alone still satisfies the skew).
            spread('kubernetes.io/hostname', 'DoNotSchedule'),
          ],
          containers: [
            {
              ...spec.container,
              imagePullPolicy: 'IfNotPresent',
              securityContext: restrictedContainerSecurityContext(),
            },
          ],
          volumes: spec.volumes,
        },
      },
    },
  });
}

/** A port of the component's Service, targeting the container port of the same name. */
export interface PlatformServicePort {
  readonly name: string;
  readonly port: number;
  /** @default none */
  readonly appProtocol?: string;
}

/** The component's ClusterIP Service (`Service`), over its pods. */
export function service(
  scope: Construct,
  c: PlatformComponent,
  ports: readonly PlatformServicePort[],
): ApiObject {
  return new k8s.KubeService(scope, 'Service', {
    metadata: metadata(c),
    spec: {
      type: 'ClusterIP',
      selector: { ...c.selector },
      ports: ports.map((p) => ({
        name: p.name,
        port: p.port,
        targetPort: k8s.IntOrString.fromString(p.name),
        protocol: 'TCP',
        ...(p.appProtocol !== undefined ? { appProtocol: p.appProtocol } : {}),
      })),
    },
  });
}

/**
 * The component's PodDisruptionBudget (`DisruptionBudget`): one pod at a time, so with 2 replicas one
 * always serves during drains; unhealthy pods never block a drain.
 */
export function disruptionBudget(scope: Construct, c: PlatformComponent): void {
  new k8s.KubePodDisruptionBudget(scope, 'DisruptionBudget', {
    metadata: metadata(c),
    spec: {
      maxUnavailable: k8s.IntOrString.fromNumber(1),
      selector: { matchLabels: { ...c.selector } },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  });
}

/** A NetworkPolicy peer: every pod of one namespace. */
export function fromNamespace(namespace: string): k8s.NetworkPolicyPeer {
  return { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } } };
}

/** A NetworkPolicy port: TCP `port`. */
export function tcpPort(port: number): k8s.NetworkPolicyPort {
  return { protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) };
}

/** Egress to the cluster DNS (kube-dns in kube-system), UDP and TCP 53. */
export function dnsEgressRule(): k8s.NetworkPolicyEgressRule {
  return {
    to: [
      {
        namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
    ],
    ports: [
      { protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) },
      { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) },
    ],
  };
}

/** The API server's endpoints, with their defaults applied. */
export interface KubernetesApiEndpoints {
  readonly cidrs: readonly string[];
  readonly ports: readonly number[];
}

/** `kubernetesApi` checked (IPv4 CIDRs, ports 1–65535), defaulting to any address on 443 and 6443. */
export function kubernetesApiEndpoints(api: RuntimeKubernetesApiAccess = {}): KubernetesApiEndpoints {
  const cidrs = api.cidrs ?? ['0.0.0.0/0'];
  const ports = api.ports ?? [443, 6443];
  checkNonEmpty('kubernetesApi.cidrs', cidrs);
  cidrs.forEach((c, i) => checkCidr(`kubernetesApi.cidrs[${i}]`, c));
  checkNonEmpty('kubernetesApi.ports', ports);
  ports.forEach((p, i) => checkInteger(`kubernetesApi.ports[${i}]`, p, 1, 65535));
  return { cidrs, ports };
}

/**
 * Egress to the API server. NetworkPolicy sees its endpoint addresses and ports after the `kubernetes`
 * Service is translated (443 on EKS and AKS, 6443 on kubeadm-style clusters); they live outside the pod
 * network, so no namespace selector can name them.
 */
export function kubernetesApiEgressRule(api: KubernetesApiEndpoints): k8s.NetworkPolicyEgressRule {
  return {
    to: api.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
    ports: [...new Set(api.ports)].map(tcpPort),
  };
}

/**
 * The component's NetworkPolicy (`NetworkPolicy`) over its pods, both directions. Kubelet probes come
 * from the node itself; common CNIs (VPC CNI, Azure CNI/Cilium, Calico) always allow traffic from the
 * pod's own node, so no rule is needed for them.
 */
export function networkPolicy(
  scope: Construct,
  c: PlatformComponent,
  ingress: k8s.NetworkPolicyIngressRule[],
  egress: k8s.NetworkPolicyEgressRule[],
): void {
  new k8s.KubeNetworkPolicy(scope, 'NetworkPolicy', {
    metadata: metadata(c),
    spec: {
      podSelector: { matchLabels: { ...c.selector } },
      policyTypes: ['Ingress', 'Egress'],
      ingress,
      egress,
    },
  });
}

/** `serviceMonitor.interval` in whole seconds (at least 1). @default 30 s */
export function serviceMonitorInterval(interval: Duration = Duration.seconds(30)): number {
  const seconds = interval.toSeconds({ integral: false });
  checkInteger('serviceMonitor.interval', seconds, 1);
  return seconds;
}

/** Checks `serviceMonitor.labels`: label keys, values of at most 63 characters. */
export function checkServiceMonitorLabels(labels: Readonly<Record<string, string>> = {}): void {
  checkLabels('serviceMonitor.labels', labels);
}

/** A ServiceMonitor endpoint scraping `/metrics` on a named port of the Service. */
export function metricsEndpoint(
  port: string,
  intervalSeconds: number,
  scheme: string,
): Record<string, unknown> {
  return { port, path: '/metrics', interval: `${intervalSeconds}s`, scheme };
}

/**
 * The component's ServiceMonitor (`ServiceMonitor`) of `apiVersion`, over its Service in its own
 * namespace, with extra `labels` (a Prometheus' `serviceMonitorSelector`).
 */
export function serviceMonitor(
  scope: Construct,
  c: PlatformComponent,
  apiVersion: string,
  labels: Readonly<Record<string, string>> | undefined,
  endpoint: Record<string, unknown>,
): void {
  new ApiObject(scope, 'ServiceMonitor', {
    apiVersion,
    kind: 'ServiceMonitor',
    metadata: { ...metadata(c), labels: { ...c.labels, ...labels } },
    spec: {
      selector: { matchLabels: { ...c.selector } },
      namespaceSelector: { matchNames: [c.namespace] },
      endpoints: [endpoint],
    },
  });
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function checkCidr(prop: string, cidr: string): void {
  const m = CIDR.exec(cidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) {
    throw new PropError(prop, cidr, 'must be an IPv4 CIDR like "10.0.0.0/16"');
  }
}
