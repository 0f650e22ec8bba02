/**
 * The dashboard's script: hash routes for the workloads overview, one workload (chart, explanation,
 * override, decision log) and the recommendations; a token form (the token stays in memory, or in
 * sessionStorage when asked, and goes out as `Authorization: Bearer`); live updates read from
 * `GET /api/v1/stream` with fetch, so the same header authenticates the stream.
 *
 * Runs in the browser only: ../assets.ts bundles every exported function of this folder into one
 * script, so a function here may use only its parameters, its own locals, the other exported functions
 * and `w` (the window). Everything is built with createElement and textContent, never from HTML
 * strings, so no API value can become markup (and the CSP's Trusted Types rule would refuse it).
 */
import type { ContainerRecommendation } from '../../recommendations.js';
import type { Decision } from '../../../engine/workload-engine.js';
import type { WorkloadDetail, WorkloadSummary } from '../../http/workload-view.js';
import type { RefusedWorkload } from '../../workload-registry.js';
import type { ChartData } from './chart.js';
import { chartModel, chartSummary, renderChart } from './chart.js';
import type { Child, DomControl, DomDocument, DomElement, DomEvent, DomWindow } from './dom.js';
import { formatBytes, formatCores, formatDuration, formatNumber, formatScore, formatTime } from './format.js';
import type { StreamEvent } from './sse.js';
import { parseEventStream } from './sse.js';

