/**
 * Admission by memory. Each workload holds its engine, chart and log for as long as it is tracked (a
 * 10-second workload ~100 KiB of resident memory, a 1-minute one ~42 KiB), so enough of them push the
 * runtime past its container's memory limit: the kernel kills it, it restarts, re-registers the same
 * workloads and is killed again, and then no workload gets a decision. Instead, a new workload is
 * refused while the memory in use (what the cgroup counts against the limit), plus what the
 * workloads still loading are expected to take and the growth of those admitted in the last minutes,
 * plus its own expected share and growth, would come within a margin of the limit. KEDA gets
 * UNAVAILABLE for it (its HPA keeps the current replica count, or KEDA's fallback applies) and asks
 * again on its next poll, so it is admitted once memory is freed. Admitted workloads are never evicted.
 *
 * Memory in use, not a model of it, is what the limit applies to; the reservations cover the gap
 * between admitting a workload and its memory having reached its steady size.
 */
import { openSync, readFileSync, readSync } from 'node:fs';

export interface MemoryGuardOptions {
  /** The memory limit the kernel enforces, in bytes. */
  readonly limitBytes: number;
  /**
   * Kept free below the limit, for what grows after admission: garbage not yet collected, refits'
   * second engines, connections and their buffers. @default 10% of the limit, at least 16 MiB
   */
  readonly marginBytes?: number;
  /**
   * Memory counted against the limit now, in bytes. @default processChargedBytes (the runtime passes
   * its cgroup's working set when it has a cgroup)
   */
  readonly usedBytes?: () => number;
  /**
   * What a workload's memory grows by after its first backfill, reserved from its admission until
   * `settleMs` later, when it shows in what is in use: garbage in proportion to the heap, refits'
   * second engines, connection buffers, logs starting to fill. The scaler bench measured 8 KiB at
   * 1 minute (10,000 workloads: 402 MiB in use when loaded, 477–484 MiB a few minutes later).
   * @default 8 KiB
   */
  readonly growthBytes?: number;
  /** How long a workload's growth stays reserved after its admission. @default 10 minutes */
  readonly settleMs?: number;
  /** A monotonic clock in milliseconds. @default performance.now */
  readonly now?: () => number;
}

const MIB = 1024 * 1024;
const DEFAULT_GROWTH_BYTES = 8 * 1024;
const DEFAULT_SETTLE_MS = 10 * 60 * 1000;

export class MemoryGuard {
  readonly limitBytes: number;
  readonly marginBytes: number;
  readonly growthBytes: number;
  private readonly settleMs: number;
  private readonly usedBytes: () => number;
  private readonly now: () => number;
  /** Bytes reserved for admitted workloads whose first backfill is still running. */
  private reserved = 0;
  /** Growth reserved for workloads admitted in the last `settleMs`: when each ends, oldest first. */
  private readonly settling: number[] = [];
  private settlingHead = 0;

  constructor(options: MemoryGuardOptions) {
    if (!(Number.isFinite(options.limitBytes) && options.limitBytes > 0)) {
      throw new RangeError(`limitBytes: must be a positive number of bytes (got ${options.limitBytes})`);
    }
    this.limitBytes = options.limitBytes;
    this.marginBytes = options.marginBytes ?? Math.max(16 * MIB, Math.round(options.limitBytes / 10));
    this.growthBytes = options.growthBytes ?? DEFAULT_GROWTH_BYTES;
    this.settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
    this.usedBytes = options.usedBytes ?? processChargedBytes;
    this.now = options.now ?? (() => performance.now());
  }

  /** Bytes reserved for workloads still loading, and for the growth of those still settling. */
  get pendingBytes(): number {
    return this.reserved + this.settlingBytes();
  }

