/**
 * `promtool` (Debian `prometheus` package; override with `ELASTICAI_PROMTOOL_BIN`) for the observability
 * tests: `check rules` on rule groups, `test rules` with input series and expected alerts, and a small
 * PromQL reader that lists the metric names an expression selects.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export const PROMTOOL = process.env.ELASTICAI_PROMTOOL_BIN ?? '/usr/bin/promtool';

/** Exit code and output (stdout + stderr) of one promtool run. */
export interface PromtoolResult {
  readonly code: number;
  readonly output: string;
}

function run(args: readonly string[], cwd: string): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    execFile(PROMTOOL, args, { cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(new Error(`${PROMTOOL} ${args.join(' ')} did not run: ${error.message}`));
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: `${stdout}${stderr}` });
    });
  });
}

async function inTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'elasticai-promtool-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `promtool check rules` on a rules file holding `groups` (the `groups:` part of a PrometheusRule). */
export function checkRules(groups: unknown): Promise<PromtoolResult> {
  return inTempDir(async (dir) => {
    await writeFile(join(dir, 'rules.yaml'), stringify({ groups }));
    return run(['check', 'rules', 'rules.yaml'], dir);
  });
}

/** `promtool check rules` on a rules file's text as it is (YAML, or JSON). */
export function checkRulesFile(text: string): Promise<PromtoolResult> {
  return inTempDir(async (dir) => {
    await writeFile(join(dir, 'rules.yaml'), text);
    return run(['check', 'rules', 'rules.yaml'], dir);
  });
}

/** One `promtool test rules` test group (input series, alerts expected at given times). */
export interface RuleTest {
  readonly interval: string;
  readonly input_series: readonly { readonly series: string; readonly values: string }[];
  readonly alert_rule_test: readonly {
    readonly eval_time: string;
    readonly alertname: string;
    readonly exp_alerts: readonly {
      readonly exp_labels: Readonly<Record<string, string>>;
      readonly exp_annotations: Readonly<Record<string, string>>;
    }[];
  }[];
}

/** `promtool test rules`: the rule groups in `rules.yaml`, and the tests evaluated against them. */
export function testRules(groups: unknown, tests: readonly RuleTest[]): Promise<PromtoolResult> {
  return inTempDir(async (dir) => {
    await writeFile(join(dir, 'rules.yaml'), stringify({ groups }));
    await writeFile(
      join(dir, 'tests.yaml'),
      stringify({ rule_files: ['rules.yaml'], evaluation_interval: '1m', tests }),
    );
    return run(['test', 'rules', 'tests.yaml'], dir);
  });
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'atan2',
  'inf',
  'nan',
]);

/**
 * Metric names selected by a PromQL expression: identifiers that are neither functions or aggregations
 * (followed by `(`), keywords, label names (inside `{...}` or a `by (...)` list), nor parts of strings,
 * durations or numbers.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '$1 ()');
  const names = new Set<string>();
  // A name followed by `(` or by a `by (...)` / `without (...)` clause is a function or an aggregation.
  const pattern = /(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(\s*\(|\s+(?:by|without)\s*\()?/g;
  for (const m of stripped.matchAll(pattern)) {
    const [, name, call] = m;
    if (name === undefined || call !== undefined || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names].sort();
}

/** A Grafana query made plain PromQL: `$__rate_interval` a 5 min window, `$var` the match-all regex. */
export function grafanaToPromQL(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$__interval|\$__range/g, '5m')
    .replace(/\$\{?(namespace|workload)\}?/g, '.*');
}
