/**
 * Who scrapes a component's `/metrics`, as one typed choice shared by the platform constructs
 * (cluster-autoscaler, KEDA, AWS Node Termination Handler) and Tenants: the scraper's namespaces, which
 * the component's NetworkPolicy lets in on its metrics port and nothing else, and the scrape object
 * that tells the scraper about it (a Prometheus operator's ServiceMonitor / PodMonitor, AKS managed
 * Prometheus' `azmonitoring.coreos.com` flavour of them, or none for a collector configured elsewhere).
 */
import { Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { PropError, checkDnsLabel, checkInteger, checkNonEmpty } from './validation.js';

/** Namespace of the in-cluster scraper when none is given: kube-prometheus-stack's, and an agent's. */
export const MONITORING_NAMESPACE = 'monitoring';

/** Namespace of AKS managed Prometheus' scrapers (the `ama-metrics` pods of the metrics add-on). */
export const AZURE_MANAGED_PROMETHEUS_NAMESPACE = 'kube-system';

/** Label the API server sets on every namespace (since 1.21), value the namespace's name. */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** Options of {@link MetricsScraping.prometheusOperator}. */
export interface MetricsScrapingOptions {
  /** Scrape interval written into the ServiceMonitor / PodMonitor. @default 30 s */
  readonly interval?: Duration;
  /**
   * Extra labels of the ServiceMonitor / PodMonitor, e.g. the `release` label a kube-prometheus-stack
   * Prometheus selects monitors by. @default {}
   */
  readonly labels?: Readonly<Record<string, string>>;
  /** Namespaces of the scraper's pods, let in on the metrics port. @default ['monitoring'] */
  readonly namespaces?: readonly string[];
}

/** Options of {@link MetricsScraping.azureManagedPrometheus}. */
export type AzureManagedPrometheusScrapingOptions = Omit<MetricsScrapingOptions, 'namespaces'>;

/** Options of {@link MetricsScraping.collector}. */
export interface CollectorScrapingOptions {
  /** Namespaces of the collector's pods, let in on the metrics port. @default ['monitoring'] */
  readonly namespaces?: readonly string[];
}

/** What a {@link MetricsScraping} is. */
export type MetricsScrapingKind = 'prometheus-operator' | 'azure-managed-prometheus' | 'collector' | 'none';

/** apiVersion of the scrape objects of each kind (undefined: none written). */
const API_VERSIONS: Record<MetricsScrapingKind, string | undefined> = {
  'prometheus-operator': 'monitoring.coreos.com/v1',
  'azure-managed-prometheus': 'azmonitoring.coreos.com/v1',
  collector: undefined,
  none: undefined,
};

/**
 * How a component's metrics are scraped. Every kind but `none()` turns the component's metrics
 * endpoint on and lets only the scraper's namespaces reach it (a NetworkPolicy on the metrics port,
 * never all ports or all namespaces).
 */
export class MetricsScraping {
  /**
   * A Prometheus operator (kube-prometheus-stack) in the cluster: a `monitoring.coreos.com/v1`
   * ServiceMonitor or PodMonitor per component, and its Prometheus' namespace let in.
   */
  static prometheusOperator(options: MetricsScrapingOptions = {}): MetricsScraping {
    return new MetricsScraping(
      'prometheus-operator',
      options.namespaces ?? [MONITORING_NAMESPACE],
      options.interval,
      options.labels ?? {},
    );
  }

  /**
   * AKS managed Prometheus (the metrics add-on): `azmonitoring.coreos.com/v1` monitors, which its
   * `ama-metrics` pods read, and `kube-system` (where they run) let in.
   */
  static azureManagedPrometheus(options: AzureManagedPrometheusScrapingOptions = {}): MetricsScraping {
    return new MetricsScraping(
      'azure-managed-prometheus',
      [AZURE_MANAGED_PROMETHEUS_NAMESPACE],
      options.interval,
      options.labels ?? {},
    );
  }

  /**
   * A scraper configured elsewhere (a Prometheus agent or OpenTelemetry collector remote-writing to
   * Amazon Managed Prometheus, a hand-written scrape config): the metrics endpoint is on and its
   * namespaces are let in, but no scrape object is written, so no CRD is needed.
   */
  static collector(options: CollectorScrapingOptions = {}): MetricsScraping {
    return new MetricsScraping('collector', options.namespaces ?? [MONITORING_NAMESPACE], undefined, {});
  }

  /** Nobody scrapes: the metrics endpoint is off where the component allows, and no namespace is let in. */
  static none(): MetricsScraping {
    return new MetricsScraping('none', [], undefined, {});
  }

  private constructor(
    readonly kind: MetricsScrapingKind,
    /** Namespaces let in on the metrics port. */
    readonly namespaces: readonly string[],
    /** Scrape interval of the monitors; undefined for the default (30 s). */
    readonly interval: Duration | undefined,
    /** Extra labels of the monitors. */
    readonly labels: Readonly<Record<string, string>>,
  ) {}

  /** apiVersion of the ServiceMonitors / PodMonitors written, or undefined when none are. */
  get apiVersion(): string | undefined {
    return API_VERSIONS[this.kind];
  }

  /** Whether the metrics endpoint is on (every kind but `none()`). */
  get enabled(): boolean {
    return this.kind !== 'none';
  }

  /**
   * The same scraper with the scrape objects left out (`collector()` with the same namespaces), e.g.
   * for objects applied where the monitor CRDs may not exist yet while the monitors go elsewhere.
   */
  withoutMonitors(): MetricsScraping {
    return this.kind === 'none' ? this : MetricsScraping.collector({ namespaces: this.namespaces });
  }

  /**
   * Checks the choice for the prop it was given as (`monitoring`, `keda.monitoring`): namespaces,
   * interval and labels. Returns the interval in whole seconds.
   */
  check(prop: string): number {
    if (this.kind !== 'none') {
      checkNonEmpty(`${prop}.namespaces`, this.namespaces);
      this.namespaces.forEach((ns, i) => checkDnsLabel(`${prop}.namespaces[${i}]`, ns));
    }
    const seconds = (this.interval ?? Duration.seconds(30)).toSeconds({ integral: false });
    checkInteger(`${prop}.interval`, seconds, 1);
    for (const [key, value] of Object.entries(this.labels)) {
      if (!LABEL_KEY.test(key) || key.length > 316) {
        throw new PropError(`${prop}.labels`, key, 'must be Kubernetes label keys');
      }
      if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
        throw new PropError(
          `${prop}.labels.${key}`,
          value,
          'must be a valid label value (at most 63 characters)',
        );
      }
    }
    return seconds;
  }
}

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A NetworkPolicy peer: every pod of one namespace. */
export function namespacePeer(namespace: string): k8s.NetworkPolicyPeer {
  return { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } } };
}

/** A TCP NetworkPolicy port. */
export function tcpPort(port: number): k8s.NetworkPolicyPort {
  return { protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) };
}

/**
 * The NetworkPolicy ingress rule that lets the scraper's namespaces reach the metrics port, or none for
 * `MetricsScraping.none()`. Checks the choice under `prop`.
 */
export function scraperIngress(
  scraping: MetricsScraping,
  prop: string,
  port: number,
): k8s.NetworkPolicyIngressRule[] {
  scraping.check(prop);
  if (!scraping.enabled) return [];
  return [{ from: [...new Set(scraping.namespaces)].map(namespacePeer), ports: [tcpPort(port)] }];
}
