import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ApiKeyError, ApiKeyStore } from '../../../../runtime/service/auth/api-keys.js';
import type { Authenticator } from '../../../../runtime/service/auth/authenticator.js';
import { bearerToken, createAuthenticator } from '../../../../runtime/service/auth/authenticator.js';
import type { RuntimeConfig, TenantLimits } from '../../../../runtime/service/config.js';
import { loadRuntimeConfig } from '../../../../runtime/service/config.js';

const OPS_KEY = 'ops-0123456789abcdef0123456789abcdef';
const SHOP_KEY = 'shop-0123456789abcdef0123456789abcdef';
const NEW_OPS_KEY = 'ops-NEW-456789abcdef0123456789abcdef';
const TENANTS: TenantLimits[] = [{ name: 'shop', namespaces: ['shop', 'shop-staging'], maxReplicas: 20 }];

/**
 * Writes `keys` the way the kubelet mounts a Secret: the files live in a timestamped `..<ts>` folder,
 * `..data` links to it, and each key is a symlink `<id> -> ..data/<id>`. Calling it again swaps `..data`
 * atomically, like a Secret update.
 */
function mountSecret(dir: string, keys: Record<string, string>, version: number): void {
  const ts = `..2026_01_05_12_00_0${version}.000${version}`;
  mkdirSync(join(dir, ts));
  for (const [id, value] of Object.entries(keys)) writeFileSync(join(dir, ts, id), value);
  symlinkSync(ts, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const id of Object.keys(keys)) {
    try {
      symlinkSync(join('..data', id), join(dir, id));
    } catch {
      // already linked by an earlier version
    }
  }
}

