// KedaOperatorMetrics: the KEDA operator's scraping for its Helm chart and for AKS's KEDA add-on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Testing } from 'cdk8s';
import {
  KEDA_CHART_METRICS_VALUES,
  KEDA_OPERATOR_METRICS_PORT,
  KedaInstallation,
  KedaOperatorMetrics,
} from '../../constructs/k8s/keda/keda-operator-metrics.js';
import { MetricsScraping } from '../../constructs/k8s/metrics-scraping.js';
import { only, synth, type Json } from '../support/chart.js';
import { validateAll, type KubeObject } from '../support/validate.js';
import { MONITOR_KINDS, monitorErrors } from './monitor-schema.js';

function kedaObjects(installation: KedaInstallation, monitoring: MetricsScraping): KubeObject[] {
  const chart = Testing.chart();
  new KedaOperatorMetrics(chart, 'keda', { installation, monitoring });
  return synth(chart);
}

describe('KedaOperatorMetrics', () => {
  it('Helm chart: a NetworkPolicy on the operator pods and, beside an operator, a ServiceMonitor on `metrics`', async () => {
    // GIVEN / WHEN
    const objects = kedaObjects(KedaInstallation.helmChart('keda'), MetricsScraping.prometheusOperator());
    // THEN
    assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`).sort(), [
      'NetworkPolicy/keda/elasticai-keda-operator',
      'ServiceMonitor/keda/elasticai-keda-operator',
    ]);
    const policy = (only(objects, 'NetworkPolicy') as Json).spec;
    assert.deepEqual(policy.podSelector, { matchLabels: { app: 'keda-operator' } });
    assert.deepEqual(
      policy.ingress.map((r: Json) => r.ports.map((p: Json) => p.port)),
      [[9666], [KEDA_OPERATOR_METRICS_PORT]],
    );
    const monitor = only(objects, 'ServiceMonitor') as Json;
    assert.deepEqual(monitor.spec.endpoints[0].port, 'metrics');
    assert.deepEqual(KEDA_CHART_METRICS_VALUES, { prometheus: { operator: { enabled: true } } });
    assert.deepEqual(monitorErrors(objects), []);
    assert.deepEqual(await validateAll(objects.filter((o) => !MONITOR_KINDS.has(o.kind))), []);
  });

  it("AKS add-on: a PodMonitor on port 8080 of the add-on's operator pods, and no policy on AKS's pods", () => {
    // GIVEN / WHEN
    const objects = kedaObjects(KedaInstallation.aksAddOn(), MetricsScraping.azureManagedPrometheus());
    // THEN
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`),
      ['PodMonitor/kube-system/elasticai-keda-operator'],
    );
    const monitor = only(objects, 'PodMonitor') as Json;
    assert.equal(monitor.apiVersion, 'azmonitoring.coreos.com/v1');
    assert.deepEqual(monitor.spec.selector, { matchLabels: { app: 'keda-operator' } });
    assert.equal(monitor.spec.podMetricsEndpoints[0].targetPort, 8080);
    assert.equal(monitor.spec.jobLabel, 'app');
    assert.deepEqual(monitorErrors(objects), []);
  });

  it('is refused with MetricsScraping.none(), naming the prop', () => {
    assert.throws(
      () => kedaObjects(KedaInstallation.helmChart(), MetricsScraping.none()),
      /^PropError: monitoring: must name a scraper: leave KedaOperatorMetrics out instead \(got "none"\)$/,
    );
  });
});
