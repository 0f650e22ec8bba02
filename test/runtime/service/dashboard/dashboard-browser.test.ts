/**
 * The dashboard in real headless Chromium against the API server over a real registry fed with the NASA
 * HTTP trace (per minute) and a NAB ELB trace: overview table against the API, the chart's geometry and
 * its text alternative, the explanation, the recommendations, overrides (refused without a token in the
 * UI, the API's 401 and 403 shown, set and cleared by keyboard with an admin key), and live updates
 * from the stream when the registry's clock moves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { WorkloadDetail, WorkloadSummary } from '../../../../runtime/service/http/workload-view.js';
import type { DashboardServer, DashboardWorld } from './support.js';
import { parseWorkloadSpec } from '../../../../runtime/service/workload-spec.js';
import {
  CHECKOUT_QUERY,
  TENANTS,
  TOKENS,
  dashboardWorld,
  getJson,
  launchChromium,
  startDashboardServer,
} from './support.js';

/** `YYYY-MM-DD HH:MM UTC`, computed here independently of the page's code. */
const utc = (seconds: number): string =>
  `${new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** The number a cell shows, or null for `—`. */
function shown(text: string): number | null {
  return text.trim() === '—' ? null : Number(text.trim());
}

/** The page rounds to 0.1 (0.01 below 1). */
function assertShows(text: string, value: number | null, what: string): void {
  const n = shown(text);
  if (value === null) {
    assert.equal(n, null, `${what}: expected —, got ${text}`);
    return;
  }
  assert.ok(
    n !== null && Math.abs(n - value) <= (Math.abs(value) < 1 ? 0.0051 : 0.051),
    `${what}: ${text} ≠ ${value}`,
  );
}

interface Session {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and page errors, except the browser's own "Failed to load resource" for 4xx answers. */
  readonly problems: string[];
  /** Every request the page made: method and URL. */
  readonly requests: { method: string; url: string }[];
}

describe('dashboard in headless Chromium', () => {
  let world: DashboardWorld;
  let secured: DashboardServer; // reads need a token
  let open: DashboardServer; // anonymous reads allowed
  let browser: Browser;
  const sessions: Session[] = [];

  before(async () => {
    world = await dashboardWorld();
    secured = await startDashboardServer(world);
    open = await startDashboardServer(world, { readAccess: 'anonymous' });
    browser = await launchChromium();
  });

  after(async () => {
    for (const s of sessions) await s.context.close();
    await browser?.close();
    await secured?.server.close();
    await open?.server.close();
  });

  async function session(server: DashboardServer, hash = ''): Promise<Session> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: { method: string; url: string }[] = [];
    page.on('console', (m) => {
      if (
        m.type() === 'error' &&
        !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())
      ) {
        problems.push(m.text());
      }
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push({ method: r.method(), url: r.url() }));
    const s = { context, page, problems, requests };
    sessions.push(s);
    await page.goto(`${server.url}/${hash === '' ? '' : `dashboard/${hash}`}`);
    return s;
  }

  async function useToken(page: Page, token: string): Promise<void> {
    await page.getByLabel('API key or Kubernetes token').fill(token);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByText('A token is set').waitFor();
  }

  /** The overview table's cells by column header. */
  async function overviewRows(page: Page): Promise<Map<string, Record<string, string>>> {
    const table = page.getByRole('table', { name: /Workloads the runtime decides for/ });
    await table.waitFor();
    const headers = await table.locator('thead th').allInnerTexts();
    const rows = new Map<string, Record<string, string>>();
    for (const row of await table.locator('tbody tr').all()) {
      const cells = await row.locator('th, td').allInnerTexts();
      const record: Record<string, string> = {};
      headers.forEach((h, i) => (record[h] = cells[i] ?? ''));
      rows.set(record.Workload as string, record);
    }
    return rows;
  }

  it('asks for a token when reads need one, then shows the API’s workloads in a table', async () => {
    // GIVEN the secured server (reads need a caller) and no token
    const { page, problems, requests } = await session(secured);
    // THEN `/` leads to the dashboard, and the list's 401 is said in words
    assert.equal(new URL(page.url()).pathname, '/dashboard/');
    await page.locator('#list-message').getByText('Not authenticated (401)').waitFor();
    assert.match(await page.locator('#list-message').innerText(), /Enter an API key or Kubernetes token/);
    assert.match(await page.locator('#live').innerText(), /Live updates off\. Not authenticated \(401\)/);

    // WHEN a viewer's token is entered
    await useToken(page, TOKENS.viewer);
    const rows = await overviewRows(page);
    // THEN each workload of the API is a row with the API's numbers
    const api = await getJson<{ workloads: WorkloadSummary[] }>(
      secured.url,
      '/api/v1/workloads',
      TOKENS.viewer,
    );
    assert.deepEqual(
      [...rows.keys()],
      api.workloads.map((w) => `${w.namespace}/${w.name}`),
    );
    for (const w of api.workloads) {
      const row = rows.get(`${w.namespace}/${w.name}`) as Record<string, string>;
      const what = `${w.namespace}/${w.name}`;
      assert.equal(
        row.State,
        w.lastError && w.state !== 'fresh' ? `${w.state} (${w.lastError.kind})` : w.state,
        what,
      );
      assertShows(row.Demand as string, w.demand, `${what} demand`);
      assertShows(row.Predicted as string, w.predicted, `${what} predicted`);
      assertShows(row.Replicas as string, w.desiredReplicas, `${what} replicas`);
      assert.equal(row.Rule, w.rule ?? '—', what);
      assert.equal(row['Decided at'], w.decidedAt === null ? '—' : utc(w.decidedAt), what);
      assert.equal(row.Override, 'none', what);
      assert.equal(row.Anomaly, w.anomaly ? `${w.anomaly.state} (${w.anomaly.score.toFixed(2)})` : '—', what);
    }
    // and the degraded workload says so, the NASA workload has real numbers
    assert.equal(rows.get('team-b/reports')?.State, 'failed (unreachable)');
    assert.ok((shown(rows.get('team-a/checkout')?.Demand ?? '—') ?? 0) > 0);
    // and the token went out as a Bearer header, never in a URL
    assert.ok(requests.every((r) => !r.url.includes(TOKENS.viewer)));
    assert.deepEqual(problems, []);
  });

  it('draws the workload’s chart from the API’s arrays, with a text alternative and the data table', async () => {
    // GIVEN a viewer on team-a/checkout (NASA, per minute; the window holds real sudden zeros)
    const { page, problems } = await session(secured);
    await useToken(page, TOKENS.viewer);
    await page.getByRole('link', { name: 'team-a/checkout' }).click();
    const chart = page.getByRole('img', { name: 'Demand, forecast and replicas' });
    await chart.waitFor();
    const api = await getJson<WorkloadDetail>(
      secured.url,
      '/api/v1/workloads/team-a/checkout',
      TOKENS.viewer,
    );
    const h = api.history as unknown as {
      timestamps: number[];
      demand: (number | null)[];
      forecast: (number | null)[];
      upper: (number | null)[];
      replicas: (number | null)[];
      anomalies: { timestamp: number; state: string }[];
    };
    const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

    // THEN one demand vertex per finite demand value, and y falls exactly as demand rises
    const demand: string[] = await chart
      .locator('polyline.demand')
      .evaluateAll((lines) => lines.map((l) => l.getAttribute('points') ?? ''));
    const vertices = demand.flatMap((p) =>
      p.split(' ').map((xy) => xy.split(',').map(Number) as [number, number]),
    );
    const values = h.demand.filter(finite);
    assert.equal(vertices.length, values.length);
    // the trace misses some minutes: each gap splits the line instead of bridging it
    const runs = h.demand.filter((v, i) => finite(v) && !finite(h.demand[i - 1])).length;
    assert.ok(values.length < h.timestamps.length && runs > 1, 'the window holds real gaps');
    assert.equal(demand.length, runs);
    const [[, y0], [, y1]] = [
      vertices[values.indexOf(Math.min(...values))],
      vertices[values.indexOf(Math.max(...values))],
    ] as [[number, number], [number, number]];
    const slope = (y1 - y0) / (Math.max(...values) - Math.min(...values));
    assert.ok(slope < 0, 'higher demand is drawn higher');
    vertices.forEach(([, y], i) =>
      assert.ok(
        Math.abs(y - (y0 + slope * ((values[i] as number) - Math.min(...values)))) < 0.2,
        `vertex ${i}`,
      ),
    );
    // and x grows with time
    for (let i = 1; i < vertices.length; i++)
      assert.ok((vertices[i] as number[])[0]! > (vertices[i - 1] as number[])[0]!);

    // and the forecast band: two vertices per point where forecast and upper are known
    const band: string[] = await chart
      .locator('polygon.band')
      .evaluateAll((ps) => ps.map((p) => p.getAttribute('points') ?? ''));
    const banded = h.timestamps.filter((_, i) => finite(h.forecast[i]) && finite(h.upper[i])).length;
    assert.ok(banded > 300);
    assert.equal(
      band.reduce((n, p) => n + p.split(' ').length, 0),
      2 * banded,
    );
    assert.equal(await chart.locator('path.replicas').count(), 1);

    // and every anomaly in the window is marked where it happened (the trace's sudden zeros among them)
    const marked: number[] = await chart
      .locator('circle.anomaly')
      .evaluateAll((cs) => cs.map((c) => Number(c.getAttribute('data-timestamp'))));
    const t0 = h.timestamps[0] as number;
    const t1 = h.timestamps[h.timestamps.length - 1] as number;
    const expected = h.anomalies.filter((a) => a.timestamp >= t0 && a.timestamp <= t1);
    assert.deepEqual(
      marked,
      expected.map((a) => a.timestamp),
    );
    const zeros = expected.filter((a) => a.state === 'drop-to-zero').map((a) => utc(a.timestamp));
    assert.deepEqual(zeros, ['1995-07-05 17:32 UTC', '1995-07-05 17:33 UTC', '1995-07-05 20:21 UTC']);
    assert.match(
      (await chart.locator('circle.anomaly title').first().textContent()) ?? '',
      new RegExp(`^Anomaly at ${utc(expected[0]!.timestamp)}`),
    );

    // and the text alternative says what the chart shows
    const caption = await page.locator('#chart-caption').innerText();
    assert.equal(await chart.getAttribute('aria-describedby'), 'chart-caption');
    assert.match(caption, new RegExp(`^${h.timestamps.length} points from ${utc(t0)} to ${utc(t1)}\\.`));
    assert.match(caption, new RegExp(`highest ${Math.max(...values)}\\.`));
    assert.match(caption, new RegExp(`${expected.length} anomalies marked`));
    // and the data table has one row per point, oldest first
    await page.getByText(/Chart data as a table/).click();
    const table = page.getByRole('table', { name: 'The chart’s values per point, oldest first' });
    assert.equal(await table.locator('tbody tr').count(), h.timestamps.length);
    assert.equal(await table.locator('tbody tr').last().locator('th').innerText(), utc(t1));
    // and each row says what the API has for its point: the sudden zero's demand is not a value the
    // engine learned from (null), its row names the anomaly
    const zeroAt = h.timestamps.indexOf(Date.UTC(1995, 6, 5, 17, 32) / 1000);
    const zeroRow = await table.locator('tbody tr').nth(zeroAt).locator('th, td').allInnerTexts();
    assert.equal(zeroRow[0], '1995-07-05 17:32 UTC');
    assertShows(zeroRow[1] as string, h.demand[zeroAt] ?? null, 'demand at 17:32');
    assertShows(zeroRow[4] as string, h.replicas[zeroAt] ?? null, 'replicas at 17:32');
    assert.match(zeroRow[5] as string, /^drop-to-zero \(\d\.\d\d\)$/);
    assert.deepEqual(problems, []);
  });

  it('explains the current decision: rule, model and its scores, anomaly, and the decision log', async () => {
    const { page, problems } = await session(secured);
    await useToken(page, TOKENS.viewer);
    await page.goto(`${secured.url}/dashboard/#/workloads/team-a/checkout`);
    await page.locator('#explanation-list').waitFor();
    const api = await getJson<WorkloadDetail>(
      secured.url,
      '/api/v1/workloads/team-a/checkout',
      TOKENS.viewer,
    );
    const e = api.explanation;
    assert.ok(e);
    const field = (name: string) => page.locator(`#explanation-list dd[data-field="${name}"]`).innerText();
    assert.match(await field('Rule'), new RegExp(`^${e.rule}: `));
    assert.equal(await field('Summary'), e.summary);
    assert.equal(await field('Desired replicas'), String(e.desiredReplicas));
    assert.match(await field('Forecast'), new RegExp(`^model ${e.forecast.model}: `));
    assert.match(
      await field('Anomaly'),
      new RegExp(`^${e.anomaly.state}, score ${e.anomaly.score.toFixed(2)}`),
    );
    assert.match(
      await field('Replicas per rule'),
      new RegExp(`current demand ${e.replicasFor.currentDemand}, forecast ${e.replicasFor.forecast}`),
    );
    // the model scores, one row per model, the one in use marked
    const scores = page.getByRole('table', { name: /Forecast models/ });
    const models = await scores.locator('tbody th').allInnerTexts();
    assert.deepEqual(
      models,
      e.forecast.scores.map((s) => s.model),
    );
    const inUse = scores.locator('tbody tr', { hasText: 'yes' });
    assert.equal(await inUse.locator('th').innerText(), e.forecast.model);
    // the decision log, newest first
    const log = page.getByRole('table', { name: /Changes of the desired replicas/ });
    assert.equal(await log.locator('tbody tr').count(), api.decisions.length);
    const newest = api.decisions[api.decisions.length - 1]!;
    assert.deepEqual(await log.locator('tbody tr').first().locator('th, td').allInnerTexts(), [
      utc(newest.timestamp),
      String(newest.desiredReplicas),
      newest.rule,
      newest.state,
      newest.summary,
    ]);
    // and the degraded workload's page says why
    await page.goto(`${secured.url}/dashboard/#/workloads/team-b/reports`);
    await page.getByText(/History source failing for/).waitFor();
    assert.match(
      await page.locator('#detail-status').innerText(),
      /failed \(unreachable\)[\s\S]*ECONNREFUSED/,
    );
    assert.deepEqual(problems, []);
  });

  it('refuses an override without a token in the UI: the message is shown and nothing is sent', async () => {
    // GIVEN anonymous reads (the page shows the workload) and no token
    const { page, requests, problems } = await session(open, '#/workloads/team-a/checkout');
    await page.locator('#explanation-list').waitFor();
    // WHEN setting 12 replicas
    await page.getByLabel('Replicas', { exact: true }).fill('12');
    await page.getByRole('button', { name: 'Set override' }).click();
    // THEN the page says why, and no write reached the API
    const alert = page.getByRole('alert');
    await alert.getByText(/Not sent: overrides need authentication/).waitFor();
    await page.getByRole('button', { name: 'Clear override' }).click();
    assert.match(await alert.innerText(), /Not sent/);
    assert.deepEqual(
      requests.filter((r) => r.method !== 'GET'),
      [],
    );
    assert.equal(open.overrides.data.size, 0);
    // and anonymous reads streamed live without any token
    assert.equal(await page.locator('#live').innerText(), 'Live updates: on');
    assert.deepEqual(problems, []);
  });

  it('shows the API’s 401 for a bad token and 403 for a token that may not patch; nothing is written', async () => {
    const { page, requests } = await session(open, '#/workloads/team-a/checkout');
    await page.locator('#explanation-list').waitFor();
    // WHEN a token the API does not know is used
    await useToken(page, 'not-a-known-token');
    await page.getByLabel('Replicas', { exact: true }).fill('12');
    await page.getByRole('button', { name: 'Set override' }).click();
    // THEN the API's 401 is shown with its message
    const alert = page.getByRole('alert');
    await alert.getByText('Not authenticated (401): Authorization: the credentials are not valid').waitFor();
    // WHEN a viewer (get and list only) tries
    await useToken(page, TOKENS.viewer);
    await page.getByLabel('Replicas', { exact: true }).fill('12');
    await page.getByRole('button', { name: 'Set override' }).click();
    // THEN the API's 403 is shown, naming the caller and the ScaledObject
    await alert.getByText(/^Not allowed \(403\)/).waitFor();
    assert.match(
      await alert.innerText(),
      /system:serviceaccount:monitoring:viewer may not patch scaledobject checkout in namespace team-a/,
    );
    assert.equal(requests.filter((r) => r.method === 'POST').length, 2, 'both attempts reached the API');
    assert.equal(open.overrides.data.size, 0);
    // and the tenant's cap (422) is explained too
    await useToken(page, TOKENS.admin);
    await page.getByLabel('Replicas', { exact: true }).fill('41');
    await page.getByRole('button', { name: 'Set override' }).click();
    await alert.getByText(/replicas: 41 exceeds tenant team-a's cap of 40 replicas/).waitFor();
    assert.match(await alert.innerText(), /^The runtime refused \(422 over-tenant-cap\)/);
    assert.equal(open.overrides.data.size, 0);
  });

  it('sets and clears an override with the keyboard alone, and shows it on the page and in the list', async () => {
    // GIVEN an admin key on the secured server, on team-a/checkout (focus starts at the page title)
    const { page, problems } = await session(secured);
    await useToken(page, TOKENS.admin);
    await page.getByRole('link', { name: 'team-a/checkout' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#explanation-list').waitFor();
    assert.equal(await page.evaluate('document.activeElement.id'), 'view-title');
    // WHEN tabbing to the form
    const visited: string[] = [];
    for (let i = 0; i < 40 && visited.at(-1) !== 'override-replicas'; i++) {
      await page.keyboard.press('Tab');
      visited.push(
        String(await page.evaluate('document.activeElement.id || document.activeElement.tagName')),
      );
    }
    assert.equal(visited.at(-1), 'override-replicas', `focus went ${visited.join(' → ')}`);
    // and typing 12, picking "2 hours" with the arrow key, and pressing Enter on "Set override"
    await page.keyboard.type('12');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.id'), 'override-duration');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.locator('#override-duration').inputValue(), '7200');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.id'), 'override-set');
    await page.keyboard.press('Enter');
    // THEN the store holds it, by the admin, for two hours of the runtime's clock
    const expiresAt = new Date(world.now() + 7200_000).toISOString();
    const alert = page.getByRole('alert');
    await alert.getByText(/^Override set: 12 replicas until/).waitFor();
    assert.deepEqual(secured.overrides.data.get('team-a/checkout'), {
      replicas: 12,
      by: 'ops-admin',
      expiresAt,
    });
    assert.equal(
      await alert.innerText(),
      `Override set: 12 replicas until ${utc(Date.parse(expiresAt) / 1000)}, by ops-admin.`,
    );
    // and the page shows the override in force
    await page.getByText(/^Override in force: 12 replicas/).waitFor();
    // and so does the overview
    await page.getByRole('link', { name: 'All workloads' }).click();
    const rows = await overviewRows(page);
    assert.equal(
      rows.get('team-a/checkout')?.Override,
      `12 replicas until ${utc(Date.parse(expiresAt) / 1000)}, by ops-admin`,
    );

    // WHEN clearing it with the keyboard (Shift+Tab back from the log to "Clear override", Space)
    await page.getByRole('link', { name: 'team-a/checkout' }).click();
    await page.getByText(/^Override in force/).waitFor();
    await page.locator('#override-set').focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement.id'), 'override-clear');
    await page.keyboard.press('Space');
    // THEN it is gone from the store and the page
    await alert.getByText('Override cleared: the runtime’s decision is in force again.').waitFor();
    await page.getByText('No override: the runtime’s decision is in force.').waitFor();
    assert.equal(secured.overrides.data.has('team-a/checkout'), false);
    assert.deepEqual(problems, []);
  });

  it('shows a new decision without a reload when the registry decides again', async () => {
    // GIVEN one page on the overview and one on team-a/checkout, both live
    const overview = await session(secured);
    await useToken(overview.page, TOKENS.admin);
    await overviewRows(overview.page);
    const detail = await session(secured, '#/workloads/team-a/checkout');
    await useToken(detail.page, TOKENS.admin);
    await detail.page.locator('#chart-table').waitFor({ state: 'attached' });
    for (const s of [overview, detail]) {
      await s.page.getByText('Live updates: on').waitFor();
      await s.page.evaluate('window.loadedOnce = true');
    }
    // (a keyboard user has the chart's data table open)
    await detail.page.locator('#chart-data-summary').focus();
    await detail.page.keyboard.press('Enter');
    assert.equal(await detail.page.locator('#chart-data').getAttribute('open'), '');
    const before = await getJson<WorkloadSummary>(
      secured.url,
      '/api/v1/workloads/team-a/checkout',
      TOKENS.admin,
    );
    const lastRow = () => detail.page.locator('#chart-table tbody tr').last().locator('th').textContent();
    assert.equal(await lastRow(), utc(before.decidedAt as number));

    // WHEN the clock moves a minute and the registry ticks (a new NASA point, a new decision)
    await world.advance(60);
    const now = await getJson<WorkloadDetail>(secured.url, '/api/v1/workloads/team-a/checkout', TOKENS.admin);
    assert.equal(now.decidedAt, (before.decidedAt as number) + 60);

    // THEN the overview's row shows the new decision
    const row = overview.page.locator('tr[data-workload="team-a/checkout"]');
    await row.getByText(utc(now.decidedAt as number)).waitFor();
    const cells = await row.locator('td').allInnerTexts();
    assertShows(cells[1] as string, now.demand, 'demand');
    assertShows(cells[3] as string, now.desiredReplicas, 'replicas');
    await overview.page
      .getByText(`Last decision received: team-a/checkout, ${now.desiredReplicas} replicas`)
      .waitFor();
    // and the workload page's chart gained the point (the window slides: still 360 points, newest last)
    await detail.page
      .locator('#chart-table tbody tr:last-child th', { hasText: utc(now.decidedAt as number) })
      .waitFor({ state: 'attached' });
    assert.equal(await detail.page.locator('#chart-table tbody tr').count(), now.history?.timestamps.length);
    // and the open data table stayed open, with the focus where it was
    assert.equal(await detail.page.locator('#chart-data').getAttribute('open'), '');
    assert.equal(await detail.page.evaluate('document.activeElement.id'), 'chart-data-summary');
    assert.match(
      await detail.page.locator('#detail-status').innerText(),
      new RegExp(utc(now.decidedAt as number)),
    );
    // without reloading either page
    for (const s of [overview, detail]) {
      assert.equal(await s.page.evaluate('window.loadedOnce'), true);
      assert.equal(s.requests.filter((r) => r.url.endsWith('/dashboard/')).length, 1);
      assert.deepEqual(s.problems, []);
    }
  });

  it('lists the recommendations from the usage source', async () => {
    const { page, problems } = await session(secured, '#/recommendations');
    await useToken(page, TOKENS.viewer);
    const table = page.getByRole('table', { name: 'Right-sized container requests and limits' });
    await table.waitFor();
    const api = await getJson<{
      recommendations: {
        namespace: string;
        workload: string;
        container: string;
        requests: { cpu: string; memory: string };
        limits: { memory: string };
        confidence: string;
      }[];
    }>(secured.url, '/api/v1/recommendations', TOKENS.viewer);
    const rows = await table.locator('tbody tr').all();
    assert.equal(rows.length, api.recommendations.length);
    const r = api.recommendations[0]!;
    const cells = await rows[0]!.locator('th, td').allInnerTexts();
    assert.equal(cells[0], `${r.namespace}/${r.workload}/${r.container}`);
    assert.equal(cells[1], r.requests.cpu);
    assert.match(cells[2] as string, /^500m \(\+\d+%\)$/);
    assert.equal(cells[3], r.requests.memory);
    assert.equal(cells[5], r.limits.memory);
    assert.match(cells[6] as string, new RegExp(`^${r.confidence}: `));
    assert.equal(await page.locator('#nav-recommendations').getAttribute('aria-current'), 'page');
    assert.deepEqual(problems, []);
  });

  it('is accessible: named landmarks, tables and controls, and text with enough contrast', async () => {
    const { page, problems, requests } = await session(secured);
    await useToken(page, TOKENS.admin);
    await overviewRows(page);
    for (const [role, name] of [
      ['banner', undefined],
      ['navigation', 'Sections'],
      ['main', undefined],
      ['complementary', 'Access and live updates'],
    ] as const) {
      assert.equal(await page.getByRole(role, name ? { name } : {}).count(), 1, role);
    }
    assert.equal(await page.getByRole('columnheader').count(), 9);
    assert.equal(await page.getByRole('rowheader').count(), 4);
    await page.getByRole('link', { name: 'team-b/search' }).click();
    await page.locator('#explanation-list').waitFor();
    for (const label of [
      'Replicas',
      'Duration',
      'API key or Kubernetes token',
      'Keep for this browser tab',
    ]) {
      assert.equal(await page.getByLabel(label, { exact: true }).count(), 1, label);
    }
    // Every control has an accessible name
    const unnamed = await page.evaluate(`[...document.querySelectorAll('input, select, button, a[href]')]
      .filter((e) => !(e.labels?.length || e.getAttribute('aria-label') || e.textContent.trim()))
      .map((e) => e.outerHTML)`);
    assert.deepEqual(unnamed, []);
    // WCAG contrast of every text element against its painted background (≥ 4.5:1)
    const low = (await page.evaluate(CONTRAST_CHECK)) as string[];
    assert.deepEqual(low, []);
    // and the skip link moves focus to the main region
    await page.locator('#skip-link').focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate('document.activeElement.id'), 'main');
    // and the page fetched nothing from any other origin
    assert.ok(
      requests.every((r) => r.url.startsWith(secured.url)),
      requests.map((r) => r.url).join('\n'),
    );
    assert.deepEqual(problems, []);
  });

  // Last: it leaves a refusal in the list for ten minutes of the registry's clock.
  it('shows workloads refused for memory, and workloads leaving the list, without a reload', async () => {
    // GIVEN the overview, live, with no refused workload
    const { page, problems } = await session(secured);
    await useToken(page, TOKENS.viewer);
    await overviewRows(page);
    await page.getByText('Live updates: on').waitFor();
    await page.evaluate('window.loadedOnce = true');
    assert.equal(await page.locator('#refused').count(), 0);
    const feed = { namespace: 'team-b', name: 'feed' };
    const spec = parseWorkloadSpec(feed, { query: CHECKOUT_QUERY, capacityPerReplica: '20' }, TENANTS);

    // WHEN memory is full and KEDA asks about team-b/feed
    world.setMemoryFull(true);
    try {
      assert.throws(() => world.registry.register(feed, spec), /memory/);
    } finally {
      world.setMemoryFull(false);
    }
    // THEN a table of refused workloads appears, naming it, when, and why
    const refused = page.getByRole('table', { name: /Workloads refused for lack of memory \(1\)/ });
    await refused.waitFor();
    const cells = await refused.locator('tbody tr th, tbody tr td').allInnerTexts();
    assert.equal(cells[0], 'team-b/feed');
    assert.equal(cells[1], utc(Math.floor(world.now() / 1000)));
    assert.match(cells[2] as string, /memory/);
    assert.deepEqual((await page.evaluate(CONTRAST_CHECK)) as string[], []);

    // WHEN memory was freed and KEDA asks again
    await world.registry.register(feed, spec);
    // THEN the workload joins the table and the refused table goes
    await page.locator('tr[data-workload="team-b/feed"]').waitFor();
    await refused.waitFor({ state: 'detached' });

    // WHEN its ScaledObject is deleted
    world.registry.unregister(feed);
    // THEN its row leaves the table
    await page.locator('tr[data-workload="team-b/feed"]').waitFor({ state: 'detached' });
    await page.getByText('Workload no longer tracked: team-b/feed.').waitFor();
    assert.equal((await overviewRows(page)).size, 4);
    // all without reloading the page
    assert.equal(await page.evaluate('window.loadedOnce'), true);
    assert.deepEqual(problems, []);
  });
});

/** Runs in the page: text elements whose colour contrast with their background is below 4.5:1. */
const CONTRAST_CHECK = `(() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (e) => {
    for (let n = e; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.99)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const e of document.querySelectorAll('body *')) {
    if (!e.checkVisibility() || e.closest('svg')) continue;
    const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '');
    if (!own) continue;
    const fg = rgb(getComputedStyle(e).color).slice(0, 3);
    const [a, b] = [lum(fg), lum(background(e))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) low.push(e.tagName + ' "' + e.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
  }
  return low;
})()`;
