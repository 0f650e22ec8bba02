import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConfigError,
  loadResolverConfig,
  parseRoutes,
  RESOLVER_DEFAULTS,
  type RouteJson,
} from '../../../runtime/resolver/config.js';
import { hostOf, RouteTable } from '../../../runtime/resolver/route-table.js';

const RUNTIME = {
  namespace: 'elasticai-system',
  service: 'elasticai-runtime',
  port: 'http',
  url: 'http://elasticai-runtime.elasticai-system.svc.cluster.local:8080',
};

function route(overrides: Partial<RouteJson> & Record<string, unknown> = {}): Record<string, unknown> {
  return {
    namespace: 'shop',
    service: 'web',
    port: 'http',
    scaledObject: 'web',
    hosts: ['shop.example.com'],
    runtime: RUNTIME,
    ...overrides,
  };
}

function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail('expected a ConfigError');
}

describe('resolver configuration', () => {
  it('fills route defaults and names targets namespace/service', () => {
    const [r] = parseRoutes(JSON.stringify([route()]));
    assert.equal(r?.id, 'shop/web');
    assert.equal(r?.pathPrefix, '/');
    assert.equal(r?.protocol, 'http');
    assert.equal(r?.holdTimeoutMs, RESOLVER_DEFAULTS.holdTimeoutSeconds * 1000);
    assert.equal(r?.maxHeld, 1000);
    assert.equal(r?.releaseConcurrency, 16);
    assert.equal(r?.retryAfterSeconds, 5);
    assert.equal(r?.switchService, true);
  });

  it('names the variable, the route and the field of a bad value', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        route({ namespace: 'Shop' }),
        /^ELASTICAI_RESOLVER_ROUTES\[0\]\.namespace: must be a namespace name \(got "Shop"\)/,
      ],
      [route({ hosts: [] }), /\[0\]\.hosts: must be a non-empty array/],
      [route({ hosts: ['Shop.example.com:80'] }), /\[0\]\.hosts\[0\]: must be a lowercase host name/],
      [route({ pathPrefix: 'api' }), /\[0\]\.pathPrefix: must start with "\/"/],
      [route({ protocol: 'grpc' as never }), /\[0\]\.protocol: must be "http" or "h2c"/],
      [route({ holdTimeoutSeconds: 0 }), /\[0\]\.holdTimeoutSeconds: must be an integer in \[1, 3600\]/],
      [route({ maxHeld: 1.5 }), /\[0\]\.maxHeld/],
      [
        route({ runtime: { ...RUNTIME, url: 'ftp://x' } }),
        /\[0\]\.runtime\.url: must be an absolute http\(s\) URL/,
      ],
      [route({ color: 'blue' }), /\[0\]\.color: is not a route field/],
    ];
    for (const [r, message] of cases) {
      assert.match(configError(() => parseRoutes(JSON.stringify([r]))).message, message);
    }
    assert.match(configError(() => parseRoutes('[]')).message, /non-empty JSON array/);
    assert.match(configError(() => parseRoutes('{')).message, /must be a JSON array of routes/);
  });

  it('refuses two routes for the same target, or the same host and prefix twice', () => {
    assert.match(
      configError(() => parseRoutes(JSON.stringify([route(), route({ hosts: ['other.example.com'] })])))
        .message,
      /\[1\]\.service: repeats target shop\/web/,
    );
    assert.match(
      configError(() =>
        parseRoutes(JSON.stringify([route(), route({ service: 'api', scaledObject: 'api' })])),
      ).message,
      /\[1\]\.hosts: with pathPrefix \/ is already routed to shop\/web/,
    );
  });

  it('reads the environment, and requires the routes', () => {
    const config = loadResolverConfig({
      ELASTICAI_RESOLVER_ROUTES: JSON.stringify([route()]),
      ELASTICAI_RESOLVER_MAX_HELD: '50',
    });
    assert.equal(config.proxyPort, 8080);
    assert.equal(config.adminPort, 9091);
    assert.equal(config.maxHeldTotal, 50);
    assert.equal(config.service, 'elasticai-resolver');
    assert.match(
      configError(() => loadResolverConfig({})).message,
      /^ELASTICAI_RESOLVER_ROUTES: is required/,
    );
    assert.match(
      configError(() =>
        loadResolverConfig({
          ELASTICAI_RESOLVER_ROUTES: JSON.stringify([route()]),
          ELASTICAI_RESOLVER_ADMIN_PORT: '8080',
        }),
      ).message,
      /^ELASTICAI_RESOLVER_ADMIN_PORT: must differ from ELASTICAI_RESOLVER_PROXY_PORT/,
    );
  });
});

describe('routing by host and path prefix', () => {
  const table = new RouteTable(
    parseRoutes(
      JSON.stringify([
        route({ hosts: ['shop.example.com', 'web.shop'] }),
        route({ service: 'api', scaledObject: 'api', hosts: ['shop.example.com'], pathPrefix: '/api/' }),
        route({
          namespace: 'tenants',
          service: 'portal',
          scaledObject: 'portal',
          hosts: ['*.tenants.example.com'],
        }),
      ]),
    ),
  );
  const target = (host: string | undefined, path: string): string | undefined => table.match(host, path)?.id;

  it('ignores case, port and a trailing dot of the host', () => {
    assert.equal(hostOf('Shop.Example.COM:8443'), 'shop.example.com');
    assert.equal(hostOf('shop.example.com.'), 'shop.example.com');
    assert.equal(hostOf('[::1]:80'), '[::1]');
    assert.equal(target('SHOP.example.com:80', '/'), 'shop/web');
    assert.equal(target('web.shop', '/x'), 'shop/web');
    assert.equal(target(undefined, '/'), undefined);
  });

  it('picks the longest prefix, on whole path segments', () => {
    assert.equal(target('shop.example.com', '/api'), 'shop/api');
    assert.equal(target('shop.example.com', '/api/v1/orders?x=1'), 'shop/api');
    assert.equal(target('shop.example.com', '/api?x=1'), 'shop/api');
    assert.equal(target('shop.example.com', '/apix'), 'shop/web');
    assert.equal(target('shop.example.com', '/'), 'shop/web');
  });

  it('matches a wildcard host on exactly one more label', () => {
    assert.equal(target('acme.tenants.example.com', '/'), 'tenants/portal');
    assert.equal(target('a.b.tenants.example.com', '/'), undefined);
    assert.equal(target('tenants.example.com', '/'), undefined);
  });
});
