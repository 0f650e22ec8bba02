// `simulate --report` and `detect --report` write self-contained HTML pages; long runs draw a progress
// bar on a terminal's stderr only. The pages are checked for their content (summary numbers equal to the
// JSON summary, one chart per policy, violation counts, anomalies) and for fetching nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SHARED_DIR } from '../../support/paths.js';
import { RUNTIME_MAIN, cleanEnv, runOnTerminal } from './support.js';

const NYC_TAXI = join(SHARED_DIR, 'traces', 'nab', 'realKnownCause', 'nyc_taxi.csv');
const NASA = join(SHARED_DIR, 'traces', 'nasa-http-1995', 'nasa_http_requests_per_minute.csv');

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'elasticai-report-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [RUNTIME_MAIN, ...args], { encoding: 'utf8', env: cleanEnv(dir) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Fails on anything a browser would fetch: URLs, external scripts, styles, images, fonts, imports. */
function assertSelfContained(html: string): void {
  assert.match(html, /^<!doctype html>/);
  assert.doesNotMatch(html, /https?:/i, 'no http(s) URL');
  assert.doesNotMatch(html, /\/\/[a-z0-9.-]+\.[a-z]{2,}/i, 'no protocol-relative URL');
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|<object|<embed|@import|url\(|\bsrc=|\bhref=/i);
  assert.match(
    html,
    /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/,
  );
}

/** Text of the report without tags, entities decoded as the few the writer emits. */
const text = (html: string): string =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&gt;/g, '>')
    .replace(/&lt;/g, '<')
    .replace(/&amp;/g, '&')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/\s+/g, ' ');

interface SimulateSummary {
  runs: { policy: string; violationIntervals: number; replicaIntervals: number; scalingChanges: number }[];
  comparison: { costGapClosed: number };
}