describe('API keys from a mounted Secret', () => {
  let dir: string;
  let now: number;
  let reloadErrors: unknown[];

  function config(overrides: Partial<RuntimeConfig> = {}): RuntimeConfig {
    return { ...loadRuntimeConfig({}), apiKeysDir: dir, tokenReview: false, tenants: TENANTS, ...overrides };
  }

  function authenticator(overrides: Partial<RuntimeConfig> = {}): Authenticator {
    return createAuthenticator(config(overrides), undefined, {
      now: () => now,
      apiKeyCheckIntervalMs: 5_000,
      onError: (e) => reloadErrors.push(e),
    });
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'api-keys-'));
    now = 1_000_000;
    reloadErrors = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a valid operator key as a cluster-wide caller named after the file', async () => {
    mountSecret(dir, { ops: `${OPS_KEY}\n`, shop: SHOP_KEY }, 1);
    const auth = authenticator();
    const caller = await auth.authenticate(`Bearer ${OPS_KEY}`);
    assert.deepEqual(caller, { id: 'api-key:ops', via: 'api-key', groups: ['elasticai:operators'] });
    assert.ok(caller !== undefined);
    assert.equal(await auth.authorize(caller, { verb: 'list' }), true);
    assert.equal(await auth.authorize(caller, { verb: 'patch', namespace: 'ml', name: 'inference' }), true);
  });

  it('limits a key named like a tenant to that tenant’s namespaces', async () => {
    mountSecret(dir, { ops: OPS_KEY, shop: SHOP_KEY }, 1);
    const auth = authenticator();
    const caller = await auth.authenticate(`Bearer ${SHOP_KEY}`);
    assert.deepEqual(caller, {
      id: 'api-key:shop',
      via: 'api-key',
      groups: ['elasticai:tenant:shop'],
      namespaces: ['shop', 'shop-staging'],
    });
    assert.ok(caller !== undefined);
    // THEN it may read and override inside its namespaces ...
    assert.equal(await auth.authorize(caller, { verb: 'patch', namespace: 'shop', name: 'checkout' }), true);
    assert.equal(await auth.authorize(caller, { verb: 'list', namespace: 'shop-staging' }), true);
    // ... and nothing outside them, nor across all namespaces
    assert.equal(await auth.authorize(caller, { verb: 'get', namespace: 'ml', name: 'inference' }), false);
    assert.equal(await auth.authorize(caller, { verb: 'patch', namespace: 'ml', name: 'inference' }), false);
    assert.equal(await auth.authorize(caller, { verb: 'list' }), false);
  });

  it('refuses a wrong key, a missing header, other schemes and malformed headers', async () => {
    mountSecret(dir, { ops: OPS_KEY }, 1);
    const auth = authenticator();
    assert.equal(await auth.authenticate(`Bearer ${OPS_KEY.slice(0, -1)}x`), undefined);
    assert.equal(await auth.authenticate(`Bearer ${OPS_KEY}extra`), undefined);
    assert.equal(await auth.authenticate(`Bearer ${OPS_KEY.slice(0, 10)}`), undefined);
    assert.equal(await auth.authenticate(undefined), undefined);
    assert.equal(await auth.authenticate(''), undefined);
    assert.equal(
      await auth.authenticate(`Basic ${Buffer.from(`x:${OPS_KEY}`).toString('base64')}`),
      undefined,
    );
    assert.equal(await auth.authenticate(OPS_KEY), undefined);
    assert.equal(await auth.authenticate(`Bearer ${OPS_KEY} second`), undefined);
    // the scheme is case-insensitive, as HTTP says
    assert.equal((await auth.authenticate(`bearer ${OPS_KEY}`))?.id, 'api-key:ops');
  });

  it('parses only `Bearer <token>` headers', () => {
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('BEARER  abc '), 'abc');
    assert.equal(bearerToken('Bearer'), undefined);
    assert.equal(bearerToken('Bearer a b'), undefined);
    assert.equal(bearerToken('Token abc'), undefined);
  });

  it('picks up a rotated Secret (..data swapped) after the check interval, and stops accepting the old key', async () => {
    // GIVEN the ops key in use
    mountSecret(dir, { ops: OPS_KEY, shop: SHOP_KEY }, 1);
    const auth = authenticator();
    assert.ok(await auth.authenticate(`Bearer ${OPS_KEY}`));
    // WHEN the Secret is updated with a new ops key
    mountSecret(dir, { ops: NEW_OPS_KEY, shop: SHOP_KEY }, 2);
    // THEN within the check interval the folder is not read again ...
    now += 4_999;
    assert.ok(await auth.authenticate(`Bearer ${OPS_KEY}`));
    // ... and after it the new key works and the old one is refused
    now += 1;
    assert.equal((await auth.authenticate(`Bearer ${NEW_OPS_KEY}`))?.id, 'api-key:ops');
    assert.equal(await auth.authenticate(`Bearer ${OPS_KEY}`), undefined);
    assert.equal((await auth.authenticate(`Bearer ${SHOP_KEY}`))?.id, 'api-key:shop');
    assert.deepEqual(reloadErrors, []);
  });

  it('picks up a key file rewritten in place with a value of the same length', async () => {
    writeFileSync(join(dir, 'ops'), OPS_KEY);
    const auth = authenticator();
    assert.ok(await auth.authenticate(`Bearer ${OPS_KEY}`));
    writeFileSync(join(dir, 'ops'), NEW_OPS_KEY);
    assert.equal(NEW_OPS_KEY.length, OPS_KEY.length);
    now += 5_000;
    assert.ok(await auth.authenticate(`Bearer ${NEW_OPS_KEY}`));
    assert.equal(await auth.authenticate(`Bearer ${OPS_KEY}`), undefined);
  });

  it('drops a deleted key and accepts an added one', async () => {
    writeFileSync(join(dir, 'ops'), OPS_KEY);
    const auth = authenticator();
    rmSync(join(dir, 'ops'));
    writeFileSync(join(dir, 'shop'), SHOP_KEY);
    now += 5_000;
    assert.equal(await auth.authenticate(`Bearer ${OPS_KEY}`), undefined);
    assert.equal((await auth.authenticate(`Bearer ${SHOP_KEY}`))?.id, 'api-key:shop');
  });

  it('refuses a key shorter than 32 characters at load, naming the file', () => {
    mountSecret(dir, { ops: OPS_KEY, weak: 'short-key\n' }, 1);
    assert.throws(
      () => authenticator(),
      (e: unknown) => {
        assert.ok(e instanceof ApiKeyError);
        assert.equal(e.file, join(dir, 'weak'));
        assert.equal(e.message, `API key ${join(dir, 'weak')}: is 9 characters long; keys need at least 32`);
        return true;
      },
    );
  });

  it('refuses two files with the same key, naming both', () => {
    writeFileSync(join(dir, 'a'), OPS_KEY);
    writeFileSync(join(dir, 'b'), OPS_KEY);
    assert.throws(
      () => authenticator(),
      new RegExp(`${join(dir, 'b')}: has the same value as ${join(dir, 'a')}`),
    );
  });

  it('a short key appearing on reload is refused and reported; the other keys keep working', async () => {
    writeFileSync(join(dir, 'ops'), OPS_KEY);
    const auth = authenticator();
    writeFileSync(join(dir, 'intern'), 'tooshort');
    now += 5_000;
    assert.equal(await auth.authenticate('Bearer tooshort'), undefined);
    assert.ok(await auth.authenticate(`Bearer ${OPS_KEY}`));
    assert.equal(reloadErrors.length, 1);
    assert.match(String(reloadErrors[0]), /intern: is 8 characters long/);
    // reported once, not on every check
    now += 5_000;
    await auth.authenticate(`Bearer ${OPS_KEY}`);
    assert.equal(reloadErrors.length, 1);
  });

  it('skips dotfiles and Kubernetes’ `..` folders', () => {
    mountSecret(dir, { ops: OPS_KEY }, 1);
    writeFileSync(join(dir, '.hidden'), 'x');
    const store = new ApiKeyStore(dir, TENANTS);
    assert.deepEqual(store.ids, ['ops']);
  });

  it('fails closed when the folder disappears', async () => {
    writeFileSync(join(dir, 'ops'), OPS_KEY);
    const auth = authenticator();
    rmSync(dir, { recursive: true, force: true });
    now += 5_000;
    assert.equal(await auth.authenticate(`Bearer ${OPS_KEY}`), undefined);
    assert.match(String(reloadErrors[0]), /cannot read the folder/);
  });

  it('with no keys and no TokenReview, every request is unauthenticated', async () => {
    const none = createAuthenticator(config({ apiKeysDir: undefined }));
    assert.equal(await none.authenticate(`Bearer ${OPS_KEY}`), undefined);
    // and an API-key caller made up elsewhere is not authorized
    assert.equal(
      await none.authorize({ id: 'api-key:ops', via: 'api-key', groups: [] }, { verb: 'list' }),
      false,
    );
  });
});
