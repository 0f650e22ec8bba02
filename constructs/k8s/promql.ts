/**
 * Small, exact pieces of PromQL shared by the observability constructs (alerts, dashboard): vector
 * selectors with correctly quoted label values, and durations in Prometheus' and ISO 8601 notation.
 * Expressions are still written as text, but every label value goes through {@link selector}, so no
 * user-supplied name can break out of its quotes.
 */
import type { Duration } from 'cdk8s';
import { PropError, checkInteger } from './validation.js';

/** A label matcher value: a plain string is an equality match (`=`). */
export type LabelMatch = string | LabelMatcher;

/** A label matcher other than equality. */
export class LabelMatcher {
  /** `=~`: the label matches the RE2 regular expression (anchored at both ends by Prometheus). */
  static regex(pattern: string): LabelMatcher {
    return new LabelMatcher('=~', pattern);
  }

  /** `!=`: the label differs from the value. */
  static not(value: string): LabelMatcher {
    return new LabelMatcher('!=', value);
  }

  /** `!~`: the label does not match the regular expression. */
  static notRegex(pattern: string): LabelMatcher {
    return new LabelMatcher('!~', pattern);
  }

  private constructor(
    readonly operator: '=~' | '!=' | '!~',
    readonly value: string,
  ) {}
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** True for a valid Prometheus metric name. */
export function isMetricName(name: string): boolean {
  return METRIC_NAME.test(name);
}

/** True for a valid Prometheus label name (reserved `__` names included). */
export function isLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}

/** A PromQL string literal: double-quoted, with `"`, `\` and control characters escaped. */
export function promString(value: string): string {
  // JSON's escapes (\" \\ \n \uXXXX ...) are a subset of the Go escapes PromQL accepts.
  return JSON.stringify(value);
}

/**
 * A vector selector, e.g. `selector('up', { job: 'elasticai-runtime' })` → `up{job="elasticai-runtime"}`.
 * Matchers keep the order given, so the text is deterministic.
 */
export function selector(metric: string, matchers: Readonly<Record<string, LabelMatch>> = {}): string {
  if (!isMetricName(metric)) throw new Error(`not a Prometheus metric name: ${JSON.stringify(metric)}`);
  const parts = Object.entries(matchers).map(([label, match]) => {
    if (!isLabelName(label)) throw new Error(`not a Prometheus label name: ${JSON.stringify(label)}`);
    return typeof match === 'string'
      ? `${label}=${promString(match)}`
      : `${label}${match.operator}${promString(match.value)}`;
  });
  return parts.length === 0 ? metric : `${metric}{${parts.join(',')}}`;
}

/** Whole seconds of a duration prop, checked (`prop` names it in the error). */
export function durationSeconds(prop: string, duration: Duration, min = 0): number {
  const seconds = duration.toSeconds({ integral: false });
  if (!Number.isInteger(seconds))
    throw new PropError(prop, `${seconds}s`, 'must be a whole number of seconds');
  checkInteger(prop, seconds, min);
  return seconds;
}

/** Seconds in Prometheus' duration notation, largest whole unit: 900 → `15m`, 90 → `90s`, 0 → `0s`. */
export function promDuration(seconds: number): string {
  if (seconds > 0 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds > 0 && seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** Seconds as an ISO 8601 duration (Azure Monitor's notation): 900 → `PT15M`, 5400 → `PT1H30M`. */
export function isoDuration(seconds: number): string {
  if (seconds === 0) return 'PT0S';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `PT${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s ? `${s}S` : ''}`;
}
