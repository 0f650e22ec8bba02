import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MemoryGuard,
  anonymousResidentBytes,
  cgroupMemoryLimit,
} from '../../../runtime/service/memory-guard.js';

const MIB = 1024 * 1024;

/** A read() over a fake file system; anything else is ENOENT. */
function files(contents: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = contents[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  };
}

describe('MemoryGuard', () => {
  it('admits while resident + loading + the new workload stay below the limit less the margin', () => {
    // GIVEN a 512 MiB limit, a 16 MiB margin and 400 MiB resident
    const resident = { bytes: 400 * MIB };
    const guard = new MemoryGuard({
      limitBytes: 512 * MIB,
      marginBytes: 16 * MIB,
      residentBytes: () => resident.bytes,
    });
    // WHEN workloads of 40 MiB each ask to load
    // THEN two fit (400 + 40 + 40 ≤ 496), the third would not: the reservations count
    assert.equal(guard.reserve(40 * MIB), undefined);
    assert.equal(guard.reserve(40 * MIB), undefined);
    assert.equal(guard.pendingBytes, 80 * MIB);
    const refusal = guard.reserve(40 * MIB);
    assert.match(
      refusal ?? '',
      /not enough memory \(resident 400\.0 MiB \+ loading 80\.0 MiB \+ this workload 40\.0 MiB ≥ 496\.0 MiB/,
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

  it('keeps 10% of the limit free by default, at least 16 MiB, and refuses a limit that is not one', () => {
    assert.equal(new MemoryGuard({ limitBytes: 512 * MIB }).marginBytes, Math.round(51.2 * MIB));
    assert.equal(new MemoryGuard({ limitBytes: 64 * MIB }).marginBytes, 16 * MIB);
    for (const limitBytes of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new MemoryGuard({ limitBytes }), /limitBytes: must be a positive number/);
    }
  });

  it("measures the process's anonymous resident memory, which grows with what it allocates", () => {
    const before = anonymousResidentBytes();
    assert.ok(before > 0 && before <= process.memoryUsage.rss(), 'no more than RSS (no shared files)');
    const block = Buffer.alloc(64 * MIB, 1); // written, so resident
    const after = anonymousResidentBytes();
    assert.ok(after - before >= 60 * MIB, `grew by ${(after - before) / MIB} MiB`);
    assert.equal(block[block.length - 1], 1);
  });
});

describe('cgroupMemoryLimit', () => {
  it("reads the process's own cgroup first: v2 memory.max, v1 memory.limit_in_bytes", () => {
    const v2 = files({
      '/proc/self/cgroup': '0::/kubepods/pod1/ctr\n',
      '/sys/fs/cgroup/kubepods/pod1/ctr/memory.max': '536870912\n',
      '/sys/fs/cgroup/memory.max': 'max\n',
    });
    assert.equal(cgroupMemoryLimit(v2), 512 * MIB);
    const v1 = files({
      '/proc/self/cgroup': '9:cpu,cpuacct:/x\n4:memory:/elasticai-bench\n',
      '/sys/fs/cgroup/memory/elasticai-bench/memory.limit_in_bytes': '268435456',
      '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712',
    });
    assert.equal(cgroupMemoryLimit(v1), 256 * MIB);
  });

  it("falls back to the mount's root (a container's own namespace), and knows 'no limit'", () => {
    // A container with its own cgroup namespace sees itself at "/"
    assert.equal(
      cgroupMemoryLimit(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/memory.max': '1073741824' })),
      1024 * MIB,
    );
    // v1 without a namespace: the own path is not mounted, the root is the container's
    assert.equal(
      cgroupMemoryLimit(
        files({
          '/proc/self/cgroup': '4:memory:/docker/abc\n',
          '/sys/fs/cgroup/memory/memory.limit_in_bytes': '134217728',
        }),
      ),
      128 * MIB,
    );
    assert.equal(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory.max': 'max' })), undefined);
    assert.equal(
      cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712' })),
      undefined,
    );
    assert.equal(cgroupMemoryLimit(files({})), undefined);
    assert.equal(cgroupMemoryLimit(files({ '/sys/fs/cgroup/memory.max': 'garbage' })), undefined);
  });
});
