/**
 * A real Prometheus for integration tests: `/usr/bin/prometheus` (Debian package; override with
 * `ELASTICAI_PROMETHEUS_BIN`) on 127.0.0.1 at a free port, with its own temporary config and TSDB
 * folder, so several test processes can each run one at the same time.
 *
 * Prometheus 2.42 accepts scrape intervals well below a second (`250ms`); the scrape timeout must not
 * exceed the interval, so both are set. A grid point of a range query takes the latest sample in the
 * lookback window before it (5 min by default, `--query.lookback-delta`).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export interface PrometheusServerOptions {
  /** `host:port` of each scrape target, all in one job `elasticai-test`. */
  readonly targets: readonly string[];
  /** @default '/metrics' */
  readonly metricsPath?: string;
  /** Scrape interval (and timeout). @default 250 */
  readonly scrapeIntervalMs?: number;
  /** `--query.lookback-delta` in seconds. @default Prometheus's own (300) */
  readonly lookbackDeltaSeconds?: number;
  /** How long to wait for `/-/ready`. @default 30000 */
  readonly readyTimeoutMs?: number;
  /**
   * OpenMetrics text (ending in `# EOF`) written into the TSDB with `promtool tsdb
   * create-blocks-from openmetrics` before Prometheus starts: history as if it had been scraping.
   * Samples must be in the past, and carry the scrape's `job`/`instance` labels to continue a series.
   */
  readonly backfillOpenMetrics?: string;
}

export interface PrometheusServer {
  /** Base URL, e.g. `http://127.0.0.1:40123` (the HTTP API is under `/api/v1`). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Whether the process is running. */
  readonly running: boolean;
  /** SIGTERM, wait for the exit, then delete the temporary folder. The server cannot be restarted. */
  stop(): Promise<void>;
  /** SIGKILL (an outage): nothing is flushed or closed. The data folder stays for `restart()`. */
  kill(): Promise<void>;
  /** Starts Prometheus again on the same port and data folder (stopping it first when running). */
  restart(): Promise<void>;
  /**
   * Resolves once every target has been scraped successfully after this call. Prometheus 2.42 only
   * starts scraping about 5 s after it starts (target discovery updates are throttled to 5 s).
   */
  waitForScrape(timeoutMs?: number): Promise<void>;
  /** The last lines Prometheus logged (for failure messages). */
  logs(): string;
}

const BIN = process.env.ELASTICAI_PROMETHEUS_BIN ?? '/usr/bin/prometheus';
const PROMTOOL = process.env.ELASTICAI_PROMTOOL_BIN ?? '/usr/bin/promtool';

/** Writes OpenMetrics samples into TSDB blocks under `dataDir` with promtool. */
async function backfill(openMetrics: string, dir: string, dataDir: string): Promise<void> {
  const file = join(dir, 'backfill.om');
  await writeFile(file, openMetrics);
  await new Promise<void>((resolve, reject) => {
    const proc = spawn(PROMTOOL, ['tsdb', 'create-blocks-from', 'openmetrics', file, dataDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.on('error', reject);
    proc.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`promtool backfill failed (${code}): ${stderr}`)),
    );
  });
}
const LOG_LINES = 200;

/** Starts Prometheus and resolves once `/-/ready` answers 200. */
export async function startPrometheus(options: PrometheusServerOptions): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'elasticai-prometheus-'));
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'prometheus.yml');
  const interval = `${options.scrapeIntervalMs ?? 250}ms`;
  await writeFile(
    configFile,
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  scrape_timeout: ${interval}`,
      'scrape_configs:',
      '  - job_name: elasticai-test',
      `    metrics_path: ${JSON.stringify(options.metricsPath ?? '/metrics')}`,
      '    static_configs:',
      `      - targets: ${JSON.stringify(options.targets)}`,
      '',
    ].join('\n'),
  );
  if (options.backfillOpenMetrics !== undefined) await backfill(options.backfillOpenMetrics, dir, dataDir);
  const log: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopped = false;
  let port = 0;

  const cleanupOnExit = (): void => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanupOnExit);

  const launch = async (): Promise<void> => {
    const args = [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...(options.lookbackDeltaSeconds === undefined
        ? []
        : [`--query.lookback-delta=${options.lookbackDeltaSeconds}s`]),
    ];
    const proc = spawn(BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    const done = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    exited = done;
    let exitedEarly = false;
    void done.then(() => {
      exitedEarly = true;
    });
    proc.on('error', (e) => log.push(`spawn error: ${e.message}`));
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line !== '') log.push(line);
      if (log.length > LOG_LINES) log.splice(0, log.length - LOG_LINES);
    });
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    for (;;) {
      if (exitedEarly) throw new Error(`prometheus exited before it was ready:\n${log.join('\n')}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/-/ready`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        await done;
        throw new Error(`prometheus was not ready within the timeout:\n${log.join('\n')}`);
      }
      await sleep(50);
    }
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    await exited;
  };

  // A free port can be taken by someone else between probing and binding: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (e) {
      if (attempt >= 3 || !log.some((l) => l.includes('address already in use'))) {
        cleanupOnExit();
        process.removeListener('exit', cleanupOnExit);
        throw e;
      }
    }
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async stop() {
      stopped = true;
      await terminate('SIGTERM');
      process.removeListener('exit', cleanupOnExit);
      await rm(dir, { recursive: true, force: true });
    },
    async kill() {
      await terminate('SIGKILL');
    },
    async restart() {
      if (stopped) throw new Error('prometheus was stopped (and its data deleted); start a new one');
      await terminate('SIGTERM');
      await launch();
    },
    async waitForScrape(timeoutMs = 20_000) {
      const since = Date.now();
      const deadline = since + timeoutMs;
      for (;;) {
        if (await allScrapedSince(`http://127.0.0.1:${port}`, since)) return;
        if (Date.now() > deadline)
          throw new Error(`targets not scraped within ${timeoutMs} ms:\n${log.join('\n')}`);
        await sleep(100);
      }
    },
    logs: () => log.join('\n'),
  };
}

/** Whether every active target's last scrape was healthy and at or after `sinceMs`. */
async function allScrapedSince(url: string, sinceMs: number): Promise<boolean> {
  try {
    const res = await fetch(`${url}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as {
      data?: { activeTargets?: { health?: string; lastScrape?: string }[] };
    };
    const targets = body.data?.activeTargets ?? [];
    return (
      targets.length > 0 &&
      targets.every((t) => t.health === 'up' && Date.parse(t.lastScrape ?? '') >= sinceMs)
    );
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
