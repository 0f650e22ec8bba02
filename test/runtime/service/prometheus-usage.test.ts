import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { PrometheusSource } from '../../../runtime/service/history/prometheus-source.js';
import { PrometheusUsageSource, workloadOfPod } from '../../../runtime/service/history/prometheus-usage.js';
import { recommend } from '../../../runtime/service/recommendations.js';

describe('container usage from Prometheus', () => {
  it('finds the owning workload in generated pod names', () => {
    assert.equal(workloadOfPod('checkout-7d9f8b6c5d-x2z4q'), 'checkout');
    assert.equal(workloadOfPod('order-worker-5c4b9d7f8-kq7zn'), 'order-worker');
    assert.equal(workloadOfPod('postgres-0'), 'postgres');
    assert.equal(workloadOfPod('node-exporter-7x2kq'), 'node-exporter');
    assert.equal(workloadOfPod('standalone'), 'standalone');
  });

  it('pools the samples of a workload’s pods per container and feeds the recommender', async () => {
    // GIVEN a Prometheus answering the cAdvisor queries with two pods of one Deployment and a sidecar
    const now = Date.UTC(2026, 10, 23, 12, 0, 0);
    const asked: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const params = new URLSearchParams(body);
        const query = params.get('query') ?? '';
        asked.push(query);
        const start = Number(params.get('start'));
        const step = Number(params.get('step'));
        const cpu = query.includes('cpu');
        const series = (pod: string, container: string, ns: string, base: number) => ({
          metric: { namespace: ns, pod, container },
          values: Array.from({ length: 300 }, (_, i) => [
            start + i * step,
            String(base * (1 + (i % 10) / 10)),
          ]),
        });
        const result = cpu
          ? [
              series('checkout-7d9f8b6c5d-x2z4q', 'app', 'shop', 0.2),
              series('checkout-7d9f8b6c5d-q8b7w', 'app', 'shop', 0.4),
              series('checkout-7d9f8b6c5d-q8b7w', 'envoy', 'shop', 0.05),
              series('billing-0', 'app', 'finance', 1),
            ]
          : [
              series('checkout-7d9f8b6c5d-x2z4q', 'app', 'shop', 300e6),
              series('checkout-7d9f8b6c5d-q8b7w', 'app', 'shop', 320e6),
              series('checkout-7d9f8b6c5d-q8b7w', 'envoy', 'shop', 40e6),
              series('billing-0', 'app', 'finance', 1e9),
            ];
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const usage = new PrometheusUsageSource(new PrometheusSource({ url, auth: 'none', timeoutMs: 2000 }), {
      clock: () => now,
    });

    // WHEN the usage of namespace shop is read
    const containers = await usage.containers('shop');
    server.close();

    // THEN both pods' samples are pooled per container, other namespaces left out
    assert.deepEqual(
      containers.map((c) => [c.namespace, c.workload, c.container, c.cpuCores.length, c.memoryBytes.length]),
      [
        ['shop', 'checkout', 'app', 600, 600],
        ['shop', 'checkout', 'envoy', 300, 300],
      ],
    );
    assert.equal(containers[0]?.stepSeconds, 300);
    assert.ok(asked.some((q) => q.includes('container_cpu_usage_seconds_total')));
    // AND the recommender turns them into requests above the p90 of the pooled CPU
    const recommendations = recommend(containers);
    const app = recommendations.find((r) => r.container === 'app');
    assert.ok(app?.cpu);
    assert.equal(app.cpu.evidence.samples, 600);
    // pooled CPU: pod 1 at 0.2–0.38 cores, pod 2 at 0.4–0.76: the p90 sits in pod 2's range
    assert.ok(app.cpu.evidence.p90 > 0.6 && app.cpu.evidence.p90 <= 0.76, String(app.cpu.evidence.p90));
    assert.ok(app.cpu.targetValue >= app.cpu.evidence.p90 * 1.15 - 0.001);
    assert.equal(app.confidence, 'high', '300 five-minute samples cover 25 h');
  });
});
