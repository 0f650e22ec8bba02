/**
 * zod schemas of every input the HTTP API takes (path parameters, query strings, bodies), and the one
 * way they are checked: a failure is a 400 whose message names each bad field, e.g.
 * `replicas: must be an integer ≥ 0` or `events[3].count: must be a number ≥ 0`. Objects are strict:
 * an unknown field is an error, never silently ignored.
 */
import { z } from 'zod';
import { MAX_REPLICAS } from '../../engine/settings.js';
import { STREAM_NAME } from '../history/event-store.js';
import { ApiError } from './api-error.js';

/** Longest override (KEDA's paused-replicas annotation stays until removed; the runtime clears it then). */
export const MAX_OVERRIDE_SECONDS = 7 * 86_400;

/** Events one webhook call may carry (the body limit bounds it as well). */
export const MAX_WEBHOOK_EVENTS = 10_000;

/** A message for a field's failure; a missing field says so instead. */
function must(text: string): { error: (issue: { input?: unknown }) => string } {
  return { error: (issue) => (issue.input === undefined ? 'is required' : text) };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Longest namespace (a DNS label) and ScaledObject name (a DNS subdomain). */
export const MAX_NAMESPACE_LENGTH = 63;
export const MAX_NAME_LENGTH = 253;

const namespaceText = 'must be a namespace name (a DNS label: 1–63 lowercase letters, digits or "-")';
export const namespaceSchema = z
  .string(must(namespaceText))
  .max(MAX_NAMESPACE_LENGTH, { error: namespaceText })
  .regex(DNS_LABEL, { error: namespaceText });

const nameText = 'must be a ScaledObject name (a DNS subdomain: 1–253 lowercase letters, digits, "-" or ".")';
export const nameSchema = z
  .string(must(nameText))
  .max(MAX_NAME_LENGTH, { error: nameText })
  .regex(DNS_SUBDOMAIN, { error: nameText });

export const workloadParams = z.strictObject({ namespace: namespaceSchema, name: nameSchema });
export type WorkloadParams = z.infer<typeof workloadParams>;

/** `?namespace=` (optional), nothing else. */
export const namespaceQuery = z.strictObject({ namespace: namespaceSchema.optional() });

/** No query parameters at all. */
export const emptyQuery = z.strictObject({});

/** A route that takes no body: none at all, or an empty JSON object; any field is named as unknown. */
export const emptyBody = z
  .strictObject({}, { error: 'must be empty: this request takes no body (or {})' })
  .optional();

const replicasText = `must be an integer ≥ 0 (at most ${MAX_REPLICAS})`;
const durationText = `must be an integer number of seconds > 0 and ≤ ${MAX_OVERRIDE_SECONDS} (7 days)`;
export const overrideBody = z.strictObject(
  {
    replicas: z
      .int(must(replicasText))
      .min(0, { error: replicasText })
      .max(MAX_REPLICAS, { error: replicasText }),
    durationSeconds: z
      .int(must(durationText))
      .min(1, { error: durationText })
      .max(MAX_OVERRIDE_SECONDS, { error: durationText })
      .optional(),
  },
  { error: 'must be a JSON object such as {"replicas": 3, "durationSeconds": 3600}' },
);
export type OverrideBody = z.infer<typeof overrideBody>;

const streamText = 'must be 1–253 letters, digits, ".", "_", "/" or "-"';
export const streamParams = z.strictObject({
  stream: z.string(must(streamText)).regex(STREAM_NAME, { error: streamText }),
});

const timestampText = 'must be epoch seconds (an integer ≥ 0)';
const countText = 'must be a finite number ≥ 0';
const eventsText = `must be an array of 1 to ${MAX_WEBHOOK_EVENTS} events {"timestamp", "count"}`;
export const eventsBody = z.strictObject(
  {
    events: z
      .array(
        z.strictObject(
          {
            timestamp: z.int(must(timestampText)).min(0, { error: timestampText }),
            count: z.number(must(countText)).min(0, { error: countText }),
          },
          { error: 'must be an object {"timestamp", "count"}' },
        ),
        must(eventsText),
      )
      .min(1, { error: eventsText })
      .max(MAX_WEBHOOK_EVENTS, { error: eventsText }),
  },
  { error: 'must be a JSON object {"events": [{"timestamp", "count"}, ...]}' },
);
export type EventsBody = z.infer<typeof eventsBody>;

/** `events[3].count` from ['events', 3, 'count']; `where` when the path is empty. */
function fieldName(path: readonly PropertyKey[], where: string): string {
  if (path.length === 0) return where;
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

/** One line naming every bad field. */
export function describeIssues(error: z.ZodError, where: string): string {
  const parts: string[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const prefix = issue.path.length === 0 ? '' : `${fieldName(issue.path, where)}.`;
      for (const key of issue.keys)
        parts.push(`${prefix}${key}: unknown ${where === 'query' ? 'query parameter' : 'field'}`);
      continue;
    }
    parts.push(`${fieldName(issue.path, where)}: ${issue.message}`);
  }
  return [...new Set(parts)].join('; ');
}

/** The parsed value, or a 400 `invalid-<where>` naming the bad fields. */
export function check<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'query' | 'path',
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ApiError(400, `invalid-${where}`, describeIssues(result.error, where));
}
