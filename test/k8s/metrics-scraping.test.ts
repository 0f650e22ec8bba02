// MetricsScraping (who scrapes a component) and MetricsMonitor (the ServiceMonitor / PodMonitor it reads).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration, Testing } from 'cdk8s';
import {
  MetricsMonitor,
  MetricsTarget,
  type MetricsMonitorProps,
} from '../../constructs/k8s/metrics-monitor.js';
import { MetricsScraping, scraperIngress } from '../../constructs/k8s/metrics-scraping.js';
import { only, synth, type Json } from '../support/chart.js';
import type { KubeObject } from '../support/validate.js';
import { POD_MONITOR, SERVICE_MONITOR, monitorErrors } from './monitor-schema.js';

function monitorObjects(props: Partial<MetricsMonitorProps> = {}): KubeObject[] {
  const chart = Testing.chart();
  new MetricsMonitor(chart, 'm', {
    name: 'thing',
    namespace: 'things',
    scraping: MetricsScraping.prometheusOperator(),
    target: MetricsTarget.podPort({ app: 'thing' }, 'metrics'),
    ...props,
  });
  return synth(chart);
}

describe('MetricsScraping', () => {
  it('names each scraper: its monitor apiVersion and the namespaces it is let in from', () => {
    // GIVEN / WHEN / THEN
    const cases: [MetricsScraping, string | undefined, string[], boolean][] = [
      [MetricsScraping.prometheusOperator(), 'monitoring.coreos.com/v1', ['monitoring'], true],
      [MetricsScraping.azureManagedPrometheus(), 'azmonitoring.coreos.com/v1', ['kube-system'], true],
      [MetricsScraping.collector(), undefined, ['monitoring'], true],
      [MetricsScraping.collector({ namespaces: ['otel'] }), undefined, ['otel'], true],
      [MetricsScraping.none(), undefined, [], false],
    ];
    for (const [scraping, apiVersion, namespaces, enabled] of cases) {
      assert.equal(scraping.apiVersion, apiVersion, scraping.kind);
      assert.deepEqual(scraping.namespaces, namespaces, scraping.kind);
      assert.equal(scraping.enabled, enabled, scraping.kind);
    }
  });

  it('drops the monitors but keeps the namespaces with withoutMonitors()', () => {
    // GIVEN a Prometheus operator in `observability`
    const operator = MetricsScraping.prometheusOperator({ namespaces: ['observability'] });
    // WHEN
    const bare = operator.withoutMonitors();
    // THEN
    assert.equal(bare.kind, 'collector');
    assert.deepEqual(bare.namespaces, ['observability']);
    assert.equal(MetricsScraping.none().withoutMonitors().kind, 'none');
  });

  it('lets exactly the scraper namespaces in on the one metrics port', () => {
    // GIVEN / WHEN
    const rules = scraperIngress(
      MetricsScraping.collector({ namespaces: ['a', 'b', 'a'] }),
      'monitoring',
      9092,
    ).map((r) => ({ ...r, ports: r.ports?.map((p) => ({ protocol: p.protocol, port: p.port?.value })) }));
    // THEN one rule, each namespace once, TCP on the port: never all namespaces or all ports
    assert.deepEqual(rules, [
      {
        from: [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'a' } } },
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'b' } } },
        ],
        ports: [{ protocol: 'TCP', port: 9092 }],
      },
    ]);
    assert.deepEqual(scraperIngress(MetricsScraping.none(), 'monitoring', 9092), []);
  });

  it('refuses bad namespaces, intervals and labels, naming the prop and the value', () => {
    const check = (s: MetricsScraping) => () => s.check('x.monitoring');
    assert.throws(
      check(MetricsScraping.collector({ namespaces: [] })),
      /^PropError: x\.monitoring\.namespaces: must not be empty \(got \[\]\)$/,
    );
    assert.throws(
      check(MetricsScraping.prometheusOperator({ namespaces: ['ok', 'Not_OK'] })),
      /^PropError: x\.monitoring\.namespaces\[1\]: must be a lowercase RFC 1123 label .*\(got "Not_OK"\)$/,
    );
    assert.throws(
      check(MetricsScraping.prometheusOperator({ interval: Duration.millis(500) })),
      /^PropError: x\.monitoring\.interval: must be an integer \(got 0\.5\)$/,
    );
    assert.throws(
      check(MetricsScraping.azureManagedPrometheus({ labels: { 'bad key': 'v' } })),
      /^PropError: x\.monitoring\.labels: must be Kubernetes label keys \(got "bad key"\)$/,
    );
    assert.throws(
      check(MetricsScraping.prometheusOperator({ labels: { release: 'x'.repeat(64) } })),
      /^PropError: x\.monitoring\.labels\.release: must be a valid label value/,
    );
  });
});

