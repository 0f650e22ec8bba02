/**
 * ServiceMonitor and PodMonitor (prometheus-operator's `monitoring.coreos.com/v1`, AKS managed
 * Prometheus' `azmonitoring.coreos.com/v1`) have no CRD in ../shared/crds: their shape is checked by
 * hand, closed like the API server's pruning, with the field types both CRDs share (the azmonitoring
 * PodMonitor CRD, Azure/prometheus-collector's `ama-metrics-podmonitor-crd.yaml`, has `port` and
 * `targetPort` but no `portNumber`, so neither schema allows it). For any test that synthesizes monitors.
 */
import { Ajv } from 'ajv';
import type { KubeObject } from '../support/validate.js';
import { DURATION } from './prometheus-rule-schema.js';

const STRING_MAP = { type: 'object', additionalProperties: { type: 'string' } };
const API_VERSION = { enum: ['monitoring.coreos.com/v1', 'azmonitoring.coreos.com/v1'] };
const METADATA = {
  type: 'object',
  required: ['name', 'namespace'],
  properties: { name: { type: 'string' }, namespace: { type: 'string' }, labels: STRING_MAP },
};
const SELECTOR = {
  type: 'object',
  additionalProperties: false,
  properties: { matchLabels: STRING_MAP },
};
const NAMESPACE_SELECTOR = {
  type: 'object',
  additionalProperties: false,
  properties: { any: { type: 'boolean' }, matchNames: { type: 'array', items: { type: 'string' } } },
};
const RELABELINGS = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    properties: {
      action: { enum: ['replace', 'keep', 'drop', 'labelmap', 'labeldrop', 'labelkeep'] },
      sourceLabels: { type: 'array', items: { type: 'string', pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' } },
      targetLabel: { type: 'string' },
      regex: { type: 'string' },
      replacement: { type: 'string' },
      separator: { type: 'string' },
    },
  },
};
const SECRET_KEY = {
  type: 'object',
  required: ['key'],
  additionalProperties: false,
  properties: { name: { type: 'string' }, key: { type: 'string' } },
};
const TLS_CONFIG = {
  type: 'object',
  additionalProperties: false,
  properties: {
    serverName: { type: 'string' },
    ca: { type: 'object', additionalProperties: false, properties: { secret: SECRET_KEY } },
  },
};
/** Fields every endpoint of either monitor has. */
const ENDPOINT_FIELDS = {
  port: { type: 'string', minLength: 1 },
  targetPort: {
    anyOf: [
      { type: 'integer', minimum: 1, maximum: 65535 },
      { type: 'string', minLength: 1 },
    ],
  },
  path: { type: 'string', pattern: '^/' },
  interval: { type: 'string', pattern: DURATION },
  scheme: { enum: ['http', 'https'] },
  tlsConfig: TLS_CONFIG,
  relabelings: RELABELINGS,
};
/** Exactly one way to name the port. */
const ONE_PORT = { oneOf: [{ required: ['port'] }, { required: ['targetPort'] }] };
/** Azure's label limits (its templates set them; the upstream CRD has them too). */
const LIMITS = {
  labelLimit: { type: 'integer', minimum: 1 },
  labelNameLengthLimit: { type: 'integer', minimum: 1 },
  labelValueLengthLimit: { type: 'integer', minimum: 1 },
};

const ajv = new Ajv({ allErrors: true, strict: false });

/** Validates one ServiceMonitor; errors in `SERVICE_MONITOR.errors`. */
export const SERVICE_MONITOR = ajv.compile({
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  additionalProperties: false,
  properties: {
    apiVersion: API_VERSION,
    kind: { const: 'ServiceMonitor' },
    metadata: METADATA,
    spec: {
      type: 'object',
      required: ['selector', 'endpoints'],
      additionalProperties: false,
      properties: {
        jobLabel: { type: 'string' },
        selector: SELECTOR,
        namespaceSelector: NAMESPACE_SELECTOR,
        endpoints: {
          type: 'array',
          minItems: 1,
          items: { type: 'object', additionalProperties: false, properties: ENDPOINT_FIELDS, ...ONE_PORT },
        },
        ...LIMITS,
      },
    },
  },
});

/** Validates one PodMonitor; errors in `POD_MONITOR.errors`. */
export const POD_MONITOR = ajv.compile({
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  additionalProperties: false,
  properties: {
    apiVersion: API_VERSION,
    kind: { const: 'PodMonitor' },
    metadata: METADATA,
    spec: {
      type: 'object',
      required: ['selector', 'podMetricsEndpoints'],
      additionalProperties: false,
      properties: {
        jobLabel: { type: 'string' },
        selector: SELECTOR,
        namespaceSelector: NAMESPACE_SELECTOR,
        podMetricsEndpoints: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            properties: ENDPOINT_FIELDS,
            ...ONE_PORT,
          },
        },
        ...LIMITS,
      },
    },
  },
});

/** Kinds checked here rather than by the shared harness. */
export const MONITOR_KINDS: ReadonlySet<string> = new Set(['ServiceMonitor', 'PodMonitor']);

/** Schema errors of the monitors among `objects` (other kinds are skipped). */
export function monitorErrors(objects: readonly KubeObject[]): string[] {
  const errors: string[] = [];
  for (const o of objects) {
    const check =
      o.kind === 'ServiceMonitor' ? SERVICE_MONITOR : o.kind === 'PodMonitor' ? POD_MONITOR : undefined;
    if (check && !check(o)) {
      errors.push(`${o.kind} ${o.metadata?.namespace}/${o.metadata?.name}: ${JSON.stringify(check.errors)}`);
    }
  }
  return errors;
}
