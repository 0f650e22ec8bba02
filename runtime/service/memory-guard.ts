/**
 * Admission by memory. Each workload holds its engine, chart and log for as long as it is tracked (a
 * 10-second workload ~100 KiB of resident memory, a 1-minute one ~42 KiB), so enough of them push the
 * runtime past its container's memory limit: the kernel kills it, it restarts, re-registers the same
 * workloads and is killed again, and then no workload gets a decision. Instead, a new workload is
 * refused while resident memory, plus what the workloads still loading are expected to take, plus its
 * own expected share, would come within a margin of the limit. KEDA gets UNAVAILABLE for it (its HPA
 * keeps the current replica count, or KEDA's fallback applies) and asks again on its next poll, so it
 * is admitted once memory is freed. Admitted workloads are never evicted.
 *
 * Resident memory, not a model of it, is what the limit applies to; the reservations cover the gap
 * between admitting a workload and its backfill having filled its state.
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
  /** Resident memory now, in bytes. @default anonymousResidentBytes */
  readonly residentBytes?: () => number;
}

const MIB = 1024 * 1024;

export class MemoryGuard {
  readonly limitBytes: number;
  readonly marginBytes: number;
  private readonly residentBytes: () => number;
  /** Bytes reserved for admitted workloads whose first backfill is still running. */
  private reserved = 0;

  constructor(options: MemoryGuardOptions) {
    if (!(Number.isFinite(options.limitBytes) && options.limitBytes > 0)) {
      throw new RangeError(`limitBytes: must be a positive number of bytes (got ${options.limitBytes})`);
    }
    this.limitBytes = options.limitBytes;
    this.marginBytes = options.marginBytes ?? Math.max(16 * MIB, Math.round(options.limitBytes / 10));
    this.residentBytes = options.residentBytes ?? anonymousResidentBytes;
  }

  /** Bytes reserved for workloads still loading. */
  get pendingBytes(): number {
    return this.reserved;
  }

  /**
   * Reserves `bytes` for a workload about to load; returns undefined when admitted, otherwise why not
   * (for the UNAVAILABLE answer, so it names the numbers and what to change). `bytes` may be a
   * function: it is only called when there is room at all, so a refused workload, which KEDA asks
   * about again on every poll, costs no allocation.
   */
  reserve(bytes: number | (() => number)): string | undefined {
    const resident = this.residentBytes();
    const room = this.limitBytes - this.marginBytes;
    const wanted = resident + this.reserved >= room ? 0 : typeof bytes === 'number' ? bytes : bytes();
    if (resident + this.reserved + wanted >= room) {
      return (
        `refused: not enough memory (resident ${mib(resident)} MiB + loading ${mib(this.reserved)} MiB + ` +
        `this workload ${mib(wanted)} MiB ≥ ${mib(room)} MiB: the ${mib(this.limitBytes)} MiB limit less ` +
        `${mib(this.marginBytes)} MiB); raise the runtime's memory limit or run fewer workloads on it`
      );
    }
    this.reserved += wanted;
    return undefined;
  }

  /** Gives back a reservation (the workload's backfill has run, or it was removed). */
  release(bytes: number): void {
    this.reserved = Math.max(0, this.reserved - bytes);
  }
}

/**
 * The process's anonymous resident memory (/proc/self/status RssAnon + RssShmem): what its heap,
 * buffers and threads use, and what the memory cgroup charges it. Plain RSS also counts the pages of
 * the node binary and libraries (~40 MiB here), which are shared and charged to whoever loaded them
 * first. Falls back to RSS where /proc is missing.
 */
export function anonymousResidentBytes(): number {
  const status = procStatus();
  if (status === undefined) return process.memoryUsage.rss();
  const anon = RSS_ANON.exec(status)?.[1];
  return anon === undefined
    ? process.memoryUsage.rss()
    : (Number(anon) + Number(RSS_SHMEM.exec(status)?.[1] ?? 0)) * 1024;
}

const RSS_ANON = /^RssAnon:\s+(\d+) kB/m;
const RSS_SHMEM = /^RssShmem:\s+(\d+) kB/m;
/** /proc/self/status, kept open: a refused workload is re-checked on each of KEDA's polls. */
let statusFd: number | null | undefined;
const statusBuffer = Buffer.alloc(8192);

/**
 * /proc/self/status read afresh (procfs regenerates it on a read at offset 0) through a descriptor
 * opened once: 5–6 µs a reading, against 27–34 µs for open, read and close. Undefined without /proc.
 */
function procStatus(): string | undefined {
  if (statusFd === undefined) {
    try {
      statusFd = openSync('/proc/self/status', 'r');
    } catch {
      statusFd = null;
    }
  }
  if (statusFd === null) return undefined;
  try {
    const length = readSync(statusFd, statusBuffer, 0, statusBuffer.length, 0);
    if (length < statusBuffer.length) return statusBuffer.toString('latin1', 0, length);
    return readFileSync('/proc/self/status', 'latin1');
  } catch {
    return undefined;
  }
}

function mib(bytes: number): string {
  return (bytes / MIB).toFixed(1);
}

/** Values cgroups use for "no limit" (v1 writes the largest page-aligned int64). */
const NO_LIMIT = 2 ** 60;

/**
 * This process's memory limit from its cgroup, in bytes; undefined when unlimited or unreadable. The
 * process's own cgroup (from /proc/self/cgroup) is read first, then the mount's root: in a container
 * with its own cgroup namespace both are the container's, and without one the root is.
 */
export function cgroupMemoryLimit(
  read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): number | undefined {
  for (const path of cgroupLimitFiles(read)) {
    let text: string;
    try {
      text = read(path).trim();
    } catch {
      continue;
    }
    if (text === 'max') return undefined;
    if (!/^\d+$/.test(text)) continue;
    const bytes = Number(text);
    return bytes > 0 && bytes < NO_LIMIT ? bytes : undefined;
  }
  return undefined;
}

/** Files that may hold the limit, most specific first (cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`). */
function cgroupLimitFiles(read: (path: string) => string): string[] {
  const own: string[] = [];
  let lines: string[] = [];
  try {
    lines = read('/proc/self/cgroup').split('\n');
  } catch {
    // Not Linux, or /proc not mounted: only the roots.
  }
  for (const line of lines) {
    const [, controllers, path] = /^\d+:([^:]*):(\/.*)$/.exec(line.trim()) ?? [];
    if (path === undefined || path === '/') continue;
    if (controllers === '') own.push(`/sys/fs/cgroup${path}/memory.max`);
    else if (controllers?.split(',').includes('memory'))
      own.push(`/sys/fs/cgroup/memory${path}/memory.limit_in_bytes`);
  }
  return [...own, '/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];
}