describe('MetricsMonitor', () => {
  it('writes a schema-valid PodMonitor on a named port for a Prometheus operator', () => {
    // GIVEN / WHEN
    const objects = monitorObjects({
      scraping: MetricsScraping.prometheusOperator({
        labels: { release: 'kps' },
        interval: Duration.minutes(1),
      }),
      jobLabel: 'app',
    });
    // THEN
    const m = only(objects, 'PodMonitor', 'thing') as Json;
    assert.equal(m.apiVersion, 'monitoring.coreos.com/v1');
    assert.deepEqual(m.metadata.labels, {
      'app.kubernetes.io/name': 'thing',
      'app.kubernetes.io/component': 'metrics',
      'app.kubernetes.io/managed-by': 'elasticai',
      release: 'kps',
    });
    assert.deepEqual(m.spec, {
      jobLabel: 'app',
      selector: { matchLabels: { app: 'thing' } },
      namespaceSelector: { matchNames: ['things'] },
      podMetricsEndpoints: [{ port: 'metrics', path: '/metrics', interval: '60s', scheme: 'http' }],
    });
    assert.deepEqual(monitorErrors(objects), []);
  });

  it('refuses a name too long for the app.kubernetes.io/name label', () => {
    // GIVEN / WHEN / THEN: 64 characters is a valid object name but not a label value
    assert.throws(
      () => monitorObjects({ name: 'a'.repeat(64) }),
      /^PropError: name: must be a label value .*: it is also the app\.kubernetes\.io\/name label \(got "a{64}"\)$/,
    );
  });

  it("writes AKS managed Prometheus' flavour with Azure's label limits, and a port number as targetPort", () => {
    // GIVEN / WHEN
    const objects = monitorObjects({
      scraping: MetricsScraping.azureManagedPrometheus(),
      target: MetricsTarget.podPortNumber({ app: 'thing' }, 8080),
    });
    // THEN
    const m = only(objects, 'PodMonitor') as Json;
    assert.equal(m.apiVersion, 'azmonitoring.coreos.com/v1');
    assert.equal(m.spec.labelLimit, 63);
    assert.equal(m.spec.labelNameLengthLimit, 511);
    assert.equal(m.spec.labelValueLengthLimit, 1023);
    assert.deepEqual(m.spec.podMetricsEndpoints[0].targetPort, 8080);
    assert.equal(m.spec.podMetricsEndpoints[0].port, undefined);
    assert.deepEqual(monitorErrors(objects), []);
  });

  it('writes a ServiceMonitor for a Service port', () => {
    // GIVEN / WHEN
    const objects = monitorObjects({ target: MetricsTarget.servicePort({ app: 'thing' }, 'metrics') });
    // THEN
    const m = only(objects, 'ServiceMonitor') as Json;
    assert.deepEqual(m.spec.endpoints, [
      { port: 'metrics', path: '/metrics', interval: '30s', scheme: 'http' },
    ]);
    assert.equal(m.spec.podMetricsEndpoints, undefined);
    assert.deepEqual(monitorErrors(objects), []);
  });

  it('writes nothing for a collector configured elsewhere, or for none', () => {
    assert.deepEqual(monitorObjects({ scraping: MetricsScraping.collector() }), []);
    assert.deepEqual(monitorObjects({ scraping: MetricsScraping.none() }), []);
  });

  it('the hand-written monitor schemas reject what the operator would prune or refuse', () => {
    // GIVEN valid monitors WHEN breaking them THEN the checks fail (they are not vacuous)
    const pod = only(monitorObjects(), 'PodMonitor') as Json;
    assert.equal(POD_MONITOR(pod), true);
    const typo = structuredClone(pod);
    typo.spec.podMetricsEndpoints[0].intervall = '30s';
    assert.equal(POD_MONITOR(typo), false);
    const twoPorts = structuredClone(pod);
    twoPorts.spec.podMetricsEndpoints[0].targetPort = 8080;
    assert.equal(POD_MONITOR(twoPorts), false);
    const portNumber = structuredClone(pod);
    delete portNumber.spec.podMetricsEndpoints[0].port;
    portNumber.spec.podMetricsEndpoints[0].portNumber = 8080; // not in the azmonitoring CRD
    assert.equal(POD_MONITOR(portNumber), false);
    const service = only(
      monitorObjects({ target: MetricsTarget.servicePort({ app: 'thing' }, 'metrics') }),
      'ServiceMonitor',
    ) as Json;
    assert.equal(SERVICE_MONITOR(service), true);
    const badInterval = structuredClone(service);
    badInterval.spec.endpoints[0].interval = '30 seconds';
    assert.equal(SERVICE_MONITOR(badInterval), false);
  });

  it('refuses a bad port name, port number, path or relabeling label, naming the prop', () => {
    assert.throws(
      () => monitorObjects({ target: MetricsTarget.podPort({ app: 'x' }, 'Metrics_Port') }),
      /^PropError: target\.port: must be a port name \(IANA_SVC_NAME\) \(got "Metrics_Port"\)$/,
    );
    assert.throws(
      () => monitorObjects({ target: MetricsTarget.podPortNumber({ app: 'x' }, 70000) }),
      /^PropError: target\.port: must be between 1 and 65535 \(got 70000\)$/,
    );
    assert.throws(
      () => monitorObjects({ path: 'metrics' }),
      /^PropError: path: must start with "\/" \(got "metrics"\)$/,
    );
    assert.throws(
      () => monitorObjects({ relabelings: [{ sourceLabels: ['a-b'], targetLabel: 'service' }] }),
      /^PropError: relabelings: must be Prometheus label names \(got "a-b"\)$/,
    );
  });
});
