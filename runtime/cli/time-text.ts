/**
 * Times the runtime's API answers with (a refusal's `at`, a decision's time, an override's `expiresAt`,
 * `generatedAt`), as the human views show them. Trace times are checked on reading; these are not ours
 * to check, and one bad value must not hide the rest of the view nor be shown as something it is not:
 * Date#toISOString writes times outside the years 0000–9999 with expanded years (`+010000-01-01T…`,
 * `-000001-…`), legal ISO 8601 but not RFC 3339, easy to misread and read by few parsers.
 */
import { inIsoYears } from '../simulation/trace.js';
import { isoTimestamp } from './csv-output.js';

/** What follows a value that is not a time the views can show. */
const OUT_OF_RANGE = 'not a time in the years 0000–9999';

/**
 * A time of the API's answer for a human view: epoch seconds, or an ISO 8601 / RFC 3339 text (shown
 * in UTC, to the second). `—` when there is none (null, undefined, NaN). A value outside the years
 * 0000–9999, or that is no time at all, is shown as the runtime sent it with what is wrong with it
 * (`1795000000000 (not a time in the years 0000–9999: epoch milliseconds?)`), never as an expanded year.
 */
export function timeText(value: unknown): string {
  if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) {
    return '—';
  }
  if (typeof value === 'number') {
    if (Number.isFinite(value) && inIsoYears(value)) return isoTimestamp(value);
    // Epoch milliseconds of this century are 13 digits: read as seconds, they are past the year 30000.
    const millis = value >= 1e12 && inIsoYears(value / 1000);
    return `${value} (${OUT_OF_RANGE}${millis ? ': epoch milliseconds?' : ''})`;
  }
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) return `${JSON.stringify(value)} (not a time)`;
    const seconds = Math.floor(ms / 1000);
    return inIsoYears(seconds) ? isoTimestamp(seconds) : `${JSON.stringify(value)} (${OUT_OF_RANGE})`;
  }
  return `${JSON.stringify(value) ?? String(value)} (not a time)`;
}