  /**
   * Reserves `bytes` for a workload about to load, and its growth until it has settled; returns
   * undefined when admitted, otherwise why not (for the UNAVAILABLE answer, so it names the numbers
   * and what to change). `bytes` may be a function: it is only called when there is room at all, so
   * a refused workload, which KEDA asks about again on every poll, costs no allocation.
   */
  reserve(bytes: number | (() => number)): string | undefined {
    const used = this.usedBytes();
    const pending = this.pendingBytes;
    const room = this.limitBytes - this.marginBytes;
    const full = used + pending + this.growthBytes >= room;
    const wanted = full ? 0 : (typeof bytes === 'number' ? bytes : bytes()) + this.growthBytes;
    if (full || used + pending + wanted >= room) {
      return (
        `refused: not enough memory (in use ${mib(used)} MiB + loading and settling ${mib(pending)} MiB + ` +
        `this workload ${mib(wanted)} MiB ≥ ${mib(room)} MiB: the ${mib(this.limitBytes)} MiB limit less ` +
        `${mib(this.marginBytes)} MiB); raise the runtime's memory limit or run fewer workloads on it`
      );
    }
    this.reserved += wanted - this.growthBytes;
    this.settling.push(this.now() + this.settleMs);
    return undefined;
  }

  /**
   * Whether `bytes` more fit below the limit less the margin, next to what is in use and reserved
   * (for other growth than workloads': the webhook's event buckets). Reserves nothing: the bytes show in
   * what is in use once allocated.
   */
  hasRoomFor(bytes: number): boolean {
    return this.usedBytes() + this.pendingBytes + bytes < this.limitBytes - this.marginBytes;
  }

  /** Gives back a reservation (the workload's backfill has run, or it was removed). */
  release(bytes: number): void {
    this.reserved = Math.max(0, this.reserved - bytes);
  }

  /** Growth still reserved; forgets the workloads that have settled. */
  private settlingBytes(): number {
    const now = this.now();
    while (this.settlingHead < this.settling.length && (this.settling[this.settlingHead] as number) <= now) {
      this.settlingHead++;
    }
    if (this.settlingHead > 1024 && this.settlingHead * 2 > this.settling.length) {
      this.settling.splice(0, this.settlingHead);
      this.settlingHead = 0;
    }
    return (this.settling.length - this.settlingHead) * this.growthBytes;
  }
}

/**
 * What the memory cgroup charges for this process when it runs alone in its container (no cgroup to
 * ask): resident memory of every kind (/proc/self/status VmRSS: anonymous, shared and the pages of the
 * node binary and libraries, which the container is the first to load) plus its page tables (VmPTE).
 * Falls back to RSS where /proc is missing.
 */
export function processChargedBytes(): number {
  const status = PROC_STATUS.read();
  const rss = status === undefined ? undefined : VM_RSS.exec(status)?.[1];
  if (rss === undefined) return process.memoryUsage.rss();
  return (Number(rss) + Number(VM_PTE.exec(status as string)?.[1] ?? 0)) * 1024;
}

const VM_RSS = /^VmRSS:\s+(\d+) kB/m;
const VM_PTE = /^VmPTE:\s+(\d+) kB/m;

/**
 * A kernel-generated file (procfs, cgroupfs) read afresh through a descriptor opened once: the kernel
 * regenerates it on a read at offset 0, 2–6 µs a reading against 27–34 µs for open, read and close
 * (a refused workload is re-checked on each of KEDA's polls). Undefined when it cannot be read.
 */
class KernelFile {
  private fd: number | null | undefined;
  private static readonly buffer = Buffer.alloc(8192);

  constructor(readonly path: string) {}

  read(): string | undefined {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.path, 'r');
      } catch {
        this.fd = null;
      }
    }
    if (this.fd === null) return undefined;
    const buffer = KernelFile.buffer;
    try {
      const length = readSync(this.fd, buffer, 0, buffer.length, 0);
      if (length < buffer.length) return buffer.toString('latin1', 0, length);
      return readFileSync(this.path, 'latin1');
    } catch {
      return undefined;
    }
  }
}

