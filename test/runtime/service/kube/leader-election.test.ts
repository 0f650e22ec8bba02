import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { KubeClient } from '../../../../runtime/service/kube/kube-client.js';
import type {
  Clock,
  LeaderElectionOptions,
  Timers,
} from '../../../../runtime/service/kube/leader-election.js';
import { formatMicroTime, LeaderElector } from '../../../../runtime/service/kube/leader-election.js';
import { FakeKubeApi } from '../../../support/fake-kube-api.js';

const SA_TOKEN = 'runtime-sa-token-0123456789';
const NS = 'elasticai-system';
const LEASE_PATH = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/elasticai-runtime-leader`;

/** Wall clock and timers under the test's control: `advance` moves time and fires what is due. */
class ManualClock implements Clock, Timers {
  private t = Date.UTC(2026, 0, 5, 12, 0, 0);
  private nextId = 1;
  private readonly due = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.due.set(id, { at: this.t + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.due.delete(handle as number);
  }

  get pending(): number {
    return this.due.size;
  }

  advance(ms: number): void {
    this.t += ms;
    for (const [id, timer] of [...this.due].sort((a, b) => a[1].at - b[1].at)) {
      if (timer.at > this.t) continue;
      this.due.delete(id);
      timer.callback();
    }
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

interface LeaseJson {
  metadata: { resourceVersion: string };
  spec: {
    holderIdentity: string;
    leaseDurationSeconds: number;
    acquireTime: string;
    renewTime: string;
    leaseTransitions: number;
  };
}

describe('LeaderElector on a coordination.k8s.io/v1 Lease', () => {
  let api: FakeKubeApi;
  let kube: KubeClient;
  let clock: ManualClock;
  const electors: LeaderElector[] = [];
  const events: string[] = [];
  const errors: unknown[] = [];

  function elector(identity: string, options: Partial<LeaderElectionOptions> = {}): LeaderElector {
    const e = new LeaderElector({
      kube,
      namespace: NS,
      name: 'elasticai-runtime-leader',
      identity,
      clock,
      timers: clock,
      onStartedLeading: () => events.push(`${identity} started`),
      onStoppedLeading: () => events.push(`${identity} stopped`),
      onError: (err) => errors.push(err),
      ...options,
    });
    electors.push(e);
    return e;
  }

  function lease(name = 'elasticai-runtime-leader'): LeaseJson {
    const l = api.lease(NS, name);
    assert.ok(l !== undefined, 'the Lease exists');
    return l as unknown as LeaseJson;
  }

  /** Advances the clock by one retry period and waits until `running` electors have scheduled again. */
  async function tick(running: number, ms = 2_000): Promise<void> {
    clock.advance(ms);
    await until(() => clock.pending === running, 'every elector to finish its round');
  }

  beforeEach(async () => {
    api = await FakeKubeApi.start({ serviceAccountToken: SA_TOKEN });
    kube = new KubeClient({ url: api.url, token: SA_TOKEN });
    clock = new ManualClock();
    events.length = 0;
    errors.length = 0;
  });
  afterEach(async () => {
    for (const e of electors.splice(0)) await e.stop();
    kube.close();
    await api.close();
  });

  it('creates the missing Lease with itself as holder, in MicroTime format', async () => {
    const a = elector('runtime-a');
    assert.equal(await a.tryAcquireOrRenew(), true);
    assert.ok(a.isLeader);
    assert.deepEqual(events, ['runtime-a started']);
    const now = formatMicroTime(clock.now());
    assert.equal(now, '2026-01-05T12:00:00.000000Z');
    assert.deepEqual(lease().spec, {
      holderIdentity: 'runtime-a',
      leaseDurationSeconds: 15,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    });
    assert.deepEqual(
      api.calls.map((c) => [c.method, c.path, c.status]),
      [
        ['GET', LEASE_PATH, 404],
        ['POST', `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`, 201],
      ],
    );
  });

  it('two electors racing for a missing Lease: exactly one leads, the other lost the race without an error', async () => {
    for (let round = 0; round < 10; round++) {
      // GIVEN a fresh Lease name per round, and two replicas asking at the same instant
      const name = `race-${round}`;
      const a = elector('runtime-a', { name });
      const b = elector('runtime-b', { name });
      const [wonA, wonB] = await Promise.all([a.tryAcquireOrRenew(), b.tryAcquireOrRenew()]);
      // THEN exactly one won, it is the holder, and both agree
      assert.equal(Number(wonA) + Number(wonB), 1, `round ${round}: a=${wonA} b=${wonB}`);
      assert.equal(lease(name).spec.holderIdentity, wonA ? 'runtime-a' : 'runtime-b');
      assert.equal(a.isLeader, wonA);
      assert.equal(b.isLeader, wonB);
    }
    assert.deepEqual(errors, []);
  });

  it('two electors racing for an expired Lease: exactly one takes it over (409 Conflict for the other)', async () => {
    for (let round = 0; round < 10; round++) {
      const name = `expired-${round}`;
      // GIVEN a Lease whose holder died a minute ago
      await elector('runtime-dead', { name }).tryAcquireOrRenew();
      clock.advance(60_000);
      const a = elector('runtime-a', { name });
      const b = elector('runtime-b', { name });
      const [wonA, wonB] = await Promise.all([a.tryAcquireOrRenew(), b.tryAcquireOrRenew()]);
      assert.equal(Number(wonA) + Number(wonB), 1, `round ${round}: a=${wonA} b=${wonB}`);
      const spec = lease(name).spec;
      assert.equal(spec.holderIdentity, wonA ? 'runtime-a' : 'runtime-b');
      assert.equal(spec.leaseTransitions, 1);
    }
    // AND some round was decided by the resourceVersion check, which is not reported as an error
    assert.ok(api.calls.some((c) => c.method === 'PUT' && c.status === 409));
    assert.deepEqual(errors, []);
  });

  it('the holder renews with the resourceVersion it read; acquireTime and transitions stay', async () => {
    const a = elector('runtime-a');
    await a.tryAcquireOrRenew();
    const created = lease();
    clock.advance(2_000);
    assert.equal(await a.tryAcquireOrRenew(), true);
    const renewed = lease();
    assert.equal(renewed.spec.renewTime, '2026-01-05T12:00:02.000000Z');
    assert.equal(renewed.spec.acquireTime, created.spec.acquireTime);
    assert.equal(renewed.spec.leaseTransitions, 0);
    const put = api.calls.at(-1);
    assert.equal(put?.method, 'PUT');
    assert.equal((put?.body as LeaseJson).metadata.resourceVersion, created.metadata.resourceVersion);
    assert.deepEqual(events, ['runtime-a started']);
  });

  it('another replica waits while the Lease is valid and takes over once renewTime + leaseDurationSeconds has passed', async () => {
    // GIVEN a leads and then stops renewing (crashed)
    const a = elector('runtime-a');
    const b = elector('runtime-b');
    await a.tryAcquireOrRenew();
    // WHEN b tries just before expiry THEN it does not write the Lease
    clock.advance(14_999);
    const writesBefore = api.calls.filter((c) => c.method !== 'GET').length;
    assert.equal(await b.tryAcquireOrRenew(), false);
    assert.equal(api.calls.filter((c) => c.method !== 'GET').length, writesBefore);
    assert.equal(lease().spec.holderIdentity, 'runtime-a');
    // WHEN b tries once the Lease has expired THEN it takes over, counting a transition
    clock.advance(1);
    assert.equal(await b.tryAcquireOrRenew(), true);
    const spec = lease().spec;
    assert.equal(spec.holderIdentity, 'runtime-b');
    assert.equal(spec.leaseTransitions, 1);
    assert.equal(spec.acquireTime, '2026-01-05T12:00:15.000000Z');
    // AND a, back, sees b holding the Lease and stops leading
    assert.equal(await a.tryAcquireOrRenew(), false);
    assert.equal(a.isLeader, false);
    assert.deepEqual(events, ['runtime-a started', 'runtime-b started', 'runtime-a stopped']);
  });

  it('a renewal that loses to a concurrent write (409) ends leadership without an error', async () => {
    // GIVEN a leads
    const a = elector('runtime-a');
    await a.tryAcquireOrRenew();
    clock.advance(2_000);
    // AND another writer takes the Lease between a's read and a's write
    api.onRequest = ({ method }) => {
      if (method === 'PUT') {
        api.updateLease(NS, 'elasticai-runtime-leader', (l) => {
          (l.spec as Record<string, unknown>).holderIdentity = 'runtime-c';
        });
      }
    };
    // WHEN a renews THEN its write is rejected as stale, and it is no longer leader
    assert.equal(await a.tryAcquireOrRenew(), false);
    assert.equal(a.isLeader, false);
    assert.equal(api.calls.at(-1)?.status, 409);
    assert.equal(lease().spec.holderIdentity, 'runtime-c');
    assert.deepEqual(events, ['runtime-a started', 'runtime-a stopped']);
    assert.deepEqual(errors, []);
  });

  it('runs the loop: one leader, renewals every retry period, the follower never takes a valid Lease', async () => {
    const a = elector('runtime-a');
    const b = elector('runtime-b');
    a.start();
    await until(() => clock.pending === 1, 'a first round');
    b.start();
    await until(() => clock.pending === 2, 'b first round');
    assert.ok(a.isLeader);
    assert.ok(!b.isLeader);
    for (let i = 1; i <= 15; i++) {
      await tick(2);
      assert.ok(a.isLeader && !b.isLeader, `tick ${i}`);
      assert.equal(lease().spec.renewTime, formatMicroTime(clock.now()));
    }
    assert.deepEqual(events, ['runtime-a started']);
  });

  it('stop() releases the Lease so the other replica takes over at its next retry, long before expiry', async () => {
    const a = elector('runtime-a');
    const b = elector('runtime-b');
    a.start();
    await until(() => clock.pending === 1, 'a first round');
    b.start();
    await until(() => clock.pending === 2, 'b first round');
    // WHEN a stops (rolling update)
    await a.stop();
    // THEN the Lease has no holder and a reported the loss
    assert.equal(lease().spec.holderIdentity, '');
    assert.equal(a.isLeader, false);
    assert.deepEqual(events, ['runtime-a started', 'runtime-a stopped']);
    // AND b leads after one retry period (2 s), not after the 15 s lease duration
    await tick(1);
    assert.ok(b.isLeader);
    assert.equal(lease().spec.holderIdentity, 'runtime-b');
    assert.deepEqual(events, ['runtime-a started', 'runtime-a stopped', 'runtime-b started']);
  });

  it('a leader that cannot renew steps down after the renew deadline, and comes back when the API does', async () => {
    const a = elector('runtime-a');
    a.start();
    await until(() => clock.pending === 1, 'first round');
    assert.ok(a.isLeader);
    // GIVEN the API server answers 503 from now on
    api.unavailable = true;
    // THEN a keeps leading for the renew deadline (10 s after the last renewal) ...
    for (let s = 2; s < 10; s += 2) {
      await tick(1);
      assert.ok(a.isLeader, `still leader ${s} s after the last renewal`);
    }
    // ... and steps down at 10 s, reporting the failures
    await tick(1);
    assert.equal(a.isLeader, false);
    assert.deepEqual(events, ['runtime-a started', 'runtime-a stopped']);
    assert.ok(errors.length >= 5);
    assert.ok(errors.every((e) => (e as { status?: number }).status === 503));
    // WHEN the API server is back THEN a, still the recorded holder, renews and leads again
    api.unavailable = false;
    await tick(1);
    assert.ok(a.isLeader);
    assert.deepEqual(events, ['runtime-a started', 'runtime-a stopped', 'runtime-a started']);
  });

  it('isLeader turns false by itself once the renew deadline passes without a renewal', async () => {
    const a = elector('runtime-a');
    await a.tryAcquireOrRenew();
    clock.advance(9_999);
    assert.ok(a.isLeader);
    clock.advance(1);
    assert.equal(a.isLeader, false);
  });

  it('refuses timings where the renew deadline is not below the lease duration', () => {
    assert.throws(
      () => elector('x', { leaseDurationSeconds: 10, renewDeadlineSeconds: 10 }),
      /renewDeadlineSeconds: must be in \(0, leaseDurationSeconds=10\) \(got 10\)/,
    );
    assert.throws(() => elector('x', { retryPeriodSeconds: 10 }), /retryPeriodSeconds/);
    assert.throws(() => elector(''), /identity/);
  });
});
