// A Tenant lets a metrics scraper into its default-deny namespace on declared ports only, and writes
// the PodMonitor of its workloads where the scraper reads one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import { AutoscaledWorkload } from '../../constructs/k8s/autoscaled-workload.js';
import { Metric } from '../../constructs/k8s/metric.js';
import { MetricsScraping } from '../../constructs/k8s/metrics-scraping.js';
import { Tenant, TenantPort, type TenantMonitoring } from '../../constructs/k8s/tenant.js';
import { WorkloadScaling } from '../../constructs/k8s/workload-scaling.js';
import { only, synth, testChart, type Json } from '../support/chart.js';
import { validateAll, type KubeObject } from '../support/validate.js';
import { MONITOR_KINDS, monitorErrors } from './monitor-schema.js';

/** A tenant `shop` with the given monitoring and, optionally, one HTTP workload on `port`. */
function shop(monitoring: TenantMonitoring | undefined, port?: number): KubeObject[] {
  const chart = testChart();
  const tenant = new Tenant(chart, 'shop', { name: 'shop', groups: ['shop-devs'], monitoring });
  if (port !== undefined) {
    new AutoscaledWorkload(tenant, 'web', {
      image: 'ghcr.io/example/web:1.0.0',
      port,
      resources: { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(128) } },
      replicas: { min: 1, max: 2 },
      scaling: WorkloadScaling.hpa({ metrics: [Metric.resourceCpu()] }),
    });
  }
  return synth(chart);
}

const allowMonitoring = (objects: KubeObject[]): Json =>
  only(objects, 'NetworkPolicy', 'allow-monitoring').spec;
const peers = (rule: Json): string[] =>
  rule.from.map((p: Json) => p.namespaceSelector.matchLabels['kubernetes.io/metadata.name']);

