import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULTS, ENV, loadRuntimeConfig } from '../../../runtime/service/config.js';
import { METADATA, MetadataError, parseWorkloadSpec } from '../../../runtime/service/workload-spec.js';

describe('runtime configuration from the environment', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = loadRuntimeConfig({});
    assert.equal(config.grpcPort, DEFAULTS.grpcPort);
    assert.equal(config.httpPort, DEFAULTS.httpPort);
    assert.equal(config.historySeconds, 14 * 86_400);
    assert.equal(config.readAccess, 'authenticated', 'reads need a caller unless opened explicitly');
    assert.equal(config.tokenReview, true);
    assert.equal(config.prometheus, undefined);
    assert.deepEqual(config.tenants, []);
    assert.equal(config.memoryLimitMiB, undefined, "the container's own limit applies");
    assert.equal(loadRuntimeConfig({ [ENV.memoryLimitMiB]: '768' }).memoryLimitMiB, 768);
  });

  it('reads every variable the construct sets', () => {
    const config = loadRuntimeConfig({
      [ENV.prometheusUrl]: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/',
      [ENV.prometheusAuth]: 'aws-sigv4',
      [ENV.prometheusAwsRegion]: 'eu-west-1',
      [ENV.historyDays]: '7',
      [ENV.staleAfterSeconds]: '120',
      [ENV.readAccess]: 'anonymous',
      [ENV.apiKeysDir]: '/etc/elasticai/api-keys',
      [ENV.tenants]: JSON.stringify([{ name: 'shop', namespaces: ['shop', 'shop-batch'], maxReplicas: 50 }]),
    });
    assert.deepEqual(config.prometheus, {
      url: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1',
      auth: 'aws-sigv4',
      awsRegion: 'eu-west-1',
      timeoutMs: DEFAULTS.prometheusTimeoutMs,
    });
    assert.equal(config.historySeconds, 7 * 86_400);
    assert.equal(config.staleAfterSeconds, 120);
    assert.equal(config.apiKeysDir, '/etc/elasticai/api-keys');
    assert.deepEqual(config.tenants[0], {
      name: 'shop',
      namespaces: ['shop', 'shop-batch'],
      maxReplicas: 50,
    });
  });

  it('listens on an IP address or a host name', () => {
    for (const host of [
      '0.0.0.0',
      '127.0.0.1',
      '::',
      '::1',
      'localhost',
      'elasticai-runtime.elasticai-system.svc',
    ]) {
      assert.equal(loadRuntimeConfig({ [ENV.listenHost]: host }).listenHost, host);
    }
  });

  it('names the bad variable', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { [ENV.grpcPort]: '70000' },
        /^ELASTICAI_GRPC_PORT: must be an integer in \[0, 65535\] \(got "70000"\)/,
      ],
      [
        { [ENV.prometheusUrl]: 'prometheus:9090' },
        /^ELASTICAI_PROMETHEUS_URL: must be an absolute http\(s\) URL/,
      ],
      [
        { [ENV.prometheusUrl]: 'http://p:9090', [ENV.prometheusAuth]: 'basic' },
        /^ELASTICAI_PROMETHEUS_AUTH: must be one of/,
      ],
      [
        { [ENV.prometheusUrl]: 'http://p:9090', [ENV.prometheusAuth]: 'bearer' },
        /^ELASTICAI_PROMETHEUS_TOKEN_FILE: is required/,
      ],
      [{ [ENV.prometheusAuth]: 'azure' }, /^ELASTICAI_PROMETHEUS_AUTH: needs ELASTICAI_PROMETHEUS_URL/],
      [{ [ENV.readAccess]: 'public' }, /^ELASTICAI_READ_ACCESS: must be one of anonymous, authenticated/],
      [
        { [ENV.listenHost]: '999.1.1.1' },
        /^ELASTICAI_LISTEN_HOST: must be an IP address or a host name \(got "999\.1\.1\.1"\)/,
      ],
      [{ [ENV.listenHost]: 'host_name' }, /^ELASTICAI_LISTEN_HOST: must be an IP address or a host name/],
      [
        { [ENV.memoryLimitMiB]: '512Mi' },
        /^ELASTICAI_MEMORY_LIMIT_MIB: must be an integer in \[0, 1048576\]/,
      ],
      [
        { [ENV.tenants]: '[{"name":"a","namespaces":[],"maxReplicas":3}]' },
        /^ELASTICAI_TENANTS\[0\]\.namespaces/,
      ],
      [
        {
          [ENV.tenants]:
            '[{"name":"a","namespaces":["x"],"maxReplicas":3},{"name":"b","namespaces":["x"],"maxReplicas":3}]',
        },
        /already belongs to tenant a/,
      ],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => loadRuntimeConfig(env),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
    }
  });
});