/** An API answer: `status` 0 when the runtime did not answer at all. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** An element with attributes and children (strings become text nodes). */
export function el(
  doc: DomDocument,
  tag: string,
  attrs: Readonly<Record<string, string | undefined>> | null,
  ...children: Child[]
): DomElement {
  const e = doc.createElement(tag);
  if (attrs) for (const [k, v] of Object.entries(attrs)) if (v !== undefined) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

/** A data table: a caption, column headers, and rows whose first cell is the row header. */
export function dataTable(
  doc: DomDocument,
  id: string,
  caption: string,
  headers: readonly string[],
  rows: readonly (readonly Child[])[],
): DomElement {
  const head = el(doc, 'tr', null, ...headers.map((h) => el(doc, 'th', { scope: 'col' }, h)));
  const body = el(
    doc,
    'tbody',
    null,
    ...rows.map((cells) =>
      el(
        doc,
        'tr',
        null,
        ...cells.map((c, i) => (i === 0 ? el(doc, 'th', { scope: 'row' }, c) : el(doc, 'td', null, c))),
      ),
    ),
  );
  return el(doc, 'table', { id }, el(doc, 'caption', null, caption), el(doc, 'thead', null, head), body);
}

/** What a failed answer means for the person using the page. */
export function failureText(answer: Answer): string {
  const error = (answer.body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const said = error?.message ?? '';
  switch (answer.status) {
    case 0:
      return 'The runtime did not answer (network error or the runtime is restarting). Try again.';
    case 401:
      return `Not authenticated (401): ${said || 'credentials required'}. Enter an API key or Kubernetes token under “Access token”.`;
    case 403:
      return `Not allowed (403): ${said || 'forbidden'}. Use a token that is allowed to do this.`;
    default:
      return `The runtime refused (${answer.status}${error?.code ? ` ${error.code}` : ''}): ${said || 'no details'}`;
  }
}

/**
 * Why the forecast's pre-scale was scaled back, or nothing while it is trusted in full (a trust of 1,
 * or none reported; NaN arrives as null in JSON).
 */
export function prescaleText(
  forecast: Pick<Decision['forecast'], 'prescaleTrust' | 'prescaleNeededShare'>,
): string {
  const trust = forecast.prescaleTrust as number | null | undefined;
  if (typeof trust !== 'number' || trust >= 1) return '';
  const share = (forecast.prescaleNeededShare as number | null) ?? Number.NaN;
  return `; pre-scale scaled to ${Math.round(trust * 100)}%: ${Math.round(share * 100)}% of recent pre-scaled replicas were needed`;
}

/** One sentence per decision rule: why this rule bound the replica count. */
export function ruleText(rule: string | null | undefined): string {
  switch (rule) {
    case 'override':
      return 'a manual override fixed the replica count';
    case 'hold-broken-signal':
      return 'the demand signal looked broken (missing, invalid or a sudden zero), so the last count is held';
    case 'current-demand':
      return 'the demand right now needs the most replicas';
    case 'forecast':
      return 'the forecast peak over the lead time needs the most replicas';
    case 'surge':
      return 'a surge above the forecast needs extra replicas now';
    case 'scale-down-stabilization':
      return 'scale-down is damped: the highest recent recommendation still applies';
    case 'min-replicas':
      return 'the minimum replica count applies';
    case 'max-replicas':
      return 'capped at the maximum replica count';
    default:
      return 'no decision yet';
  }
}

/** The override column's text: undefined = not known (no Kubernetes API), null = none. */
export function overrideText(override: WorkloadSummary['override']): string {
  if (override === undefined) return 'unknown';
  if (override === null) return 'none';
  const until = override.expiresAt
    ? `until ${formatTime(Date.parse(override.expiresAt) / 1000)}`
    : 'until cleared';
  return `${override.replicas} replicas ${until}${override.by ? `, by ${override.by}` : ''}`;
}

/** The state column's text, with the failure kind when degraded. */
export function stateText(summary: Pick<WorkloadSummary, 'state' | 'lastError'>): string {
  return summary.lastError && summary.state !== 'fresh'
    ? `${summary.state} (${summary.lastError.kind})`
    : summary.state;
}

/** Fills a workload row's cells (the first cell, the link, is left alone so focus stays on it). */
export function fillWorkloadRow(doc: DomDocument, row: DomElement, s: WorkloadSummary): void {
  const degraded = s.state !== 'fresh';
  const anomalous = s.anomaly !== null && s.anomaly.state !== 'normal' && s.anomaly.state !== 'warming-up';
  const texts: [string, string | undefined][] = [
    [stateText(s), degraded ? `badge state-${s.state}` : 'badge state-fresh'],
    [formatNumber(s.demand), 'num'],
    [formatNumber(s.predicted), 'num'],
    [formatNumber(s.desiredReplicas), 'num'],
    [s.rule ?? '—', undefined],
    [
      s.anomaly ? `${s.anomaly.state} (${formatScore(s.anomaly.score)})` : '—',
      anomalous ? 'anomalous' : undefined,
    ],
    [overrideText(s.override), s.override ? 'overridden' : undefined],
    [formatTime(s.decidedAt), undefined],
  ];
  texts.forEach(([text, cls], i) => {
    let cell = row.children.item(i + 1);
    if (!cell) {
      cell = el(doc, 'td', null);
      row.append(cell);
    }
    if (i === 0) {
      cell.replaceChildren(el(doc, 'span', { class: cls }, text));
      return;
    }
    cell.textContent = text;
    if (cls) cell.setAttribute('class', cls);
    else cell.removeAttribute('class');
  });
}

/** The workloads the runtime refuses for lack of memory: what KEDA is told, and why, per workload. */
export function refusedTable(doc: DomDocument, refused: readonly RefusedWorkload[]): DomElement {
  return dataTable(
    doc,
    'refused',
    `Workloads refused for lack of memory (${refused.length}): KEDA gets UNAVAILABLE for them and keeps their replica count; each is taken when KEDA asks again and memory allows`,
    ['Workload', 'Last refused', 'Why'],
    refused.map((r) => [`${r.namespace}/${r.name}`, formatTime(r.at), r.reason]),
  );
}

/** A new row for a workload: a link to its page, then the cells `fillWorkloadRow` fills. */
export function workloadRow(doc: DomDocument, s: WorkloadSummary): DomElement {
  const key = `${s.namespace}/${s.name}`;
  const link = el(
    doc,
    'a',
    { href: `#/workloads/${encodeURIComponent(s.namespace)}/${encodeURIComponent(s.name)}` },
    key,
  );
  const row = el(doc, 'tr', { 'data-workload': key }, el(doc, 'th', { scope: 'row' }, link));
  fillWorkloadRow(doc, row, s);
  return row;
}

/** Boots the dashboard in window `w` (called once by the bundle). */
export function startDashboard(w: DomWindow): void {
  const doc = w.document;
  const byId = (id: string): DomElement => {
    const e = doc.getElementById(id);
    if (!e) throw new Error(`dashboard: #${id} is missing from the page`);
    return e;
  };
  const view = byId('view');
  const STORAGE_KEY = 'elasticai.dashboard.token';

  type Route =
    | { readonly page: 'overview' }
    | { readonly page: 'workload'; readonly namespace: string; readonly name: string }
    | { readonly page: 'recommendations' };

  const state = {
    token: undefined as string | undefined,
    remembered: false,
    route: { page: 'overview' } as Route,
    /** Last summaries seen (list or stream), by `ns/name`. */
    workloads: new Map<string, WorkloadSummary>(),
    /** Bumped on every navigation: answers for an older view are dropped. */
    generation: 0,
    reloadTimer: undefined as number | undefined,
  };
  const live = {
    controller: undefined as AbortController | undefined,
    retryMs: 3000,
    failures: 0,
    heartbeatMs: 15_000,
    reconnectTimer: undefined as number | undefined,
    watchdog: undefined as number | undefined,
    everConnected: false,
  };

  // ---- the API ----

  const authHeaders = (): Record<string, string> =>
    state.token === undefined ? {} : { authorization: `Bearer ${state.token}` };

  const readBody = async (response: Response): Promise<unknown> => {
    const text = await response.text().catch(() => '');
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return { error: { code: 'not-json', message: text.slice(0, 200) } };
    }
  };

  const call = async (path: string, method = 'GET', body?: unknown): Promise<Answer> => {
    const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await w.fetch(path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: await readBody(response) };
    } catch {
      return { status: 0, body: undefined };
    }
  };

  const ok = (a: Answer): boolean => a.status >= 200 && a.status < 300;
  const workloadPath = (namespace: string, name: string): string =>
    `/api/v1/workloads/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

  // ---- credentials ----

  const tokenInput = byId('token') as DomControl;
  const rememberBox = byId('remember') as DomControl;
  const authState = byId('auth-state');

  const showAuthState = (): void => {
    authState.textContent =
      state.token === undefined
        ? 'No token: reading anonymously where the runtime allows it. Overrides need a token.'
        : state.remembered
          ? 'A token is set (kept for this browser tab in session storage).'
          : 'A token is set (kept in this page’s memory only; reloading forgets it).';
    (byId('forget') as DomControl).disabled = state.token === undefined;
  };

  const setToken = (token: string | undefined, remember: boolean): void => {
    state.token = token;
    state.remembered = token !== undefined && remember;
    if (state.remembered && token !== undefined) w.sessionStorage.setItem(STORAGE_KEY, token);
    else w.sessionStorage.removeItem(STORAGE_KEY);
    showAuthState();
    startStream();
    render(false);
  };

  const stored = w.sessionStorage.getItem(STORAGE_KEY);
  if (stored !== null && stored !== '') {
    state.token = stored;
    state.remembered = true;
    rememberBox.checked = true;
  }

  byId('credentials').addEventListener('submit', (event: DomEvent) => {
    event.preventDefault();
    const token = tokenInput.value.trim();
    if (token === '') {
      authState.textContent = 'Enter an API key or Kubernetes token first.';
      tokenInput.focus();
      return;
    }
    tokenInput.value = '';
    setToken(token, rememberBox.checked);
  });
  byId('forget').addEventListener('click', () => setToken(undefined, false));

  // ---- live updates: fetch-based server-sent events ----

  const liveState = byId('live');
  const lastEvent = byId('last-event');
  const setLive = (mode: 'connecting' | 'on' | 'off' | 'retrying', text: string): void => {
    liveState.setAttribute('data-state', mode);
    liveState.textContent = text;
  };

  const clearTimers = (): void => {
    w.clearTimeout(live.reconnectTimer);
    w.clearTimeout(live.watchdog);
    live.reconnectTimer = undefined;
    live.watchdog = undefined;
  };

  const stopStream = (): void => {
    clearTimers();
    const c = live.controller;
    live.controller = undefined;
    c?.abort();
  };

  const scheduleReconnect = (controller: AbortController, afterBye: boolean): void => {
    if (live.controller !== controller) return; // stopped or replaced meanwhile
    clearTimers();
    if (!afterBye) live.failures++;
    const delay = afterBye ? 200 : Math.min(30_000, live.retryMs * 2 ** Math.max(0, live.failures - 1));
    setLive('retrying', `Live updates: reconnecting in ${formatDuration(delay / 1000)}…`);
    live.reconnectTimer = w.setTimeout(() => startStream(), delay);
  };

  const armWatchdog = (controller: AbortController): void => {
    w.clearTimeout(live.watchdog);
    // Three missed heartbeats: the connection is dead even if no error came.
    live.watchdog = w.setTimeout(() => {
      if (live.controller !== controller) return;
      controller.abort();
    }, live.heartbeatMs * 3);
  };

  const handleEvent = (event: StreamEvent): boolean => {
    if (event.event === 'hello') {
      const hello = JSON.parse(event.data) as { heartbeatSeconds?: number };
      if (typeof hello.heartbeatSeconds === 'number') live.heartbeatMs = hello.heartbeatSeconds * 1000;
    } else if (event.event === 'decision') {
      onDecision(JSON.parse(event.data) as WorkloadSummary);
    } else if (event.event === 'removed' || event.event === 'refused') {
      onListChange(event.event, JSON.parse(event.data) as { namespace: string; name: string });
    } else if (event.event === 'bye') {
      return true;
    }
    return false;
  };

  const runStream = async (controller: AbortController): Promise<void> => {
    setLive('connecting', 'Live updates: connecting…');
    let response: Response;
    try {
      response = await w.fetch('/api/v1/stream', {
        headers: { accept: 'text/event-stream', ...authHeaders() },
        signal: controller.signal,
      });
    } catch {
      scheduleReconnect(controller, false);
      return;
    }
    if (response.status === 401 || response.status === 403) {
      const body = await readBody(response);
      if (live.controller !== controller) return;
      setLive('off', `Live updates off. ${failureText({ status: response.status, body })}`);
      return;
    }
    if (!response.ok || !response.body) {
      await readBody(response);
      scheduleReconnect(controller, false);
      return;
    }
    const reader = response.body.getReader();
    const decoder = new w.TextDecoder();
    const resync = live.everConnected;
    live.everConnected = true;
    live.failures = 0;
    setLive('on', 'Live updates: on');
    armWatchdog(controller);
    // Decisions made while disconnected are not replayed: reload what is shown.
    if (resync) render(false);
    let buffer = '';
    let bye = false;
    try {
      while (!bye) {
        const { done, value } = await reader.read();
        if (done) break;
        armWatchdog(controller);
        const parsed = parseEventStream(buffer + decoder.decode(value as Uint8Array, { stream: true }));
        buffer = parsed.rest;
        if (parsed.retryMs !== undefined) live.retryMs = parsed.retryMs;
        for (const e of parsed.events) bye = handleEvent(e) || bye;
        if (buffer.length > 1_048_576) break; // no event is that large: a broken stream
      }
    } catch {
      // aborted (navigation, new token, watchdog) or the connection was cut
    }
    if (bye) void reader.cancel().catch(() => undefined);
    scheduleReconnect(controller, bye);
  };

  function startStream(): void {
    stopStream();
    const controller = new w.AbortController();
    live.controller = controller;
    void runStream(controller);
  }

  const onDecision = (s: WorkloadSummary): void => {
    const key = `${s.namespace}/${s.name}`;
    const known = state.workloads.get(key);
    // The stream does not read the override store: keep what the list said.
    const merged: WorkloadSummary =
      known && s.override === undefined && known.override !== undefined
        ? { ...s, override: known.override }
        : s;
    state.workloads.set(key, merged);
    lastEvent.textContent = `Last decision received: ${key}, ${formatNumber(s.desiredReplicas)} replicas for ${formatTime(s.decidedAt)}.`;
    const route = state.route;
    if (route.page === 'overview') {
      const row = view.querySelector(`tr[data-workload="${key}"]`);
      if (row) fillWorkloadRow(doc, row, merged);
      else scheduleReload();
    } else if (route.page === 'workload' && route.namespace === s.namespace && route.name === s.name) {
      scheduleReload();
    }
  };

  /** A workload left the list, or is refused for memory: the overview (or its own page) reloads. */
  const onListChange = (change: 'removed' | 'refused', ref: { namespace: string; name: string }): void => {
    const key = `${ref.namespace}/${ref.name}`;
    if (change === 'removed') state.workloads.delete(key);
    lastEvent.textContent =
      change === 'removed'
        ? `Workload no longer tracked: ${key}.`
        : `Workload refused for lack of memory: ${key}.`;
    const route = state.route;
    if (
      route.page === 'overview' ||
      (route.page === 'workload' && route.namespace === ref.namespace && route.name === ref.name)
    ) {
      scheduleReload();
    }
  };

  /** Reloads the current view's data soon (several decisions in a burst make one request). */
  const scheduleReload = (): void => {
    if (state.reloadTimer !== undefined) return;
    state.reloadTimer = w.setTimeout(() => {
      state.reloadTimer = undefined;
      render(false);
    }, 150);
  };

  // ---- views ----

  const title = (text: string): DomElement => el(doc, 'h2', { id: 'view-title', tabindex: '-1' }, text);
  const message = (id: string): DomElement => el(doc, 'p', { id, class: 'message', role: 'status' });
  const showFailure = (target: DomElement, answer: Answer): void => {
    target.textContent = failureText(answer);
    target.setAttribute('class', 'message error');
  };

  const overview = async (generation: number, fresh: boolean): Promise<void> => {
    if (fresh) {
      view.replaceChildren(
        title('Workloads'),
        message('list-message'),
        el(
          doc,
          'table',
          { id: 'workloads', hidden: '' },
          el(doc, 'caption', { id: 'workloads-caption' }, 'Workloads'),
          el(
            doc,
            'thead',
            null,
            el(
              doc,
              'tr',
              null,
              ...[
                'Workload',
                'State',
                'Demand',
                'Predicted',
                'Replicas',
                'Rule',
                'Anomaly',
                'Override',
                'Decided at',
              ].map((h, i) =>
                el(doc, 'th', { scope: 'col', class: i >= 2 && i <= 4 ? 'num' : undefined }, h),
              ),
            ),
          ),
          el(doc, 'tbody', { id: 'workload-rows' }),
        ),
        el(doc, 'div', { id: 'refused-area' }),
      );
    }
    const answer = await call('/api/v1/workloads');
    if (generation !== state.generation) return;
    const table = byId('workloads');
    const note = byId('list-message');
    if (!ok(answer)) {
      table.hidden = true;
      showFailure(note, answer);
      return;
    }
    const list = (answer.body as { workloads: WorkloadSummary[] }).workloads;
    for (const s of list) state.workloads.set(`${s.namespace}/${s.name}`, s);
    note.textContent = list.length === 0 ? 'The runtime decides for no workload yet.' : '';
    note.setAttribute('class', 'message');
    byId('workloads-caption').textContent =
      `Workloads the runtime decides for (${list.length}): demand and predicted demand per interval, desired replicas`;
    const rows = byId('workload-rows');
    const keep = new Set(list.map((s) => `${s.namespace}/${s.name}`));
    for (let i = rows.children.length - 1; i >= 0; i--) {
      const row = rows.children.item(i);
      if (row && !keep.has(row.getAttribute('data-workload') ?? '')) row.remove();
    }
    for (const s of list) {
      const row = rows.querySelector(`tr[data-workload="${s.namespace}/${s.name}"]`);
      if (row) fillWorkloadRow(doc, row, s);
      else rows.append(workloadRow(doc, s));
    }
    table.hidden = list.length === 0;
    const refused = (answer.body as { refused?: RefusedWorkload[] }).refused ?? [];
    byId('refused-area').replaceChildren(...(refused.length > 0 ? [refusedTable(doc, refused)] : []));
  };

  const explanation = (d: WorkloadDetail): DomElement => {
    const e = d.explanation;
    if (!e) {
      return el(
        doc,
        'p',
        null,
        d.kind === 'headroom'
          ? `Headroom placeholder pods for node pool ${String((d.spec as { nodePool?: string }).nodePool ?? '')}: ${formatNumber(d.desiredReplicas)} pods, the sum of the predicted extra pods of the workloads on that pool.`
          : 'No decision yet.',
      );
    }
    const pairs: [string, string][] = [
      ['Desired replicas', formatNumber(e.desiredReplicas)],
      ['Rule', `${e.rule}: ${ruleText(e.rule)}`],
      ['Summary', e.summary],
      ['For the point at', formatTime(e.timestamp)],
      [
        'Demand',
        `${formatNumber(e.inputs.demand)} per interval; one replica serves ${formatNumber(e.inputs.capacityPerReplica)} at ${formatNumber(e.inputs.targetUtilization * 100)}% target utilisation`,
      ],
      [
        'Forecast',
        `model ${e.forecast.model}: peak ${formatNumber(e.forecast.leadPeak)} over the next ${formatDuration(e.inputs.leadSeconds)}, upper band ${formatNumber(e.forecast.upper)} (quantile ${formatScore(e.forecast.upperQuantile)})` +
          prescaleText(e.forecast),
      ],
      [
        'Replicas per rule',
        `current demand ${formatNumber(e.replicasFor.currentDemand)}, forecast ${formatNumber(e.replicasFor.forecast)}, surge ${formatNumber(e.replicasFor.surge)}, stabilized ${formatNumber(e.replicasFor.stabilized)}`,
      ],
      ['Bounds', `${formatNumber(e.inputs.minReplicas)} to ${formatNumber(e.inputs.maxReplicas)} replicas`],
      [
        'Anomaly',
        `${e.anomaly.state}, score ${formatScore(e.anomaly.score)}, z ${formatNumber(e.anomaly.zScore)}`,
      ],
      ['Node headroom', `${formatNumber(e.headroomPods)} extra pods predicted within node provisioning time`],
    ];
    const list = el(
      doc,
      'dl',
      { id: 'explanation-list' },
      ...pairs.flatMap(([k, v]) => [el(doc, 'dt', null, k), el(doc, 'dd', { 'data-field': k }, v)]),
    );
    const scores = dataTable(
      doc,
      'model-scores',
      'Forecast models: back-test loss (lower is better) and ensemble weight',
      ['Model', 'Loss', 'Weight', 'In use'],
      e.forecast.scores.map((s) => [
        s.model,
        formatNumber(s.loss),
        formatScore(s.weight),
        s.model === e.forecast.model
          ? 'yes'
          : e.forecast.model === 'ensemble' && s.weight > 0
            ? 'in the ensemble'
            : '',
      ]),
    );
    return el(doc, 'div', null, list, scores);
  };

  /** The chart section's frame, built once per page so an open data table stays open (and focused). */
  const chartFrame = (): DomElement[] => [
    el(
      doc,
      'figure',
      { class: 'chart-figure', id: 'chart-figure' },
      el(doc, 'div', { id: 'chart-svg' }),
      el(doc, 'figcaption', { id: 'chart-caption' }),
    ),
    el(
      doc,
      'ul',
      { class: 'legend', 'aria-label': 'Legend' },
      el(doc, 'li', { class: 'key-demand' }, 'Demand (left axis)'),
      el(doc, 'li', { class: 'key-forecast' }, 'Forecast peak over the lead time (left axis)'),
      el(doc, 'li', { class: 'key-band' }, 'Forecast band up to the upper quantile (left axis)'),
      el(doc, 'li', { class: 'key-replicas' }, 'Desired replicas (right axis)'),
      el(doc, 'li', { class: 'key-anomaly' }, 'Anomaly'),
    ),
    el(
      doc,
      'details',
      { id: 'chart-data' },
      el(doc, 'summary', { id: 'chart-data-summary' }, 'Chart data as a table'),
      el(doc, 'div', { id: 'chart-data-box' }),
    ),
  ];

  const updateChart = (d: WorkloadDetail): void => {
    const history = d.history as unknown as ChartData | null;
    if (!history) {
      byId('chart-box').replaceChildren(
        el(doc, 'p', null, 'This workload has no series of its own (headroom).'),
      );
      return;
    }
    const model = chartModel(history, 880, 300);
    byId('chart-svg').replaceChildren(renderChart(doc, model, 'chart-title', 'chart-caption'));
    byId('chart-caption').textContent = chartSummary(history, d.explanation?.inputs.leadSeconds);
    const anomalyAt = new Map(history.anomalies.map((a) => [a.timestamp, a]));
    const rows = history.timestamps.map((t, i) => {
      const a = anomalyAt.get(t);
      return [
        formatTime(t),
        formatNumber(history.demand[i]),
        formatNumber(history.forecast[i]),
        formatNumber(history.upper[i]),
        formatNumber(history.replicas[i]),
        a ? `${a.state} (${formatScore(a.score)})` : '',
      ];
    });
    byId('chart-data-summary').textContent = `Chart data as a table (${rows.length} rows)`;
    byId('chart-data-box').replaceChildren(
      dataTable(
        doc,
        'chart-table',
        'The chart’s values per point, oldest first',
        ['Time', 'Demand', 'Forecast peak', 'Upper band', 'Replicas', 'Anomaly'],
        rows,
      ),
    );
  };

  const decisionLog = (d: WorkloadDetail): DomElement =>
    d.decisions.length === 0
      ? el(doc, 'p', null, 'No decisions logged yet.')
      : dataTable(
          doc,
          'decision-log',
          'Changes of the desired replicas and degraded episodes, newest first',
          ['Time', 'Replicas', 'Rule', 'State', 'Summary'],
          [...d.decisions]
            .reverse()
            .map((l) => [
              formatTime(l.timestamp),
              formatNumber(l.desiredReplicas),
              l.rule,
              l.state,
              l.summary,
            ]),
        );

  const overrideNow = (d: WorkloadDetail): string =>
    d.override === undefined
      ? 'Override state unknown: the runtime cannot read the ScaledObject (no Kubernetes API access).'
      : d.override === null
        ? 'No override: the runtime’s decision is in force.'
        : `Override in force: ${overrideText(d.override)}. KEDA holds the workload at this count.`;

  const workloadForm = (namespace: string, name: string): DomElement => {
    const durations: [string, string][] = [
      ['900', '15 minutes'],
      ['3600', '1 hour'],
      ['7200', '2 hours'],
      ['28800', '8 hours'],
      ['86400', '24 hours'],
      ['', 'Until cleared'],
    ];
    const form = el(
      doc,
      'form',
      {
        id: 'override-form',
        'aria-labelledby': 'override-title',
        'aria-describedby': 'override-help',
        novalidate: '',
      },
      el(
        doc,
        'p',
        { id: 'override-help' },
        'Pins the replica count (KEDA’s paused-replicas annotation) for a while. Needs a token allowed to patch this ScaledObject.',
      ),
      el(
        doc,
        'div',
        { class: 'field' },
        el(doc, 'label', { for: 'override-replicas' }, 'Replicas'),
        el(doc, 'input', {
          id: 'override-replicas',
          name: 'replicas',
          type: 'number',
          min: '0',
          step: '1',
          inputmode: 'numeric',
          required: '',
          'aria-describedby': 'override-message',
        }),
      ),
      el(
        doc,
        'div',
        { class: 'field' },
        el(doc, 'label', { for: 'override-duration' }, 'Duration'),
        el(
          doc,
          'select',
          { id: 'override-duration', name: 'duration' },
          ...durations.map(([v, text]) =>
            el(doc, 'option', v === '3600' ? { value: v, selected: '' } : { value: v }, text),
          ),
        ),
      ),
      el(
        doc,
        'div',
        { class: 'actions' },
        el(doc, 'button', { type: 'submit', id: 'override-set' }, 'Set override'),
        el(doc, 'button', { type: 'button', id: 'override-clear' }, 'Clear override'),
      ),
      el(doc, 'p', { id: 'override-message', class: 'message', role: 'alert' }),
    );
    const replicas = form.querySelector('#override-replicas') as DomControl;
    const duration = form.querySelector('#override-duration') as DomControl;
    const setButton = form.querySelector('#override-set') as DomControl;
    const clearButton = form.querySelector('#override-clear') as DomControl;
    const note = form.querySelector('#override-message') as DomElement;
    const say = (text: string, kind: 'error' | 'done'): void => {
      note.textContent = text;
      note.setAttribute('class', `message ${kind === 'error' ? 'error' : 'done'}`);
    };
    const busy = (on: boolean): void => {
      setButton.disabled = on;
      clearButton.disabled = on;
    };
    const needToken = (): boolean => {
      if (state.token !== undefined) return false;
      // Refused here: without a token the API would answer 401 anyway, and nothing is sent.
      say(
        'Not sent: overrides need authentication. Enter an API key or Kubernetes token under “Access token”, then try again.',
        'error',
      );
      return true;
    };
    const path = `${workloadPath(namespace, name)}/override`;

    form.addEventListener('submit', (event: DomEvent) => {
      event.preventDefault();
      if (needToken()) return;
      const text = replicas.value.trim();
      if (!/^\d+$/.test(text)) {
        replicas.setAttribute('aria-invalid', 'true');
        say('Replicas: enter a whole number of replicas, 0 or more.', 'error');
        replicas.focus();
        return;
      }
      replicas.removeAttribute('aria-invalid');
      const body =
        duration.value === ''
          ? { replicas: Number(text) }
          : { replicas: Number(text), durationSeconds: Number(duration.value) };
      busy(true);
      void call(path, 'POST', body).then((answer) => {
        busy(false);
        if (!ok(answer)) {
          say(failureText(answer), 'error');
          return;
        }
        const set = answer.body as { replicas: number; expiresAt: string | null; by: string };
        say(
          `Override set: ${set.replicas} replicas ${set.expiresAt ? `until ${formatTime(Date.parse(set.expiresAt) / 1000)}` : 'until cleared'}, by ${set.by}.`,
          'done',
        );
        render(false);
      });
    });

    clearButton.addEventListener('click', () => {
      if (needToken()) return;
      busy(true);
      void call(path, 'DELETE').then((answer) => {
        busy(false);
        if (!ok(answer)) {
          say(failureText(answer), 'error');
          return;
        }
        say('Override cleared: the runtime’s decision is in force again.', 'done');
        render(false);
      });
    });
    return form;
  };

  const workload = async (
    namespace: string,
    name: string,
    generation: number,
    fresh: boolean,
  ): Promise<void> => {
    if (fresh) {
      const section = (id: string, heading: string, ...children: Child[]): DomElement =>
        el(doc, 'section', { 'aria-labelledby': id }, el(doc, 'h3', { id }, heading), ...children);
      view.replaceChildren(
        el(doc, 'p', { class: 'back' }, el(doc, 'a', { href: '#/' }, '← All workloads')),
        title(`${namespace}/${name}`),
        message('detail-message'),
        el(doc, 'div', { id: 'detail-status', class: 'status' }),
        section(
          'chart-title',
          'Demand, forecast and replicas',
          el(doc, 'div', { id: 'chart-box' }, ...chartFrame()),
        ),
        section('explanation-title', 'Current decision', el(doc, 'div', { id: 'explanation' })),
        section(
          'override-title',
          'Manual override',
          el(doc, 'p', { id: 'override-current' }),
          workloadForm(namespace, name),
        ),
        section('log-title', 'Decision log', el(doc, 'div', { id: 'log-box' })),
      );
    }
    const answer = await call(workloadPath(namespace, name));
    if (generation !== state.generation) return;
    const note = byId('detail-message');
    if (!ok(answer)) {
      showFailure(note, answer);
      return;
    }
    note.textContent = '';
    note.setAttribute('class', 'message');
    const d = answer.body as WorkloadDetail;
    state.workloads.set(`${namespace}/${name}`, d);
    byId('detail-status').replaceChildren(
      el(
        doc,
        'p',
        null,
        'State: ',
        el(doc, 'span', { class: `badge state-${d.state}` }, stateText(d)),
        ` · ${formatNumber(d.desiredReplicas)} replicas · decided for ${formatTime(d.decidedAt)}`,
      ),
      d.lastError
        ? el(
            doc,
            'p',
            { class: 'error' },
            `History source failing for ${formatDuration(d.failingForSeconds)}: ${d.lastError.kind}: ${d.lastError.message}`,
          )
        : '',
    );
    updateChart(d);
    byId('explanation').replaceChildren(explanation(d));
    byId('override-current').textContent = overrideNow(d);
    byId('log-box').replaceChildren(decisionLog(d));
  };

  const recommendations = async (generation: number, fresh: boolean): Promise<void> => {
    if (fresh)
      view.replaceChildren(
        title('Recommendations'),
        message('recommendations-message'),
        el(doc, 'div', { id: 'recommendations-box' }),
      );
    const answer = await call('/api/v1/recommendations');
    if (generation !== state.generation) return;
    const note = byId('recommendations-message');
    const box = byId('recommendations-box');
    if (!ok(answer)) {
      box.replaceChildren();
      showFailure(note, answer);
      return;
    }
    const r = answer.body as {
      generatedAt: number;
      method: { cpuPercentile: number; memoryPercentile: number; safetyMargin: number };
      recommendations: ContainerRecommendation[];
    };
    note.setAttribute('class', 'message');
    note.textContent =
      r.recommendations.length === 0
        ? 'No container usage found yet.'
        : `Requests from usage: CPU at p${Math.round(r.method.cpuPercentile * 100)}, memory at p${Math.round(r.method.memoryPercentile * 100)}, plus ${Math.round(r.method.safetyMargin * 100)}% margin (generated ${formatTime(r.generatedAt)}).`;
    const change = (c: { request: string; ratio: number | null } | undefined): string =>
      c
        ? `${c.request}${c.ratio === null ? '' : ` (${c.ratio >= 0 ? '+' : ''}${Math.round(c.ratio * 100)}%)`}`
        : '—';
    box.replaceChildren(
      dataTable(
        doc,
        'recommendations',
        'Right-sized container requests and limits',
        [
          'Container',
          'CPU request',
          'CPU now',
          'Memory request',
          'Memory now',
          'Memory limit',
          'Confidence',
          'Evidence',
        ],
        r.recommendations.map((c) => [
          `${c.namespace}/${c.workload}/${c.container}`,
          c.requests.cpu ?? '—',
          change(c.cpu?.current),
          c.requests.memory ?? '—',
          change(c.memory?.current),
          c.limits.memory ?? '—',
          `${c.confidence}: ${c.confidenceReason}`,
          [
            c.cpu ? `CPU p90 ${formatCores(c.cpu.evidence.p90)}, max ${formatCores(c.cpu.evidence.max)}` : '',
            c.memory
              ? `memory p95 ${formatBytes(c.memory.evidence.p95)}, max ${formatBytes(c.memory.evidence.max)}`
              : '',
            `${formatDuration(c.coveredSeconds)} of samples`,
          ]
            .filter((p) => p !== '')
            .join('; '),
        ]),
      ),
    );
  };

  // ---- routing ----

  const parseRoute = (hash: string): Route | undefined => {
    if (hash === '' || hash === '#' || hash === '#/') return { page: 'overview' };
    if (hash === '#/recommendations') return { page: 'recommendations' };
    const m = /^#\/workloads\/([^/]+)\/([^/]+)$/.exec(hash);
    if (m) {
      try {
        return {
          page: 'workload',
          namespace: decodeURIComponent(m[1] as string),
          name: decodeURIComponent(m[2] as string),
        };
      } catch {
        return undefined;
      }
    }
    return undefined;
  };

  const markNav = (): void => {
    for (const [id, page] of [
      ['nav-workloads', 'overview'],
      ['nav-recommendations', 'recommendations'],
    ] as const) {
      const link = byId(id);
      if (state.route.page === page) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
  };

  /** Shows the current route; `fresh` rebuilds the view, otherwise only its data is reloaded. */
  function render(fresh: boolean): void {
    const generation = fresh ? ++state.generation : state.generation;
    const r = state.route;
    const done =
      r.page === 'overview'
        ? overview(generation, fresh)
        : r.page === 'workload'
          ? workload(r.namespace, r.name, generation, fresh)
          : recommendations(generation, fresh);
    void done.catch((error: unknown) => {
      const target = doc.getElementById('view-title');
      if (target) target.textContent = `${target.textContent ?? ''} (the page failed: ${String(error)})`;
    });
  }

  const navigate = (focus: boolean): void => {
    const r = parseRoute(w.location.hash);
    if (!r) return; // not a route (e.g. an in-page anchor): leave the view alone
    state.route = r;
    doc.title =
      r.page === 'workload'
        ? `${r.namespace}/${r.name} · ElasticAI`
        : r.page === 'recommendations'
          ? 'Recommendations · ElasticAI'
          : 'Workloads · ElasticAI';
    markNav();
    render(true);
    if (focus) doc.getElementById('view-title')?.focus();
  };

  byId('skip-link').addEventListener('click', (event: DomEvent) => {
    event.preventDefault();
    byId('main').focus();
  });
  w.addEventListener('hashchange', () => navigate(true));

  showAuthState();
  navigate(false);
  startStream();
}
