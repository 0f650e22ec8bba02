/**
 * PrometheusRule (prometheus-operator's `monitoring.coreos.com/v1`) has no CRD in ../shared/crds: its
 * shape is checked by hand, closed like the API server's pruning, with the field types of the operator's
 * CRD. For any test that synthesizes PrometheusRules (construct tests, environment synth).
 */
import { Ajv } from 'ajv';

/** prometheus-operator's Prometheus duration pattern (monitoring.coreos.com/v1 CRD). */
export const DURATION =
  '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$';
const STRING_MAP = { type: 'object', additionalProperties: { type: 'string' } };

/** Validates one PrometheusRule object; errors in `PROMETHEUS_RULE.errors`. */
export const PROMETHEUS_RULE = new Ajv({ allErrors: true, strict: false }).compile({
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  additionalProperties: false,
  properties: {
    apiVersion: { const: 'monitoring.coreos.com/v1' },
    kind: { const: 'PrometheusRule' },
    metadata: {
      type: 'object',
      required: ['name', 'namespace'],
      properties: { name: { type: 'string' }, namespace: { type: 'string' }, labels: STRING_MAP },
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      properties: {
        groups: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name'],
            additionalProperties: false,
            properties: {
              name: { type: 'string', minLength: 1 },
              interval: { type: 'string', pattern: DURATION },
              query_offset: { type: 'string', pattern: DURATION },
              limit: { type: 'integer' },
              partial_response_strategy: { enum: ['', 'abort', 'warn', 'Abort', 'Warn'] },
              labels: STRING_MAP,
              rules: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['expr'],
                  additionalProperties: false,
                  properties: {
                    alert: { type: 'string' },
                    record: { type: 'string' },
                    expr: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
                    for: { type: 'string', pattern: DURATION },
                    keep_firing_for: { type: 'string', minLength: 1, pattern: DURATION },
                    labels: STRING_MAP,
                    annotations: STRING_MAP,
                  },
                },
              },
            },
          },
        },
      },
    },
  },
});
