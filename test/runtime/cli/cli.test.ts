import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, SHARED_DIR } from '../../support/paths.js';

/** The compiled CLI, from this compiled test (build/test/runtime/cli → build/runtime/cli). */
const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../runtime/cli/main.js');
const NYC_TAXI = join(SHARED_DIR, 'traces', 'nab', 'realKnownCause', 'nyc_taxi.csv');
const STACK_LINE = /at .*\.js:\d+/;

interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(...args: string[]): Result {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ELASTICAI_DEBUG: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir = '';
const file = (name: string, text?: string): string => {
  const path = join(dir, name);
  if (text !== undefined) writeFileSync(path, text);
  return path;
};
const csvRows = (path: string): string[][] =>
  readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => l.split(','));

/** A usage error: exit 2, nothing on stdout, a message matching `pattern`, no stack trace. */
function assertUsageError(r: Result, pattern: RegExp): void {
  assert.equal(r.status, 2, `exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, STACK_LINE);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'elasticai-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('elasticai simulate', () => {
  it('runs the three policies on a real trace: oracle has no violations and the lowest cost', () => {
    // GIVEN the NYC taxi trace (30 min rows) with 1000 rides per replica and a 300 s start-up
    // WHEN simulating all policies with --json
    const r = cli('simulate', '--trace', NYC_TAXI, '--capacity', '1000', '--startup', '300', '--json');
    // THEN stdout is only the JSON summary
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as {
      trace: { path: string; rows: number; intervalSeconds: number };
      parameters: Record<string, unknown>;
      runs: { policy: string; violationIntervals: number; replicaIntervals: number; [k: string]: unknown }[];
      comparison: Record<string, unknown>;
    };
    assert.deepEqual(summary.trace, { path: NYC_TAXI, rows: 10320, intervalSeconds: 1800 });
    assert.equal(summary.parameters.capacity, 1000);
    assert.equal(summary.parameters.startupSeconds, 300);
    assert.equal(summary.parameters.hpaTarget, 0.7);
    assert.deepEqual(summary.parameters.policies, ['predictive', 'hpa', 'oracle']);
    assert.deepEqual(
      summary.runs.map((run) => run.policy),
      ['predictive', 'hpa', 'oracle'],
    );
    for (const run of summary.runs) {
      assert.deepEqual(Object.keys(run).sort(), [
        'overProvisioningShare',
        'policy',
        'replicaIntervals',
        'scalingChanges',
        'unservedShare',
        'violationIntervals',
      ]);
    }
    const [predictive, hpa, oracle] = summary.runs;
    assert.equal(oracle?.violationIntervals, 0);
    assert.ok((oracle?.replicaIntervals ?? 0) < (predictive?.replicaIntervals ?? 0));
    assert.ok((oracle?.replicaIntervals ?? 0) < (hpa?.replicaIntervals ?? 0));
    assert.equal(summary.comparison.policy, 'predictive');
    assert.equal(summary.comparison.baseline, 'hpa');
    assert.equal(typeof summary.comparison.costGapClosed, 'number');
  });

  it('prints a table with one row per policy and the predictive-vs-hpa comparison', () => {
    // GIVEN a small trace WHEN simulating without --json
    const trace = file('table.csv', 'timestamp,demand\n0,20\n60,20\n120,60\n180,60\n240,60\n');
    const r = cli('simulate', '--trace', trace, '--capacity', '10', '--startup', '0');
    // THEN each policy has a row and the comparison follows, without colour codes (NO_COLOR)
    assert.equal(r.status, 0, r.stderr);
    for (const policy of ['predictive', 'hpa', 'oracle'])
      assert.match(r.stdout, new RegExp(`^${policy} `, 'm'));
    assert.match(r.stdout, /violation intervals/);
    assert.match(r.stdout, /predictive vs hpa: violations/);
    assert.ok(!r.stdout.includes('\u001b['), 'no ANSI escapes');
  });

  it('writes hpa decisions a hand computation gives', () => {
    // GIVEN demand 20, 20, 60, 60, 60 per 60 s row, capacity 10, target 0.5 (5 per replica), no start-up:
    // every policy starts at ceil(20 / 10) = 2 replicas
    const trace = file('hpa.csv', 'timestamp,demand\n0,20\n60,20\n120,60\n180,60\n240,60\n');
    const out = file('hpa-decisions.csv');
    // WHEN simulating the hpa policy with --decisions
    const r = cli(
      'simulate',
      '--trace',
      trace,
      '--capacity',
      '10',
      '--startup',
      '0',
      '--policy',
      'hpa',
      '--hpa-target',
      '0.5',
      '--decisions',
      out,
    );
    assert.equal(r.status, 0, r.stderr);
    // THEN the sync at 60 s sees 20 → 4; at 180 s 60 → 12 clamped to 2 × 4 = 8; at 195 s 12
    assert.deepEqual(csvRows(out), [
      ['timestamp', 'demand', 'desired_replicas'],
      ['1970-01-01T00:00:00Z', '20', '4'],
      ['1970-01-01T00:01:00Z', '20', '4'],
      ['1970-01-01T00:02:00Z', '60', '8'],
      ['1970-01-01T00:03:00Z', '60', '12'],
      ['1970-01-01T00:04:00Z', '60', '12'],
    ]);
  });

  it('echoes every input row in order, a missing demand as an empty field', () => {
    // GIVEN a trace with ISO timestamps and a missing value
    const trace = file(
      'missing.csv',
      'time,rpm,extra\n2014-07-01 00:00,10,x\n2014-07-01 00:30,,y\n2014-07-01 01:00,30.5,z\n',
    );
    const out = file('missing-decisions.csv');
    // WHEN writing oracle decisions with --json
    const r = cli(
      'simulate',
      '--trace',
      trace,
      '--capacity',
      '10',
      '--startup',
      '60',
      '--policy',
      'oracle',
      '--decisions',
      out,
      '--json',
    );
    // THEN the rows echo timestamps as ISO 8601 UTC and the demand as given; stdout is JSON only
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      (JSON.parse(r.stdout) as { runs: { policy: string }[] }).runs.map((x) => x.policy),
      ['oracle'],
    );
    const rows = csvRows(out);
    assert.deepEqual(
      rows.map((row) => row.slice(0, 2)),
      [
        ['timestamp', 'demand'],
        ['2014-07-01T00:00:00Z', '10'],
        ['2014-07-01T00:30:00Z', ''],
        ['2014-07-01T01:00:00Z', '30.5'],
      ],
    );
    // AND no temporary file is left beside the output
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  it('gives the same predictive decisions on a prefix of a trace (decisions are causal)', () => {
    // GIVEN the NYC taxi trace and its first half
    const lines = readFileSync(NYC_TAXI, 'utf8').trimEnd().split('\n');
    const half = Math.floor((lines.length - 1) / 2);
    const prefixTrace = file('nyc-half.csv', `${lines.slice(0, 1 + half).join('\n')}\n`);
    const fullOut = file('full-decisions.csv');
    const halfOut = file('half-decisions.csv');
    // WHEN writing predictive decisions for both
    const args = ['--capacity', '1000', '--startup', '300', '--policy', 'predictive', '--json'];
    assert.equal(cli('simulate', '--trace', NYC_TAXI, ...args, '--decisions', fullOut).status, 0);
    assert.equal(cli('simulate', '--trace', prefixTrace, ...args, '--decisions', halfOut).status, 0);
    // THEN one row per input row, and the half's rows are the full run's first rows
    const full = csvRows(fullOut);
    const prefix = csvRows(halfOut);
    assert.equal(full.length, lines.length);
    assert.equal(prefix.length, 1 + half);
    assert.deepEqual(prefix, full.slice(0, 1 + half));
  });
});

describe('elasticai usage errors (exit 2, a message naming the line or flag, no stack trace)', () => {
  const good = (): string => file('good.csv', 'timestamp,demand\n0,1\n60,2\n120,3\n');
  const simulate = (trace: string, ...extra: string[]): Result =>
    cli('simulate', '--trace', trace, '--capacity', '10', '--startup', '0', ...extra);

  it('refuses a trace without a header', () => {
    assertUsageError(simulate(file('noheader.csv', '0,1\n60,2\n')), /noheader\.csv line 1: no header row/);
  });

  it('names the line of a non-numeric value', () => {
    const trace = file('nan.csv', 'timestamp,demand\n0,1\n60,abc\n120,3\n');
    assertUsageError(simulate(trace), /nan\.csv line 3: "abc" is not a number/);
  });

  it('names the line where time does not increase', () => {
    const trace = file('backwards.csv', 'timestamp,demand\n0,1\n60,2\n120,3\n60,4\n');
    assertUsageError(simulate(trace), /backwards\.csv line 5: time does not increase/);
  });

  it('refuses an empty file and a missing one', () => {
    assertUsageError(simulate(file('empty.csv', '')), /empty\.csv: the file is empty/);
    assertUsageError(simulate(join(dir, 'absent.csv')), /--trace cannot be read .*absent\.csv.*no such file/);
  });

  it('names a missing --trace, --capacity or --startup', () => {
    assertUsageError(cli('simulate', '--capacity', '10', '--startup', '0'), /--trace is required/);
    assertUsageError(cli('simulate', '--trace', good(), '--startup', '0'), /--capacity is required/);
    assertUsageError(cli('detect'), /elasticai detect: --trace is required/);
  });

  it('names the flag and the value of a bad number', () => {
    const trace = good();
    const bad = (flag: string, value: string): Result =>
      cli('simulate', '--trace', trace, '--capacity', '10', '--startup', '0', `--${flag}=${value}`);
    assertUsageError(
      cli('simulate', '--trace', trace, '--capacity', '0', '--startup', '0'),
      /elasticai simulate: --capacity must be a number > 0 \(got "0"\)/,
    );
    assertUsageError(
      cli('simulate', '--trace', trace, '--capacity', 'abc', '--startup', '0'),
      /--capacity must be a number > 0 \(got "abc"\)/,
    );
    assertUsageError(
      cli('simulate', '--trace', trace, '--capacity', '10', '--startup', '-5'),
      /--startup must be a number >= 0 \(got "-5"\)/,
    );
    assertUsageError(bad('hpa-target', '1.5'), /--hpa-target must be a number in \(0, 1\] \(got "1.5"\)/);
    assertUsageError(
      bad('min-replicas', '1.5'),
      /--min-replicas must be an integer in \[0, 2147483647\] \(got "1.5"\)/,
    );
    assertUsageError(
      bad('max-replicas', 'Infinity'),
      /--max-replicas must be an integer in \[1, 2147483647\]/,
    );
    assertUsageError(
      bad('max-replicas', '3000000000'),
      /--max-replicas must be an integer in \[1, 2147483647\] \(got "3000000000"\)/,
    );
    assertUsageError(
      cli('simulate', '--trace', trace, '--capacity', '0.000001', '--startup', '0'),
      /--capacity × --hpa-target must be at least 0.001 for the hpa policy .*\(got 0.000001 × 0.7\)/,
    );
    assertUsageError(
      bad('policy', 'magic'),
      /--policy must be one of predictive, hpa, oracle \(got "magic"\)/,
    );
    assertUsageError(
      simulate(trace, '--min-replicas', '5', '--max-replicas', '3'),
      /--min-replicas must not exceed --max-replicas \(3\) \(got "5"\)/,
    );
  });

  it('refuses an unknown flag, a flag without its value and --decisions with all policies', () => {
    const trace = good();
    assertUsageError(simulate(trace, '--bogus', '1'), /unknown flag --bogus/);
    assertUsageError(
      cli('simulate', '--trace', trace, '--startup', '0', '--capacity'),
      /--capacity needs a value/,
    );
    assertUsageError(
      simulate(trace, '--decisions', file('d.csv')),
      /--decisions needs exactly one policy.*--policy/,
    );
    assertUsageError(cli('frobnicate'), /unknown command "frobnicate"/);
  });

  it('prints the usage and exits 2 without a command', () => {
    const r = cli();
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Usage: elasticai <command>/);
  });

  it('checks the output paths before running: a missing folder or a directory names the flag and nothing is written', () => {
    // GIVEN a --report that could be written and a --decisions in a folder that does not exist
    const report = join(dir, 'early-report.html');
    const missing = join(dir, 'no-such-dir', 'd.csv');
    // WHEN simulating THEN a usage error names --decisions and the path, and the report is not written
    assertUsageError(
      simulate(good(), '--policy', 'oracle', '--report', report, '--decisions', missing),
      /--decisions cannot be written \(got ".*no-such-dir\/d\.csv": its folder .*no-such-dir does not exist\)/,
    );
    assert.ok(!existsSync(report), 'no report from a run that failed');
    // AND detect likewise for --scores
    assertUsageError(
      cli('detect', '--trace', good(), '--report', report, '--scores', missing),
      /elasticai detect: --scores cannot be written \(got ".*d\.csv": its folder .*does not exist\)/,
    );
    assert.ok(!existsSync(report));
    // AND a directory given as a file is named as one
    const folder = join(dir, 'a-folder');
    mkdirSync(folder, { recursive: true });
    assertUsageError(
      cli('detect', '--trace', good(), '--report', folder),
      /--report cannot be written \(got ".*a-folder": it is a directory\)/,
    );
    assertUsageError(
      simulate(good(), '--policy', 'hpa', '--decisions', join(good(), 'd.csv')),
      /--decisions cannot be written \(got ".*good\.csv\/d\.csv": .*good\.csv is not a directory\)/,
    );
    assert.deepEqual(readdirSync(folder), []);
  });

  it("refuses an output on the trace's path or on another output's, naming both flags, and keeps the trace", () => {
    // GIVEN a trace
    const text = 'timestamp,demand\n0,1\n60,2\n120,3\n';
    const trace = file('same.csv', text);
    // WHEN an output names it, directly, through another spelling or a symbolic link
    symlinkSync(trace, join(dir, 'same-link.csv'));
    assertUsageError(
      simulate(trace, '--policy', 'oracle', '--decisions', trace),
      /--decisions names the same file as --trace \(got ".*same\.csv"\)/,
    );
    assertUsageError(
      cli('detect', '--trace', trace, '--scores', join(dir, '.', 'same.csv')),
      /--scores names the same file as --trace/,
    );
    assertUsageError(
      cli('detect', '--trace', trace, '--report', join(dir, 'same-link.csv')),
      /--report names the same file as --trace/,
    );
    // THEN the trace is unchanged
    assert.equal(readFileSync(trace, 'utf8'), text);
    // AND two outputs on one path (that does not exist yet) are refused, writing neither
    const both = join(dir, 'both.html');
    assertUsageError(
      simulate(trace, '--policy', 'oracle', '--report', both, '--decisions', both),
      /--decisions names the same file as --report \(got ".*both\.html"\)/,
    );
    assert.ok(!existsSync(both));
  });

  it('names the line of timestamps closer than a microsecond or outside the years 0000–9999', () => {
    assertUsageError(
      cli('detect', '--trace', file('nano.csv', 'timestamp,value\n0,1\n0.0000001,2\n0.0000002,3\n')),
      /nano\.csv line 3: "0\.0000001" is too close to line 2: the interval rounds to 0/,
    );
    assertUsageError(
      simulate(file('far.csv', 'timestamp,demand\n8640000000000,1\n8640000000060,2\n')),
      /far\.csv line 2: "8640000000000" is outside the years 0000–9999 a timestamp can be written in .*; is it in milliseconds\? Give epoch seconds/,
    );
  });

  it('reads back the decisions and scores of a trace ending 9999-12-31T23:59:59Z, and refuses a second later', () => {
    // GIVEN a trace whose last row is the last second of year 9999 (epoch seconds, as a user may give)
    const trace = file('y9999.csv', 'timestamp,demand\n253402300797,1\n253402300798,2\n253402300799,3\n');
    // WHEN writing decisions and scores
    const decisions = file('y9999-decisions.csv');
    const scores = file('y9999-scores.csv');
    assert.equal(simulate(trace, '--policy', 'hpa', '--decisions', decisions).status, 0);
    assert.equal(cli('detect', '--trace', trace, '--scores', scores).status, 0);
    // THEN the last timestamp is written with a four-digit year
    const last = ['9999-12-31T23:59:57Z', '9999-12-31T23:59:58Z', '9999-12-31T23:59:59Z'];
    assert.deepEqual(
      csvRows(decisions).map((row) => row[0]),
      ['timestamp', ...last],
    );
    assert.deepEqual(
      csvRows(scores).map((row) => row[0]),
      ['timestamp', ...last],
    );
    // AND both files are traces the CLI reads back, giving the same timestamps again
    const again = file('y9999-again.csv');
    assert.equal(simulate(decisions, '--policy', 'hpa', '--decisions', again).status, 0);
    assert.deepEqual(
      csvRows(again).map((row) => row[0]),
      ['timestamp', ...last],
    );
    assert.equal(cli('detect', '--trace', scores, '--json').status, 0);
    // AND a row one second later (Date would write +010000-01-01T00:00:00Z) is refused naming its line,
    // as ISO text and as epoch seconds, and nothing is written
    const out = file('y10000-decisions.csv');
    assertUsageError(
      simulate(
        file('y10000.csv', `timestamp,demand\n${last.join(',1\n')},1\n10000-01-01T00:00:00Z,1\n`),
        '--decisions',
        out,
        '--policy',
        'hpa',
      ),
      /y10000\.csv line 5: "10000-01-01T00:00:00Z" is not a timestamp/,
    );
    assertUsageError(
      simulate(
        file('y10000-epoch.csv', 'timestamp,demand\n253402300799,1\n253402300800,2\n'),
        '--decisions',
        out,
        '--policy',
        'hpa',
      ),
      /y10000-epoch\.csv line 3: "253402300800" is outside the years 0000–9999 a timestamp can be written in \(0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z; epoch seconds -62167219200 to 253402300799\)/,
    );
    assertUsageError(
      cli(
        'detect',
        '--trace',
        file('y10000-offset.csv', 'timestamp,value\n9999-12-31T23:59:59Z,1\n9999-12-31T23:00:00-01:00,2\n'),
      ),
      /y10000-offset\.csv line 3: "9999-12-31T23:00:00-01:00" is outside the years 0000–9999/,
    );
    assert.equal(existsSync(out), false);
  });

  it('writes years 0000-0099 as they are in the trace', () => {
    // GIVEN a trace in year 50 WHEN writing decisions THEN the timestamps are of year 50, not 1950
    const trace = file('year50.csv', 'timestamp,demand\n0050-01-01 00:00,1\n0050-01-01 00:01,2\n');
    const out = file('year50-decisions.csv');
    const r = simulate(trace, '--policy', 'oracle', '--decisions', out);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      csvRows(out).map((row) => row[0]),
      ['timestamp', '0050-01-01T00:00:00Z', '0050-01-01T00:01:00Z'],
    );
  });

  it('gives over-provisioning shares in [0, 1] for a capacity near the largest number', () => {
    // GIVEN --capacity 1e308 (ready capacity over the rows sums past Number.MAX_VALUE)
    const r = cli('simulate', '--trace', good(), '--capacity', '1e308', '--startup', '0', '--json');
    // THEN every run's share is a number in [0, 1] (not null)
    assert.equal(r.status, 0, r.stderr);
    const runs = (JSON.parse(r.stdout) as { runs: { overProvisioningShare: unknown }[] }).runs;
    assert.equal(runs.length, 3);
    for (const run of runs) {
      assert.equal(typeof run.overProvisioningShare, 'number');
      assert.ok((run.overProvisioningShare as number) >= 0 && (run.overProvisioningShare as number) <= 1);
    }
  });
});

describe('elasticai --help and --version', () => {
  it('shows help with examples for the root and each command (exit 0)', () => {
    for (const args of [['--help'], ['-h'], ['simulate', '--help'], ['detect', '-h'], ['help', 'simulate']]) {
      const r = cli(...args);
      assert.equal(r.status, 0, args.join(' '));
      assert.match(r.stdout, /Examples:\n {2}elasticai (simulate|detect) --trace /);
    }
    assert.match(cli('simulate', '--help').stdout, /Initial replicas: every policy/);
  });

  it('prints package.json version', () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const r = cli('--version');
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `${version}\n`);
  });
});

describe('elasticai detect', () => {
  /** 500 one-minute rows of a noisy sine around 100 with a spike of 400 at row 400. */
  const spikeTrace = (): string => {
    let text = 'timestamp,value\n';
    for (let i = 0; i < 500; i++) {
      const v = i === 400 ? 400 : 100 + 10 * Math.sin((2 * Math.PI * i) / 60) + (((i * 7919) % 13) - 6) * 0.5;
      text += `${i * 60},${v.toFixed(3)}\n`;
    }
    return file('spike.csv', text);
  };

  it('writes one score in [0, 1] per row and gives the spike the highest score', () => {
    // GIVEN a synthetic trace with one spike
    const out = file('scores.csv');
    // WHEN detecting with --scores
    const r = cli('detect', '--trace', spikeTrace(), '--scores', out);
    // THEN the file has the header and one row per input row in order, 6-decimal scores in [0, 1]
    assert.equal(r.status, 0, r.stderr);
    const rows = csvRows(out);
    assert.deepEqual(rows[0], ['timestamp', 'value', 'anomaly_score']);
    assert.equal(rows.length, 501);
    assert.equal(rows[1]?.[0], '1970-01-01T00:00:00Z');
    assert.equal(rows[401]?.[1], '400'); // the parsed number, shortest form
    const scores = rows.slice(1).map((row) => {
      assert.match(row[2] ?? '', /^[01]\.\d{6}$/);
      return Number(row[2]);
    });
    for (const s of scores) assert.ok(s >= 0 && s <= 1);
    // AND the spike (row 400) scores highest
    assert.equal(scores.indexOf(Math.max(...scores)), 400);
    // AND the human summary lists it first
    assert.match(r.stdout, /Top 10 rows by score:\n.*\n1970-01-01T06:40:00Z /);
  });

  it('prints the anomalies scored at least 0.99 as JSON', () => {
    const r = cli('detect', '--trace', spikeTrace(), '--json');
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as {
      trace: { rows: number; intervalSeconds: number };
      rows: number;
      anomalies: { timestamp: string; value: number; score: number; state: string }[];
    };
    assert.equal(summary.rows, 500);
    assert.equal(summary.trace.intervalSeconds, 60);
    assert.ok(summary.anomalies.some((a) => a.timestamp === '1970-01-01T06:40:00Z' && a.value === 400));
    for (const a of summary.anomalies) assert.ok(a.score >= 0.99 && a.score <= 1);
    // AND ordinary rows are not listed: anomalies are a small minority
    assert.ok(summary.anomalies.length < 25, `${summary.anomalies.length} anomalies`);
  });

  it('treats negative values as broken demand by default and as ordinary with --kind metric', () => {
    // GIVEN a series that swings between -20 and 20 (a metric, not a demand)
    const dir = mkdtempSync(join(tmpdir(), 'elasticai-kind-'));
    const path = join(dir, 'metric.csv');
    const rows = Array.from({ length: 300 }, (_, i) => `${i * 60},${(20 * Math.sin(i / 10)).toFixed(3)}`);
    writeFileSync(path, `t,v\n${rows.join('\n')}\n`);
    type Summary = { anomalies: { state: string }[] };
    // WHEN detect runs with each kind
    const demand = JSON.parse(cli('detect', '--trace', path, '--json').stdout) as Summary;
    const metric = JSON.parse(cli('detect', '--trace', path, '--kind', 'metric', '--json').stdout) as Summary;
    // THEN as demand every negative row is an invalid (broken) signal; as a metric none is
    assert.ok(demand.anomalies.filter((a) => a.state === 'invalid').length > 100);
    assert.equal(metric.anomalies.filter((a) => a.state === 'invalid').length, 0);
    // AND an unknown kind is a usage error naming the flag
    const bad = cli('detect', '--trace', path, '--kind', 'cpu');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--kind must be one of demand, metric \(got "cpu"\)/);
  });
});
