import { k8s } from 'cdk8s-plus-28';
import { PropError, checkInteger } from './validation.js';
import type { ScaledResource } from './scalable-workload.js';

// Kubernetes resource.Quantity, e.g. "100", "1.5", "250m", "2Gi", "1e3".
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[mkMGTPE])?$/;

/** What value of a metric the HPA aims for. */
export class MetricTarget {
  /** Average utilisation of the pods' requests, in percent (resource metrics only). */
  static utilization(percent: number): MetricTarget {
    checkInteger('target.utilization', percent, 1, 1000);
    return new MetricTarget({ type: 'Utilization', averageUtilization: percent });
  }

  /** Average value per pod: desired = ceil(total / averageValue). */
  static averageValue(quantity: string | number): MetricTarget {
    return new MetricTarget({
      type: 'AverageValue',
      averageValue: k8s.Quantity.fromString(quantityOf('target.averageValue', quantity)),
    });
  }

  /** Total value of the metric (object and external metrics). */
  static value(quantity: string | number): MetricTarget {
    return new MetricTarget({
      type: 'Value',
      value: k8s.Quantity.fromString(quantityOf('target.value', quantity)),
    });
  }

  private constructor(
    /**
     * @internal The autoscaling/v2 target. Quantities are `k8s.Quantity` objects: cdk8s's
     * serializer reads `averageValue.value` / `value.value`, so a plain string would be dropped.
     */
    readonly spec: k8s.MetricTargetV2,
  ) {}

  get type(): string {
    return this.spec.type;
  }
}

function quantityOf(prop: string, quantity: string | number): string {
  const text = String(quantity);
  if (!QUANTITY.test(text))
    throw new PropError(prop, quantity, 'must be a Kubernetes quantity such as "100", "500m" or "2Gi"');
  if (Number.parseFloat(text) <= 0) throw new PropError(prop, quantity, 'must be > 0');
  return text;
}

/**
 * One autoscaling/v2 HPA metric, built by a factory:
 * `Metric.resourceCpu(MetricTarget.utilization(70))`, `Metric.external({ name, target })`, ...
 */
export class Metric {
  /** CPU utilisation of the pods' requests. @param target @default 70% utilisation */
  static resourceCpu(target: MetricTarget = MetricTarget.utilization(70)): Metric {
    return Metric.resource('cpu', target);
  }

  /** Memory utilisation of the pods' requests. @param target @default 80% utilisation */
  static resourceMemory(target: MetricTarget = MetricTarget.utilization(80)): Metric {
    return Metric.resource('memory', target);
  }

  /** A per-pod custom metric (custom.metrics.k8s.io), averaged over the pods. */
  static pods(options: { name: string; target: MetricTarget; selector?: Record<string, string> }): Metric {
    if (options.target.type !== 'AverageValue') {
      throw new PropError(
        'metric.pods.target',
        options.target.type,
        'pods metrics support only an AverageValue target',
      );
    }
    return new Metric({
      type: 'Pods',
      pods: { metric: metricIdentifier(options.name, options.selector), target: options.target.spec },
    });
  }

  /** A metric describing another object (e.g. an Ingress's requests per second). */
  static object(options: {
    name: string;
    describedObject: { apiVersion: string; kind: string; name: string };
    target: MetricTarget;
    selector?: Record<string, string>;
  }): Metric {
    if (options.target.type === 'Utilization') {
      throw new PropError(
        'metric.object.target',
        'Utilization',
        'object metrics take a Value or AverageValue target',
      );
    }
    return new Metric({
      type: 'Object',
      object: {
        describedObject: { ...options.describedObject },
        metric: metricIdentifier(options.name, options.selector),
        target: options.target.spec,
      },
    });
  }

  /** A metric from outside the cluster (external.metrics.k8s.io), e.g. a queue length. */
  static external(options: {
    name: string;
    target: MetricTarget;
    selector?: Record<string, string>;
  }): Metric {
    if (options.target.type === 'Utilization') {
      throw new PropError(
        'metric.external.target',
        'Utilization',
        'external metrics take a Value or AverageValue target',
      );
    }
    return new Metric({
      type: 'External',
      external: { metric: metricIdentifier(options.name, options.selector), target: options.target.spec },
    });
  }

  private static resource(name: ScaledResource, target: MetricTarget): Metric {
    // Kubernetes' validation allows only Utilization or AverageValue on resource metrics.
    if (target.type === 'Value') {
      const factory = name === 'cpu' ? 'resourceCpu' : 'resourceMemory';
      throw new PropError(
        `metric.${factory}.target`,
        target.type,
        'resource metrics take a Utilization or AverageValue target',
      );
    }
    return new Metric({ type: 'Resource', resource: { name, target: target.spec } }, name);
  }

  private constructor(
    /** @internal The autoscaling/v2 metric, rendered by the HPA. */ readonly spec: k8s.MetricSpecV2,
    /** The resource this metric scales on, for cpu/memory metrics. */
    readonly scaledResource?: ScaledResource,
  ) {}
}

function metricIdentifier(name: string, selector?: Record<string, string>): k8s.MetricIdentifierV2 {
  if (!/^[A-Za-z_:][A-Za-z0-9_:.\-/|]*$/.test(name)) {
    throw new PropError(
      'metric.name',
      name,
      'must be a metric name (letters, digits, "_", ":", ".", "-", "/", "|")',
    );
  }
  return selector ? { name, selector: { matchLabels: { ...selector } } } : { name };
}