const PROC_STATUS = new KernelFile('/proc/self/status');

function mib(bytes: number): string {
  return (bytes / MIB).toFixed(1);
}

/** Values cgroups use for "no limit" (v1 writes the largest page-aligned int64). */
const NO_LIMIT = 2 ** 60;

/** A memory cgroup with a limit: what the kernel enforces and what it counts against it. */
export interface CgroupMemory {
  /** The limit, in bytes. */
  readonly limitBytes: number;
  /**
   * The cgroup's working set, in bytes: what it is charged (anonymous memory, file pages, page
   * tables, kernel memory) less the inactive file pages the kernel drops before it kills anyone, as
   * the kubelet counts it. Every process of the container is in it, so is everything they load.
   */
  readonly usedBytes: () => number;
}

/**
 * This process's memory cgroup and its limit; undefined when unlimited or unreadable. The process's
 * own cgroup (from /proc/self/cgroup) is read first, then the mount's root: in a container with its
 * own cgroup namespace both are the container's, and without one the root is. `read` is for tests:
 * without it the usage files are kept open and re-read.
 */
export function cgroupMemory(read?: (path: string) => string): CgroupMemory | undefined {
  const readOnce = read ?? ((path: string) => readFileSync(path, 'utf8'));
  for (const { folder, v2 } of cgroupFolders(readOnce)) {
    let text: string;
    try {
      text = readOnce(`${folder}/${v2 ? 'memory.max' : 'memory.limit_in_bytes'}`).trim();
    } catch {
      continue;
    }
    if (text === 'max') return undefined;
    if (!/^\d+$/.test(text)) continue;
    const bytes = Number(text);
    if (!(bytes > 0 && bytes < NO_LIMIT)) return undefined;
    return { limitBytes: bytes, usedBytes: workingSet(folder, v2, read) };
  }
  return undefined;
}

/** Reads a cgroup's usage less its inactive file pages; this process's charge where it cannot. */
function workingSet(folder: string, v2: boolean, read?: (path: string) => string): () => number {
  const file = (name: string): (() => string | undefined) => {
    const path = `${folder}/${name}`;
    if (read === undefined) {
      const kernelFile = new KernelFile(path);
      return () => kernelFile.read();
    }
    return () => {
      try {
        return read(path);
      } catch {
        return undefined;
      }
    };
  };
  const usage = file(v2 ? 'memory.current' : 'memory.usage_in_bytes');
  const stat = file('memory.stat');
  const inactiveFile = v2 ? /^inactive_file (\d+)$/m : /^total_inactive_file (\d+)$/m;
  return () => {
    const used = usage()?.trim();
    if (used === undefined || !/^\d+$/.test(used)) return processChargedBytes();
    const inactive = Number(inactiveFile.exec(stat() ?? '')?.[1] ?? 0);
    return Math.max(0, Number(used) - inactive);
  };
}

/** Folders that may hold the limit, most specific first (cgroup v2, then v1's memory controller). */
function cgroupFolders(read: (path: string) => string): { folder: string; v2: boolean }[] {
  const own: { folder: string; v2: boolean }[] = [];
  let lines: string[] = [];
  try {
    lines = read('/proc/self/cgroup').split('\n');
  } catch {
    // Not Linux, or /proc not mounted: only the roots.
  }
  for (const line of lines) {
    const [, controllers, path] = /^\d+:([^:]*):(\/.*)$/.exec(line.trim()) ?? [];
    if (path === undefined || path === '/') continue;
    if (controllers === '') own.push({ folder: `/sys/fs/cgroup${path}`, v2: true });
    else if (controllers?.split(',').includes('memory'))
      own.push({ folder: `/sys/fs/cgroup/memory${path}`, v2: false });
  }
  return [...own, { folder: '/sys/fs/cgroup', v2: true }, { folder: '/sys/fs/cgroup/memory', v2: false }];
}