describe('Tenant monitoring', () => {
  it('lets the monitoring namespace in on the declared ports only, and writes no PodMonitor by default', async () => {
    // GIVEN / WHEN a tenant declaring its metrics port, scraped by a collector configured elsewhere
    const objects = shop({ ports: [TenantPort.tcp(8080)] });
    // THEN one rule: from `monitoring`, on 8080, to every pod of the namespace, ingress only
    const policy = allowMonitoring(objects);
    assert.deepEqual(policy.podSelector, {});
    assert.deepEqual(policy.policyTypes, ['Ingress']);
    assert.equal(policy.ingress.length, 1);
    assert.deepEqual(peers(policy.ingress[0]), ['monitoring']);
    assert.deepEqual(policy.ingress[0].ports, [{ protocol: 'TCP', port: 8080 }]);
    assert.equal(objects.filter((o) => MONITOR_KINDS.has(o.kind)).length, 0);
    assert.deepEqual(await validateAll(objects), []);
  });

  it('opens nothing to the scraper unless monitoring is set', () => {
    // GIVEN / WHEN
    const objects = shop(undefined);
    // THEN
    assert.equal(
      objects.filter((o) => o.kind === 'NetworkPolicy' && o.metadata?.name === 'allow-monitoring').length,
      0,
    );
  });

  it("scrapes its workloads' pods on `http` with a PodMonitor, job and `service` named after the workload", async () => {
    // GIVEN a Prometheus operator in `observability` and a workload serving on 8080
    const scraping = MetricsScraping.prometheusOperator({
      labels: { release: 'kps' },
      namespaces: ['observability'],
    });
    // WHEN
    const objects = shop({ scraping, ports: [TenantPort.tcp(8080)] }, 8080);
    // THEN the PodMonitor selects the workload's pods and names the container port they declare
    const monitor = only(objects, 'PodMonitor', 'tenant-workloads') as Json;
    assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(monitor.metadata.namespace, 'shop');
    assert.equal(monitor.metadata.labels.release, 'kps');
    assert.deepEqual(monitor.spec.namespaceSelector, { matchNames: ['shop'] });
    assert.equal(monitor.spec.jobLabel, 'app.kubernetes.io/name');
    const pod = (only(objects, 'Deployment', 'web') as Json).spec.template;
    for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels as Record<string, string>)) {
      assert.equal(pod.metadata.labels[key], value, key);
    }
    assert.deepEqual(pod.spec.containers[0].ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    assert.deepEqual(monitor.spec.podMetricsEndpoints, [
      {
        port: 'http',
        path: '/metrics',
        interval: '30s',
        scheme: 'http',
        relabelings: [
          {
            sourceLabels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'],
            targetLabel: 'service',
            action: 'replace',
          },
        ],
      },
    ]);
    // AND the scraper's namespace is the one let in
    assert.deepEqual(peers(allowMonitoring(objects).ingress[0]), ['observability']);
    assert.deepEqual(monitorErrors(objects), []);
    assert.deepEqual(await validateAll(objects.filter((o) => !MONITOR_KINDS.has(o.kind))), []);
  });

  it("uses AKS managed Prometheus' flavour and lets its kube-system scrapers in", () => {
    // GIVEN / WHEN
    const objects = shop(
      {
        scraping: MetricsScraping.azureManagedPrometheus(),
        ports: [TenantPort.tcp(8080), TenantPort.tcp(9090)],
      },
      8080,
    );
    // THEN
    const monitor = only(objects, 'PodMonitor') as Json;
    assert.equal(monitor.apiVersion, 'azmonitoring.coreos.com/v1');
    assert.equal(monitor.spec.labelLimit, 63);
    const rule = allowMonitoring(objects).ingress[0];
    assert.deepEqual(peers(rule), ['kube-system']);
    assert.deepEqual(
      rule.ports.map((p: Json) => p.port),
      [8080, 9090],
    );
    assert.deepEqual(monitorErrors(objects), []);
  });

  it('fails synth when the PodMonitor would scrape a workload port the policy keeps closed', () => {
    // GIVEN a workload serving on 9000 while only 8080 is declared
    // WHEN / THEN the error names the prop, the workload, and the port to declare
    assert.throws(
      () => shop({ scraping: MetricsScraping.prometheusOperator(), ports: [TenantPort.tcp(8080)] }, 9000),
      /monitoring\.ports: the PodMonitor tenant-workloads scrapes port "http" \(9000\) of Deployment shop\/web, which is not declared \(add TenantPort\.tcp\(9000\)\)/,
    );
    // AND a collector (no PodMonitor) is not second-guessed: its scrape config is not known here
    assert.doesNotThrow(() => shop({ ports: [TenantPort.tcp(8080)] }, 9000));
  });

  it('refuses no ports, UDP, out-of-range ports and MetricsScraping.none(), naming the prop and value', () => {
    assert.throws(
      () => shop({ ports: [] }),
      /^PropError: monitoring\.ports: must not be empty \(got \[\]\)$/,
    );
    assert.throws(
      () => shop({ ports: [TenantPort.udp(8125)] }),
      /^PropError: monitoring\.ports\[0\]: must be a TCP port \(got "UDP\/8125"\)$/,
    );
    assert.throws(
      () => shop({ ports: [TenantPort.tcp(8080), TenantPort.tcp(0)] }),
      /^PropError: monitoring\.ports\[1\]: must be between 1 and 65535 \(got 0\)$/,
    );
    assert.throws(
      () => shop({ scraping: MetricsScraping.none(), ports: [TenantPort.tcp(8080)] }),
      /^PropError: monitoring\.scraping: must name a scraper \(leave monitoring out to let none in\) \(got "none"\)$/,
    );
    assert.throws(
      () =>
        shop({
          scraping: MetricsScraping.collector({ namespaces: ['-bad'] }),
          ports: [TenantPort.tcp(8080)],
        }),
      /^PropError: monitoring\.scraping\.namespaces\[0\]: must be a lowercase RFC 1123 label/,
    );
  });
});