describe('simulate --report', () => {
  it('writes a self-contained page: the summary table, a chart per policy with its violations marked', () => {
    // GIVEN the NYC taxi trace WHEN simulating all policies with --json and --report
    const report = join(dir, 'nyc.html');
    const r = cli(
      'simulate',
      '--trace',
      NYC_TAXI,
      '--capacity',
      '1000',
      '--startup',
      '300',
      '--json',
      '--report',
      report,
    );
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as SimulateSummary;
    const html = readFileSync(report, 'utf8');
    assertSelfContained(html);
    const t = text(html);
    assert.match(t, /Simulation: nyc_taxi\.csv/);
    assert.match(t, /Rows 10,320 every 1800 s/);
    // THEN each policy's row of the summary table has the JSON summary's numbers
    for (const run of summary.runs) {
      const rowRe = new RegExp(
        `<tr><td>${run.policy}</td><td class="num">${run.violationIntervals.toLocaleString('en-US')}</td>` +
          `<td class="num">[\\d.]+%</td><td class="num">${run.replicaIntervals.toLocaleString('en-US')}</td>` +
          `<td class="num">[\\d.]+%</td><td class="num">${run.scalingChanges.toLocaleString('en-US')}</td></tr>`,
      );
      assert.match(html, rowRe, run.policy);
      // AND its chart, whose legend counts exactly the run's violation intervals
      assert.ok(
        html.includes(`<figcaption>${run.policy}: demand vs ready capacity</figcaption>`),
        run.policy,
      );
    }
    const legends = [...html.matchAll(/violation \((\d+) intervals?\)/g)].map((m) => Number(m[1]));
    assert.deepEqual(
      legends.slice(0, 3),
      summary.runs.map((x) => x.violationIntervals),
    );
    // the oracle has no violation band; the others have one per run of violating columns
    const charts = html.split('<figure>').slice(1);
    assert.equal(charts.length, 4, 'three policy charts and the detail chart');
    const marks = charts.map((c) => (c.match(/<rect class="mark" /g) ?? []).length);
    assert.equal(marks[2], 0);
    assert.ok((marks[0] as number) > 0 && (marks[1] as number) > (marks[0] as number), `marks ${marks}`);
    // each band's tooltip counts its violations; together they are the run's total
    const counted = (c: string): number =>
      [...c.matchAll(/<title>(\d+) violation intervals?, /g)].reduce((s, m) => s + Number(m[1]), 0);
    assert.equal(counted(charts[0] as string), summary.runs[0]?.violationIntervals);
    assert.equal(counted(charts[1] as string), summary.runs[1]?.violationIntervals);
    // AND the comparison line and the detail of the predictive policy's worst window
    assert.match(
      t,
      new RegExp(`closes ${Math.round(summary.comparison.costGapClosed * 100)}% of the hpa→oracle cost gap`),
    );
    assert.match(t, /Detail: the predictive policy's worst window 800 rows from /);
    // AND the charts are accessible images
    assert.equal((html.match(/<svg [^>]*role="img" aria-labelledby="/g) ?? []).length, 4);
  });

  it('writes the same bytes for the same run, atomically, and exits 2 naming --report for an unwritable path', () => {
    const trace = join(dir, 'small.csv');
    writeFileSync(trace, 'timestamp,demand\n0,20\n60,20\n120,60\n180,60\n240,60\n');
    const a = join(dir, 'a.html');
    const b = join(dir, 'b.html');
    assert.equal(
      cli('simulate', '--trace', trace, '--capacity', '10', '--startup', '60', '--report', a).status,
      0,
    );
    assert.equal(
      cli('simulate', '--trace', trace, '--capacity', '10', '--startup', '60', '--report', b).status,
      0,
    );
    assert.ok(readFileSync(a).equals(readFileSync(b)));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
    // a short trace is drawn unreduced: no "Each column" note, no detail window
    const html = readFileSync(a, 'utf8');
    assert.ok(!html.includes('Each column of the chart'));
    assert.ok(!html.includes('worst window'));
    // the human output says where it went
    const human = cli('simulate', '--trace', trace, '--capacity', '10', '--startup', '60', '--report', a);
    assert.match(human.stdout, /report written to .*a\.html\n$/);
    const bad = cli(
      'simulate',
      '--trace',
      trace,
      '--capacity',
      '10',
      '--startup',
      '60',
      '--report',
      join(dir, 'no', 'r.html'),
    );
    // checked before the run: a usage error naming the flag, the path and why
    assert.equal(bad.status, 2);
    assert.match(
      bad.stderr,
      /--report cannot be written \(got ".*r\.html": its folder .*no does not exist\)/,
    );
  });

  it('escapes what the page shows from the command line', () => {
    const trace = join(dir, '<b>&x.csv');
    writeFileSync(trace, 'timestamp,demand\n0,1\n60,2\n120,3\n');
    const report = join(dir, 'escaped.html');
    assert.equal(
      cli('simulate', '--trace', trace, '--capacity', '1', '--startup', '0', '--report', report).status,
      0,
    );
    const html = readFileSync(report, 'utf8');
    assert.ok(html.includes('&lt;b&gt;&amp;x.csv'));
    assert.ok(!html.includes('<b>&x'));
  });
});

describe('detect --report', () => {
  it('marks the rows scored at least 0.99 on the series and lists them', () => {
    const report = join(dir, 'detect.html');
    const r = cli('detect', '--trace', NYC_TAXI, '--json', '--report', report);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as {
      anomalies: { timestamp: string; score: number; state: string }[];
    };
    assert.ok(summary.anomalies.length > 5);
    const html = readFileSync(report, 'utf8');
    assertSelfContained(html);
    // THEN one dot per anomaly on the series, with its timestamp and score in the tooltip
    const dots = [...html.matchAll(/<circle class="point" [^>]*><title>([^<]+)<\/title>/g)].map(
      (m) => m[1] as string,
    );
    assert.equal(dots.length, summary.anomalies.length);
    for (const a of summary.anomalies) {
      assert.ok(
        dots.some(
          (d) => d.startsWith(`${a.timestamp}: `) && d.includes(`score ${a.score.toFixed(6)}, ${a.state}`),
        ),
        a.timestamp,
      );
      // AND a table row
      assert.ok(html.includes(`<tr><td>${a.timestamp}</td>`), a.timestamp);
    }
    assert.match(text(html), new RegExp(`Anomalies ${summary.anomalies.length} rows scored ≥ 0\\.99`));
    assert.match(html, /<title>threshold 0\.99<\/title>/);
    assert.match(html, new RegExp(`anomalous \\(${summary.anomalies.length} intervals\\)`));
  });
});

describe('progress bar', () => {
  const simulate = ['simulate', '--trace', NASA, '--capacity', '50', '--startup', '120', '--policy', 'hpa'];

  it('draws on a terminal for a long trace and clears its line when done', () => {
    // GIVEN stdout to a file and stderr on a terminal (stdout then holds only the table)
    const r = runOnTerminal(RUNTIME_MAIN, simulate, cleanEnv(dir), { stdoutToFile: true });
    assert.equal(r.status, 0, r.terminal);
    // THEN the terminal saw redrawn frames up to 100%, then the cleared line
    const frames = r.terminal.split('\r\u001b[2K').filter((f) => f !== '');
    assert.ok(frames.length > 20, `${frames.length} frames`);
    assert.match(frames[0] as string, /^simulate \[\.{24}\] {3}0% {2}hpa {2}0\/\d{2},\d{3} rows$/);
    const rows = readFileSync(NASA, 'utf8').trimEnd().split('\n').length - 1;
    const total = rows.toLocaleString('en-US');
    assert.match(
      frames[frames.length - 2] ?? '',
      new RegExp(`^simulate \\[#{24}\\] 100% {2}hpa {2}${total}/${total} rows$`),
    );
    assert.ok(r.terminal.trimEnd().endsWith('\r\u001b[2K'), 'the bar line is cleared at the end');
    const percents = frames.map((f) => Number(/\] +(\d+)%/.exec(f)?.[1] ?? NaN)).filter(Number.isFinite);
    assert.deepEqual(
      percents,
      [...percents].sort((a, b) => a - b),
      'never goes backwards',
    );
    assert.match(r.stdout, /^Trace /);
  });

  it('is quiet with --json, when stderr is not a terminal, and for short traces', () => {
    const json = runOnTerminal(RUNTIME_MAIN, [...simulate, '--json'], cleanEnv(dir), { stdoutToFile: true });
    assert.equal(json.status, 0);
    assert.ok(!json.terminal.includes('simulate ['), 'no bar with --json');
    const piped = spawnSync(process.execPath, [RUNTIME_MAIN, ...simulate], {
      encoding: 'utf8',
      env: cleanEnv(dir),
    });
    assert.equal(piped.stderr, '');
    const small = join(dir, 'short.csv');
    writeFileSync(small, 'timestamp,demand\n0,20\n60,20\n120,60\n');
    const short = runOnTerminal(RUNTIME_MAIN, ['detect', '--trace', small], cleanEnv(dir), {
      stdoutToFile: true,
    });
    assert.ok(!short.terminal.includes('detect ['));
    const long = runOnTerminal(RUNTIME_MAIN, ['detect', '--trace', NASA], cleanEnv(dir), {
      stdoutToFile: true,
    });
    assert.match(long.terminal, /detect \[#{24}\] 100% {2}\d{2},\d{3}\/\d{2},\d{3} rows/);
  });
});

describe('colours', () => {
  it('colours only on a terminal, and never with NO_COLOR', () => {
    const trace = join(dir, 'colour.csv');
    writeFileSync(trace, 'timestamp,demand\n0,20\n60,20\n120,60\n');
    const args = ['simulate', '--trace', trace, '--capacity', '10', '--startup', '0'];
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TERM: 'xterm' };
    assert.ok(runOnTerminal(RUNTIME_MAIN, args, env).terminal.includes('\u001b[1mpolicy'), 'bold header');
    assert.ok(!runOnTerminal(RUNTIME_MAIN, args, { ...env, NO_COLOR: '1' }).terminal.includes('\u001b['));
    assert.ok(!runOnTerminal(RUNTIME_MAIN, args, { ...env, TERM: 'dumb' }).terminal.includes('\u001b['));
    const piped = spawnSync(process.execPath, [RUNTIME_MAIN, ...args], { encoding: 'utf8', env });
    assert.ok(!piped.stdout.includes('\u001b['));
  });
});
