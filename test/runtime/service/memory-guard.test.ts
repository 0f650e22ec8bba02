import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MemoryGuard, cgroupMemory, processChargedBytes } from '../../../runtime/service/memory-guard.js';

const MIB = 1024 * 1024;

/** A read() over a fake file system; anything else is ENOENT. */
function files(contents: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = contents[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  };
}

/** Runs node with `args` inside the cgroup `folder` from its first instruction; resolves with stdout. */
function runIn(folder: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      '/bin/sh',
      ['-c', `echo $$ > ${folder}/cgroup.procs && exec "$@"`, 'sh', process.execPath, ...args],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exited with ${code}`))));
  });
}

describe('MemoryGuard', () => {
  it('admits while resident + loading + the new workload stay below the limit less the margin', () => {
    // GIVEN a 512 MiB limit, a 16 MiB margin and 400 MiB resident
    const resident = { bytes: 400 * MIB };
    const guard = new MemoryGuard({
      limitBytes: 512 * MIB,
      marginBytes: 16 * MIB,
      usedBytes: () => resident.bytes,
      growthBytes: 0,
    });
    // WHEN workloads of 40 MiB each ask to load
    // THEN two fit (400 + 40 + 40 ≤ 496), the third would not: the reservations count
    assert.equal(guard.reserve(40 * MIB), undefined);
    assert.equal(guard.reserve(40 * MIB), undefined);
    assert.equal(guard.pendingBytes, 80 * MIB);
    const refusal = guard.reserve(40 * MIB);
    assert.match(
      refusal ?? '',
      /not enough memory \(in use 400\.0 MiB \+ loading and settling 80\.0 MiB \+ this workload 40\.0 MiB ≥ 496\.0 MiB/,
    );
    assert.match(refusal ?? '', /raise the runtime's memory limit/);
    assert.equal(guard.pendingBytes, 80 * MIB, 'a refusal reserves nothing');

    // AND once a backfill has run (its memory now resident) the next one fits again
    guard.release(40 * MIB);
    resident.bytes = 410 * MIB;
    assert.equal(guard.reserve(40 * MIB), undefined);
    // AND when memory is already full, the workload's size is not even computed (no engine is built)
    resident.bytes = 500 * MIB;
    let sized = false;
    assert.match(guard.reserve(() => ((sized = true), MIB)) ?? '', /this workload 0\.0 MiB/);
    assert.equal(sized, false);
    resident.bytes = 100 * MIB;
    assert.equal(
      guard.reserve(() => ((sized = true), MIB)),
      undefined,
    );
    assert.equal(sized, true);
    // AND releases never take the reservations below zero
    guard.release(10_000 * MIB);
    assert.equal(guard.pendingBytes, 0);
  });

  it('says whether other growth fits next to what is in use and reserved, without reserving it', () => {
    // GIVEN 1000 MiB, 100 MiB margin, 700 MiB in use and a workload of 100 MiB loading
    const guard = new MemoryGuard({
      limitBytes: 1000 * MIB,
      marginBytes: 100 * MIB,
      usedBytes: () => 700 * MIB,
      growthBytes: 0,
    });
    assert.equal(guard.reserve(100 * MIB), undefined);
    // THEN 99 MiB more fit below the 900 MiB room, 100 MiB do not, and asking reserved nothing
    assert.equal(guard.hasRoomFor(99 * MIB), true);
    assert.equal(guard.hasRoomFor(100 * MIB), false);
    assert.equal(guard.pendingBytes, 100 * MIB);
  });

  it("reserves each workload's growth from its admission until it has settled", () => {
    // GIVEN 440 MiB in use, 56 MiB of room, and a growth of 10 MiB a workload that settles in 60 s
    const clock = { ms: 0 };
    const guard = new MemoryGuard({
      limitBytes: 512 * MIB,
      marginBytes: 16 * MIB,
      usedBytes: () => 440 * MIB,
      growthBytes: 10 * MIB,
      settleMs: 60_000,
      now: () => clock.ms,
    });
    // WHEN workloads of 20 MiB load and finish their backfill at once
    assert.equal(guard.reserve(20 * MIB), undefined);
    guard.release(20 * MIB);
    assert.equal(guard.pendingBytes, 10 * MIB, 'the growth stays reserved after the backfill');
    clock.ms = 30_000;
    assert.equal(guard.reserve(20 * MIB), undefined);
    guard.release(20 * MIB);
    clock.ms = 59_999;
    assert.equal(guard.reserve(20 * MIB), undefined);
    guard.release(20 * MIB);
    // THEN a fourth does not fit while the first three settle (440 + 30 + 30 > 496)
    assert.equal(guard.pendingBytes, 30 * MIB);
    assert.match(guard.reserve(20 * MIB) ?? '', /loading and settling 30\.0 MiB \+ this workload 30\.0 MiB/);
    // AND once the first has settled (its growth now shows in what is in use) it does
    clock.ms = 60_000;
    assert.equal(guard.pendingBytes, 20 * MIB);
    assert.equal(guard.reserve(20 * MIB), undefined);
    // AND when all have settled nothing is left reserved but the one still loading
    clock.ms = 200_000;
    assert.equal(guard.pendingBytes, 20 * MIB);
    guard.release(20 * MIB);
    assert.equal(guard.pendingBytes, 0);
  });

  it('forgets thousands of settled workloads without holding on to them', () => {
    const clock = { ms: 0 };
    const guard = new MemoryGuard({
      limitBytes: 1e12,
      usedBytes: () => 0,
      growthBytes: 1,
      settleMs: 10,
      now: () => clock.ms,
    });
    for (let k = 0; k < 5000; k++) {
      clock.ms = k;
      assert.equal(guard.reserve(0), undefined);
    }
    assert.equal(guard.pendingBytes, 10, 'the last ten are settling');
    clock.ms = 10_000;
    assert.equal(guard.pendingBytes, 0);
  });

  it('keeps 10% of the limit free by default, at least 16 MiB, and refuses a limit that is not one', () => {
    assert.equal(new MemoryGuard({ limitBytes: 512 * MIB }).marginBytes, Math.round(51.2 * MIB));
    assert.equal(new MemoryGuard({ limitBytes: 64 * MIB }).marginBytes, 16 * MIB);
    for (const limitBytes of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new MemoryGuard({ limitBytes }), /limitBytes: must be a positive number/);
    }
  });

  it("measures what the process is charged, which grows with what it allocates and counts its binary's pages", () => {
    const before = processChargedBytes();
    // The node binary's resident pages count (a container's cgroup is charged for them): more than
    // the anonymous memory alone
    const status = readFileSync('/proc/self/status', 'latin1');
    const anon = Number(/^RssAnon:\s+(\d+) kB/m.exec(status)?.[1]) * 1024;
    assert.ok(before >= process.memoryUsage.rss() - 4 * MIB, 'at least RSS');
    assert.ok(before > anon + 4 * MIB, `${before} vs anonymous ${anon}`);
    const block = Buffer.alloc(64 * MIB, 1); // written, so resident
    const after = processChargedBytes();
    assert.ok(after - before >= 60 * MIB, `grew by ${(after - before) / MIB} MiB`);
    assert.equal(block[block.length - 1], 1);
  });
});

describe('cgroupMemory', () => {
  const limitOf = (read: (path: string) => string): number | undefined => cgroupMemory(read)?.limitBytes;

  it("reads the process's own cgroup first: v2 memory.max, v1 memory.limit_in_bytes", () => {
    const v2 = files({
      '/proc/self/cgroup': '0::/kubepods/pod1/ctr\n',
      '/sys/fs/cgroup/kubepods/pod1/ctr/memory.max': '536870912\n',
      '/sys/fs/cgroup/memory.max': 'max\n',
    });
    assert.equal(limitOf(v2), 512 * MIB);
    const v1 = files({
      '/proc/self/cgroup': '9:cpu,cpuacct:/x\n4:memory:/elasticai-bench\n',
      '/sys/fs/cgroup/memory/elasticai-bench/memory.limit_in_bytes': '268435456',
      '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712',
    });
    assert.equal(limitOf(v1), 256 * MIB);
  });

  it("falls back to the mount's root (a container's own namespace), and knows 'no limit'", () => {
    // A container with its own cgroup namespace sees itself at "/"
    assert.equal(
      limitOf(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/memory.max': '1073741824' })),
      1024 * MIB,
    );
    // v1 without a namespace: the own path is not mounted, the root is the container's
    assert.equal(
      limitOf(
        files({
          '/proc/self/cgroup': '4:memory:/docker/abc\n',
          '/sys/fs/cgroup/memory/memory.limit_in_bytes': '134217728',
        }),
      ),
      128 * MIB,
    );
    assert.equal(limitOf(files({ '/sys/fs/cgroup/memory.max': 'max' })), undefined);
    assert.equal(
      limitOf(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712' })),
      undefined,
    );
    assert.equal(limitOf(files({})), undefined);
    assert.equal(limitOf(files({ '/sys/fs/cgroup/memory.max': 'garbage' })), undefined);
  });

  it('counts the working set of the folder the limit came from: usage less inactive file pages', () => {
    // GIVEN a v2 container charged 300 MiB, 40 MiB of it inactive file pages (droppable cache)
    const v2 = {
      '/proc/self/cgroup': '0::/kubepods/pod1/ctr\n',
      '/sys/fs/cgroup/kubepods/pod1/ctr/memory.max': '536870912\n',
      '/sys/fs/cgroup/kubepods/pod1/ctr/memory.current': `${300 * MIB}\n`,
      '/sys/fs/cgroup/kubepods/pod1/ctr/memory.stat': `anon ${250 * MIB}\nfile ${50 * MIB}\nactive_file ${10 * MIB}\ninactive_file ${40 * MIB}\n`,
      // the root's figures are not the container's
      '/sys/fs/cgroup/memory.current': `${9000 * MIB}\n`,
    };
    const container = cgroupMemory(files(v2));
    // THEN 260 MiB is in use, and it is re-read on every call
    assert.equal(container?.usedBytes(), 260 * MIB);
    v2['/sys/fs/cgroup/kubepods/pod1/ctr/memory.current'] = `${320 * MIB}\n`;
    assert.equal(container?.usedBytes(), 280 * MIB);

    // GIVEN cgroup v1, where memory.stat's hierarchical total_inactive_file is the one to take
    const v1 = files({
      '/proc/self/cgroup': '4:memory:/bench\n',
      '/sys/fs/cgroup/memory/bench/memory.limit_in_bytes': '536870912',
      '/sys/fs/cgroup/memory/bench/memory.usage_in_bytes': `${200 * MIB}`,
      '/sys/fs/cgroup/memory/bench/memory.stat': `inactive_file ${1 * MIB}\ntotal_inactive_file ${30 * MIB}\n`,
    });
    assert.equal(cgroupMemory(v1)?.usedBytes(), 170 * MIB);

    // GIVEN a limit but no readable usage: the process's own charge, never 0
    const blind = cgroupMemory(files({ '/sys/fs/cgroup/memory.max': '536870912' }));
    assert.ok((blind?.usedBytes() ?? 0) >= process.memoryUsage.rss() - 4 * MIB);
  });

  it('reads a real cgroup: its limit, and a working set that follows what the process allocates', async (t) => {
    // GIVEN a process in a memory cgroup of its own with a 1 GiB limit (cgroup v1 as root, as the
    // scaler bench makes one; skipped where this machine does not allow it)
    const folder = `/sys/fs/cgroup/memory/elasticai-test-${process.pid}`;
    try {
      mkdirSync(folder);
      writeFileSync(`${folder}/memory.limit_in_bytes`, String(1024 * MIB));
    } catch (error) {
      t.skip(`cannot make a memory cgroup here: ${(error as Error).message}`);
      return;
    }
    try {
      // WHEN it measures itself, allocates 64 MiB and measures again
      const guard = new URL('../../../runtime/service/memory-guard.js', import.meta.url).href;
      const script =
        `const { cgroupMemory } = await import(${JSON.stringify(guard)});` +
        `const c = cgroupMemory(); const before = c.usedBytes(); const b = Buffer.alloc(${64 * MIB}, 1);` +
        `console.log(JSON.stringify({ limit: c.limitBytes, before, after: c.usedBytes(), b: b[0] }));`;
      const out = await runIn(folder, ['--input-type=module', '-e', script]);
      const { limit, before, after } = JSON.parse(out) as { limit: number; before: number; after: number };
      // THEN the limit is its cgroup's, and the working set grew by what it allocated
      assert.equal(limit, 1024 * MIB);
      assert.ok(before > 2 * MIB, `before ${before}`);
      assert.ok(
        after - before >= 60 * MIB && after - before < 80 * MIB,
        `grew by ${(after - before) / MIB} MiB`,
      );
    } finally {
      rmdirSync(folder);
    }
  });
});