describe('trigger metadata → workload spec', () => {
  const ref = { namespace: 'shop', name: 'checkout' };
  const tenants = [{ name: 'shop', namespaces: ['shop'], maxReplicas: 20 }];

  it('applies documented defaults and keeps what was set', () => {
    const spec = parseWorkloadSpec(ref, { query: 'q', capacityPerReplica: '40', scalerAddress: 'x:9090' });
    assert.deepEqual(spec, {
      kind: 'demand',
      source: 'prometheus',
      query: 'q',
      engine: { intervalSeconds: 60, capacityPerReplica: 40, leadSeconds: 120 },
    });
    const full = parseWorkloadSpec(ref, {
      query: 'q',
      capacityPerReplica: '40',
      models: 'holt-winters, seasonal-naive',
      nodePool: 'spot-general',
    });
    assert.equal(full.kind, 'demand');
    assert.deepEqual(full.kind === 'demand' && full.engine.modelFamilies, ['holt-winters', 'seasonal-naive']);
  });

  it('reads the pre-scale trust break-even, and refuses one outside [0, 1] naming the key', () => {
    const spec = parseWorkloadSpec(ref, { query: 'q', capacityPerReplica: '40', minPrescaleUse: '0' });
    assert.equal(spec.kind === 'demand' && spec.engine.minPrescaleUse, 0);
    assert.throws(
      () => parseWorkloadSpec(ref, { query: 'q', capacityPerReplica: '40', minPrescaleUse: '1.5' }),
      (error: unknown) =>
        error instanceof MetadataError && /metadata\.minPrescaleUse: must be in \[0, 1\]/.test(error.message),
    );
  });

  it('limits tenants to their namespaces and replica caps', () => {
    const capped = parseWorkloadSpec(ref, { query: 'q', capacityPerReplica: '1' }, tenants);
    assert.equal(capped.kind === 'demand' && capped.engine.maxReplicas, 20);
    assert.equal(capped.tenant, 'shop');
    assert.throws(
      () => parseWorkloadSpec(ref, { query: 'q', capacityPerReplica: '1', maxReplicas: '21' }, tenants),
      /metadata\.maxReplicas: exceeds tenant shop's cap of 20/,
    );
    assert.throws(
      () =>
        parseWorkloadSpec(
          { namespace: 'other', name: 'x' },
          { query: 'q', capacityPerReplica: '1', tenant: 'shop' },
          tenants,
        ),
      /metadata\.tenant: does not own namespace other/,
    );
    assert.throws(
      () => parseWorkloadSpec(ref, { tenant: 'nope', query: 'q', capacityPerReplica: '1' }, tenants),
      MetadataError,
    );
  });

  it('reads webhook streams and headroom specs', () => {
    assert.deepEqual(parseWorkloadSpec(ref, { source: 'webhook', capacityPerReplica: '5' }), {
      kind: 'demand',
      source: 'webhook',
      query: 'shop/checkout',
      engine: { intervalSeconds: 60, capacityPerReplica: 5, leadSeconds: 120 },
    });
    assert.deepEqual(parseWorkloadSpec(ref, { metric: 'headroom', nodePool: 'spot-general' }), {
      kind: 'headroom',
      nodePool: 'spot-general',
    });
    assert.ok(Object.values(METADATA).includes('leadSeconds'));
  });
});
