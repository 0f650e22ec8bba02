import { type Size, SizeRoundingBehavior } from 'cdk8s';
import { k8s, type Cpu } from 'cdk8s-plus-28';
import { PropError } from './validation.js';

/**
 * CPU and memory for one container. Requests are required: the scheduler, the HPA's utilisation
 * maths and the cluster-autoscaler's bin-packing all depend on them.
 */
export interface ContainerResources {
  readonly cpu: {
    /** CPU the scheduler reserves; the HPA's utilisation is measured against it. */
    readonly request: Cpu;
    /** CPU ceiling (throttled above). @default twice the request */
    readonly limit?: Cpu;
  };
  readonly memory: {
    /** Memory the scheduler reserves. */
    readonly request: Size;
    /** Memory ceiling (OOM-killed above). @default equal to the request, so pods are never overcommitted */
    readonly limit?: Size;
  };
}

/** Validated requests and limits of one container, in millicores and KiB, defaults applied. */
export interface ResourceAmounts {
  readonly cpuRequestMillis: number;
  readonly cpuLimitMillis: number;
  readonly memoryRequestKiB: number;
  readonly memoryLimitKiB: number;
}

/** CPU amount in millicores from cdk8s-plus's Cpu ("250m" or "1.5"). */
export function cpuMillis(cpu: Cpu): number {
  const amount = cpu.amount;
  return amount.endsWith('m') ? Number(amount.slice(0, -1)) : Math.round(Number(amount) * 1000);
}

/**
 * CPU amount in millicores, refusing NaN, infinite, non-positive and sub-millicore amounts (finer
 * than Kubernetes' 1m precision); `prop` names the prop in error messages.
 */
export function positiveCpuMillis(prop: string, cpu: Cpu): number {
  const amount = cpu.amount;
  const raw = amount.endsWith('m') ? Number(amount.slice(0, -1)) : Number(amount) * 1000;
  if (Number.isNaN(raw) || Math.abs(raw) === Infinity) {
    throw new PropError(prop, amount, 'must be a finite CPU amount');
  }
  if (!(raw > 0)) throw new PropError(prop, amount, 'must be > 0');
  if (raw < 1) {
    throw new PropError(
      prop,
      amount,
      'is below 1 millicore (0.001 CPU), the finest CPU amount Kubernetes takes',
    );
  }
  return cpuMillis(cpu);
}

/** Memory in KiB, refusing NaN and infinite sizes and sizes <= 0 (< 0 with `allowZero`). */
export function memoryKiB(prop: string, size: Size, allowZero = false): number {
  const kib = size.toKibibytes({ rounding: SizeRoundingBehavior.NONE });
  if (Number.isNaN(kib) || Math.abs(kib) === Infinity) {
    throw new PropError(prop, size.asString(), 'must be a finite size');
  }
  if (allowZero ? !(kib >= 0) : !(kib > 0)) {
    throw new PropError(prop, size.asString(), allowZero ? 'must be >= 0' : 'must be > 0');
  }
  return kib;
}

/**
 * Validates resources and applies the defaults (CPU limit 2× request, memory limit = request);
 * `prop` names the resources prop in error messages.
 */
export function resourceAmounts(prop: string, resources: ContainerResources): ResourceAmounts {
  const cpuRequest = positiveCpuMillis(`${prop}.cpu.request`, resources.cpu.request);
  const cpuLimit = resources.cpu.limit
    ? positiveCpuMillis(`${prop}.cpu.limit`, resources.cpu.limit)
    : cpuRequest * 2;
  const memRequest = memoryKiB(`${prop}.memory.request`, resources.memory.request);
  const memLimit = resources.memory.limit
    ? memoryKiB(`${prop}.memory.limit`, resources.memory.limit)
    : memRequest;
  if (cpuLimit < cpuRequest) {
    throw new PropError(
      `${prop}.cpu.limit`,
      formatCpu(cpuLimit),
      `must be >= cpu.request (${formatCpu(cpuRequest)})`,
    );
  }
  if (memLimit < memRequest) {
    throw new PropError(
      `${prop}.memory.limit`,
      formatMemory(memLimit),
      `must be >= memory.request (${formatMemory(memRequest)})`,
    );
  }
  return {
    cpuRequestMillis: cpuRequest,
    cpuLimitMillis: cpuLimit,
    memoryRequestKiB: memRequest,
    memoryLimitKiB: memLimit,
  };
}

/** Millicores as a Kubernetes quantity string ("250m", "2000m"). */
export function formatCpu(millis: number): string {
  return `${millis}m`;
}

/** KiB as a Kubernetes quantity string, in Mi when exact ("512Mi", "2048Mi"), else Ki. */
export function formatMemory(kibibytes: number): string {
  return kibibytes % 1024 === 0 ? `${kibibytes / 1024}Mi` : `${Math.ceil(kibibytes)}Ki`;
}

/** Renders validated requests and limits; `prop` names the resources prop in error messages. */
export function renderResources(prop: string, resources: ContainerResources): k8s.ResourceRequirements {
  const a = resourceAmounts(prop, resources);
  return {
    requests: {
      cpu: k8s.Quantity.fromString(formatCpu(a.cpuRequestMillis)),
      memory: k8s.Quantity.fromString(formatMemory(a.memoryRequestKiB)),
    },
    limits: {
      cpu: k8s.Quantity.fromString(formatCpu(a.cpuLimitMillis)),
      memory: k8s.Quantity.fromString(formatMemory(a.memoryLimitKiB)),
    },
  };
}
