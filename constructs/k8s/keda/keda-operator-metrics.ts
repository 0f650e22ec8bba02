import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { MetricsMonitor, MetricsTarget } from '../metrics-monitor.js';
import { type MetricsScraping, scraperIngress, tcpPort } from '../metrics-scraping.js';
import { PropError, checkDnsLabel } from '../validation.js';

/**
 * Port of the KEDA operator's Prometheus metrics (`--metrics-bind-address`, on by default:
 * `--enable-prometheus-metrics` defaults to true in KEDA 2.20's cmd/operator/main.go). It carries the
 * scaler metrics the runtime's alerts read: `keda_scaler_detail_errors_total`,
 * `keda_scaled_object_errors_total`, `keda_scaler_metrics_value`.
 */
export const KEDA_OPERATOR_METRICS_PORT = 8080;

/** gRPC port the operator serves the metrics apiserver on (the chart's `metricsservice`). */
const METRICS_SERVICE_PORT = 9666;

/** Name of the objects this construct writes (not the chart's, which may write its own). */
const NAME = 'elasticai-keda-operator';

/** The operator pods' label, the same in the Helm chart and in the AKS add-on (built from it). */
const OPERATOR_POD_SELECTOR = { app: 'keda-operator' };

/** Which KEDA installation's operator is scraped. */
export class KedaInstallation {
  /**
   * KEDA's own Helm chart (kedacore/charts 2.20), installed with `prometheus.operator.enabled: true`
   * (`KEDA_CHART_METRICS_VALUES`), which adds the `metrics` port (8080) to the `keda-operator` Service:
   * scraped with a ServiceMonitor (job `keda-operator`), as the chart's own optional ServiceMonitor does.
   * @param namespace the release's namespace. @default 'keda'
   */
  static helmChart(namespace = 'keda'): KedaInstallation {
    return new KedaInstallation('helm-chart', namespace);
  }

  /**
   * AKS's managed KEDA add-on in `kube-system`. Its operator serves the metrics on 8080, but its Service
   * has no metrics port and the add-on takes no chart values (Azure/AKS issue 4090): the operator pods
   * are scraped with a PodMonitor on the port number. They are AKS's, so no NetworkPolicy is added to
   * them.
   */
  static aksAddOn(): KedaInstallation {
    return new KedaInstallation('aks-add-on', 'kube-system');
  }

  private constructor(
    readonly kind: 'helm-chart' | 'aks-add-on',
    readonly namespace: string,
  ) {}
}

/**
 * Values of the KEDA chart that expose the operator's metrics on its Service (the chart's
 * `prometheus.operator.enabled`; its own Service/PodMonitor stay off, ours is written instead).
 */
export const KEDA_CHART_METRICS_VALUES = { prometheus: { operator: { enabled: true } } } as const;

/** Props for a {@link KedaOperatorMetrics}. */
export interface KedaOperatorMetricsProps {
  /** The KEDA installation whose operator is scraped. */
  readonly installation: KedaInstallation;
  /** Who scrapes it (`none()` is refused: then write no KedaOperatorMetrics). */
  readonly monitoring: MetricsScraping;
  /** How `monitoring` is named in errors. @default 'monitoring' */
  readonly prop?: string;
}

/**
 * Scraping of the KEDA operator's metrics. For the Helm chart: a NetworkPolicy on the operator pods
 * that lets in only the scraper's namespaces on the metrics port and KEDA's own namespace (its metrics
 * apiserver) on the gRPC port 9666, plus a ServiceMonitor where a Prometheus operator scrapes. For the
 * AKS add-on: a PodMonitor only.
 */
export class KedaOperatorMetrics extends Construct {
  /** The ServiceMonitor / PodMonitor (its `apiObject` is undefined for a collector configured elsewhere). */
  readonly monitor: MetricsMonitor;
  /** The NetworkPolicy (Helm chart only). */
  readonly networkPolicy: k8s.KubeNetworkPolicy | undefined;

  constructor(scope: Construct, id: string, props: KedaOperatorMetricsProps) {
    super(scope, id);
    const prop = props.prop ?? 'monitoring';
    const { installation, monitoring } = props;
    checkDnsLabel('installation.namespace', installation.namespace);
    if (!monitoring.enabled) {
      throw new PropError(prop, 'none', 'must name a scraper: leave KedaOperatorMetrics out instead');
    }
    const ingress = scraperIngress(monitoring, prop, KEDA_OPERATOR_METRICS_PORT);
    const labels = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/managed-by': 'elasticai' };

    if (installation.kind === 'helm-chart') {
      this.networkPolicy = new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
        metadata: { name: NAME, namespace: installation.namespace, labels },
        spec: {
          podSelector: { matchLabels: { ...OPERATOR_POD_SELECTOR } },
          policyTypes: ['Ingress'],
          ingress: [
            // The metrics apiserver (the HPA's external metrics) asks the operator over gRPC.
            { from: [{ podSelector: {} }], ports: [tcpPort(METRICS_SERVICE_PORT)] },
            ...ingress,
          ],
        },
      });
      this.monitor = new MetricsMonitor(this, 'ServiceMonitor', {
        name: NAME,
        namespace: installation.namespace,
        scraping: monitoring,
        target: MetricsTarget.servicePort({ 'app.kubernetes.io/name': 'keda-operator' }, 'metrics'),
        prop,
      });
    } else {
      this.networkPolicy = undefined;
      this.monitor = new MetricsMonitor(this, 'PodMonitor', {
        name: NAME,
        namespace: installation.namespace,
        scraping: monitoring,
        target: MetricsTarget.podPortNumber(OPERATOR_POD_SELECTOR, KEDA_OPERATOR_METRICS_PORT),
        jobLabel: 'app',
        prop,
      });
    }
  }
}
