/**
 * The dashboard of the assembled runtime (`startRuntime`, as the image runs it) in headless Chromium:
 * history from Prometheus' HTTP API replaying the NASA trace (one row per 2-second interval, so decisions
 * come every 2 s of wall time), the ScaledObject discovered from an in-process Kubernetes API, callers
 * checked with TokenReview and SubjectAccessReview, and overrides written to KEDA's annotation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loadRuntimeConfig } from '../../../../runtime/service/config.js';
import { KubeClient } from '../../../../runtime/service/kube/kube-client.js';
import type { Runtime } from '../../../../runtime/service/runtime.js';
import { startRuntime } from '../../../../runtime/service/runtime.js';
import { readTrace } from '../../../../runtime/simulation/trace.js';
import { FakeKubeApi } from '../../../support/fake-kube-api.js';
import type { FakePrometheus } from '../../../support/fake-prometheus.js';
import { startFakePrometheus } from '../../../support/fake-prometheus.js';
import { NASA } from '../http/support.js';
import { launchChromium } from './support.js';
import { freePort } from '../../../support/free-port.js';

const SA_TOKEN = 'runtime-service-account-token';
const ALICE = 'alice-token'; // sre: get, list, patch in shop
const BOB = 'bob-token'; // dev: get, list in shop
const REF = { namespace: 'shop', name: 'checkout' };
const PAUSED = 'autoscaling.keda.sh/paused-replicas';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('dashboard of the assembled runtime', () => {
  let kube: FakeKubeApi;
  let prometheus: FakePrometheus;
  let runtime: Runtime;
  let browser: Browser;

  const annotations = (): Record<string, string> =>
    ((kube.scaledObject('shop', 'checkout')?.metadata as { annotations?: Record<string, string> })
      .annotations ?? {}) as Record<string, string>;

  before(async () => {
    const nasa = readTrace(NASA).rows.map((r) => r.demand);
    kube = await FakeKubeApi.start({ serviceAccountToken: SA_TOKEN });
    kube.users.set(ALICE, { username: 'alice@example.com', groups: ['sre'] });
    kube.users.set(BOB, { username: 'bob@example.com', groups: ['dev'] });
    kube.accessRules.push({ groups: ['sre'], verbs: ['get', 'list', 'patch'], namespaces: ['shop'] });
    kube.accessRules.push({ groups: ['dev'], verbs: ['get', 'list'], namespaces: ['shop'] });
    prometheus = await startFakePrometheus((t) => nasa[Math.floor(t / 2) % nasa.length] as number);
    const grpcPort = await freePort();
    kube.putScaledObject({
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: 'checkout', namespace: 'shop' },
      spec: {
        scaleTargetRef: { name: 'checkout' },
        triggers: [
          {
            type: 'external',
            metadata: {
              scalerAddress: `elasticai-runtime.elasticai-system.svc.cluster.local:${grpcPort}`,
              query: 'sum(rate(http_requests_total[1m]))',
              capacityPerReplica: '20',
              intervalSeconds: '2',
              leadSeconds: '10',
            },
          },
        ],
      },
    });
    runtime = await startRuntime(
      loadRuntimeConfig({
        ELASTICAI_PROMETHEUS_URL: prometheus.url,
        ELASTICAI_LISTEN_HOST: '127.0.0.1',
        ELASTICAI_GRPC_PORT: String(grpcPort),
        ELASTICAI_HTTP_PORT: '0',
        ELASTICAI_POD_NAME: 'elasticai-runtime-abc12',
        ELASTICAI_SETTLE_SECONDS: '0',
        ELASTICAI_HISTORY_DAYS: '1',
      }),
      { kube: new KubeClient({ url: kube.url, token: SA_TOKEN }), tickSeconds: 0.2, log: () => undefined },
    );
    for (let i = 0; i < 100 && runtime.registry.status(REF)?.state !== 'fresh'; i++) await sleep(100);
    assert.equal(runtime.registry.status(REF)?.state, 'fresh');
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await runtime?.shutdown();
    await prometheus?.close();
    await kube?.close();
  });

  async function signedIn(token: string, hash = ''): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(m.text());
    });
    await page.goto(`${runtime.httpUrl}/${hash === '' ? '' : `dashboard/${hash}`}`);
    await page.getByLabel('API key or Kubernetes token').fill(token);
    await page.getByRole('button', { name: 'Use token' }).click();
    return { page, problems };
  }

  it('shows the discovered workload and its decisions as they are made, from a Kubernetes token', async () => {
    const { page, problems } = await signedIn(BOB);
    const row = page.locator('tr[data-workload="shop/checkout"]');
    await row.waitFor();
    await page.getByText('Live updates: on').waitFor();
    const first = await row.locator('td').last().innerText();
    // Decisions come every 2 s: the row changes without a reload
    await page
      .getByText(/^Last decision received: shop\/checkout, \d+ replicas/)
      .waitFor({ timeout: 10_000 });
    await row.locator('td').last().getByText(/UTC$/).waitFor();
    for (let i = 0; i < 50 && (await row.locator('td').last().innerText()) === first; i++) await sleep(100);
    assert.notEqual(await row.locator('td').last().innerText(), first);
    assert.equal(await page.locator('#list-message').innerText(), '');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('writes an override from the UI to KEDA’s annotation for a caller allowed to patch, and refuses others', async () => {
    // GIVEN bob (get and list only) on the workload page
    const bob = await signedIn(BOB, '#/workloads/shop/checkout');
    await bob.page.locator('#explanation-list').waitFor();
    await bob.page.getByLabel('Replicas', { exact: true }).fill('7');
    await bob.page.getByRole('button', { name: 'Set override' }).click();
    // THEN the SubjectAccessReview's refusal is shown, and the ScaledObject is untouched
    await bob.page
      .getByRole('alert')
      .getByText(/^Not allowed \(403\): bob@example\.com may not patch/)
      .waitFor();
    assert.equal(annotations()[PAUSED], undefined);
    await bob.page.close();

    // WHEN alice (may patch) sets 7 replicas for 15 minutes
    const alice = await signedIn(ALICE, '#/workloads/shop/checkout');
    await alice.page.locator('#explanation-list').waitFor();
    await alice.page.getByLabel('Replicas', { exact: true }).fill('7');
    await alice.page.getByLabel('Duration').selectOption({ label: '15 minutes' });
    const before = Date.now();
    await alice.page.getByRole('button', { name: 'Set override' }).click();
    await alice.page
      .getByRole('alert')
      .getByText(/^Override set: 7 replicas until .*, by alice@example\.com\.$/)
      .waitFor();
    // THEN KEDA's annotation holds it, with who and until when
    const set = annotations();
    assert.equal(set[PAUSED], '7');
    assert.equal(set['elasticai.io/override-by'], 'alice@example.com');
    const expires = Date.parse(set['elasticai.io/override-expires-at'] as string);
    assert.ok(expires >= before + 899_000 && expires <= Date.now() + 901_000, 'expires in 15 minutes');
    // and the page reads it back from the ScaledObject
    await alice.page.getByText(/^Override in force: 7 replicas until .*, by alice@example\.com\./).waitFor();

    // WHEN alice clears it THEN the annotation is gone
    await alice.page.getByRole('button', { name: 'Clear override' }).click();
    await alice.page.getByText('No override: the runtime’s decision is in force.').waitFor();
    assert.equal(annotations()[PAUSED], undefined);
    assert.deepEqual(alice.problems, []);
    await alice.page.close();
  });
});
