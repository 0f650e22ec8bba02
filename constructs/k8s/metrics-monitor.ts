import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { MetricsScraping } from './metrics-scraping.js';
import { isLabelName } from './promql.js';
import { PropError, checkDnsLabel, checkDnsSubdomain, checkLabelValue, checkInteger } from './validation.js';

/**
 * Label limits of an AKS managed Prometheus monitor: Azure's Pod and Service Monitor templates set them
 * so that no series is dropped by its ingestion pipeline.
 */
const AZURE_LABEL_LIMITS = { labelLimit: 63, labelNameLengthLimit: 511, labelValueLengthLimit: 1023 };

/** What a {@link MetricsMonitor} scrapes. */
export class MetricsTarget {
  /** The pods `selector` matches, on their container port named `port` (a PodMonitor). */
  static podPort(selector: Readonly<Record<string, string>>, port: string): MetricsTarget {
    return new MetricsTarget('PodMonitor', selector, port);
  }

  /**
   * The pods `selector` matches, on a container port number: for pods whose port name is not ours to
   * fix, such as a managed add-on's (a PodMonitor with `targetPort`; the port must be declared in the
   * pod spec).
   */
  static podPortNumber(selector: Readonly<Record<string, string>>, port: number): MetricsTarget {
    return new MetricsTarget('PodMonitor', selector, port);
  }

  /** The endpoints of the Services `selector` matches, on the Service port named `port` (a ServiceMonitor). */
  static servicePort(selector: Readonly<Record<string, string>>, port: string): MetricsTarget {
    return new MetricsTarget('ServiceMonitor', selector, port);
  }

  private constructor(
    readonly kind: 'PodMonitor' | 'ServiceMonitor',
    readonly selector: Readonly<Record<string, string>>,
    readonly port: string | number,
  ) {}
}

/** A target relabeling (`replace`): `targetLabel` set from `sourceLabels`. */
export interface MetricsRelabeling {
  /** Labels read, joined by `;` (discovery labels such as `__meta_kubernetes_pod_label_<name>`). */
  readonly sourceLabels: readonly string[];
  /** Label written. */
  readonly targetLabel: string;
}

/** Props for a {@link MetricsMonitor}. */
export interface MetricsMonitorProps {
  /** Name of the ServiceMonitor / PodMonitor. */
  readonly name: string;
  /** Its namespace: the Services' or pods' (the monitor selects there only). */
  readonly namespace: string;
  /** Who scrapes: the monitor's flavour; nothing is written for `collector()` and `none()`. */
  readonly scraping: MetricsScraping;
  /** The pods or Services scraped, and on which port. */
  readonly target: MetricsTarget;
  /** Path of the metrics. @default '/metrics' */
  readonly path?: string;
  /**
   * Label of the pods (PodMonitor) or Services (ServiceMonitor) whose value becomes the `job` label.
   * @default the operator's: `<namespace>/<monitor name>` for a PodMonitor, the Service's name for a ServiceMonitor
   */
  readonly jobLabel?: string;
  /** Target relabelings, in order. @default none */
  readonly relabelings?: readonly MetricsRelabeling[];
  /** How the scraping prop is named in errors (`monitoring`, `keda.monitoring`). @default 'scraping' */
  readonly prop?: string;
}

/**
 * A ServiceMonitor or PodMonitor in the flavour of its {@link MetricsScraping}: `monitoring.coreos.com/v1`
 * for a Prometheus operator, `azmonitoring.coreos.com/v1` (with Azure's label limits) for AKS managed
 * Prometheus, nothing for a collector configured elsewhere. Plain HTTP, selected in its own namespace.
 */
export class MetricsMonitor extends Construct {
  /** The monitor written, or undefined when the scraping needs none. */
  readonly apiObject: ApiObject | undefined;

  constructor(scope: Construct, id: string, props: MetricsMonitorProps) {
    super(scope, id);
    const prop = props.prop ?? 'scraping';
    const scraping = props.scraping;
    const interval = scraping.check(prop);
    checkDnsSubdomain('name', props.name);
    checkLabelValue('name', props.name, 'it is also the app.kubernetes.io/name label');
    checkDnsLabel('namespace', props.namespace);
    const path = props.path ?? '/metrics';
    if (!path.startsWith('/')) throw new PropError('path', path, 'must start with "/"');
    const target = props.target;
    if (typeof target.port === 'number') checkInteger('target.port', target.port, 1, 65535);
    else if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(target.port) || target.port.length > 15) {
      throw new PropError('target.port', target.port, 'must be a port name (IANA_SVC_NAME)');
    }
    for (const r of props.relabelings ?? []) {
      for (const label of [...r.sourceLabels, r.targetLabel]) {
        if (!isLabelName(label)) throw new PropError('relabelings', label, 'must be Prometheus label names');
      }
    }
    const apiVersion = scraping.apiVersion;
    if (apiVersion === undefined) {
      this.apiObject = undefined;
      return;
    }
    const endpoint: Record<string, unknown> = {
      ...(typeof target.port === 'number' ? { targetPort: target.port } : { port: target.port }),
      path,
      interval: `${interval}s`,
      scheme: 'http',
      ...(props.relabelings && props.relabelings.length > 0
        ? {
            relabelings: props.relabelings.map((r) => ({
              sourceLabels: [...r.sourceLabels],
              targetLabel: r.targetLabel,
              action: 'replace',
            })),
          }
        : {}),
    };
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion,
      kind: target.kind,
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: {
          'app.kubernetes.io/name': props.name,
          'app.kubernetes.io/component': 'metrics',
          'app.kubernetes.io/managed-by': 'elasticai',
          ...scraping.labels,
        },
      },
      spec: {
        ...(props.jobLabel !== undefined ? { jobLabel: props.jobLabel } : {}),
        selector: { matchLabels: { ...target.selector } },
        namespaceSelector: { matchNames: [props.namespace] },
        [target.kind === 'PodMonitor' ? 'podMetricsEndpoints' : 'endpoints']: [endpoint],
        ...(scraping.kind === 'azure-managed-prometheus' ? AZURE_LABEL_LIMITS : {}),
      },
    });
  }
}
