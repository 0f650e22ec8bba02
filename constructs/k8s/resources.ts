import type { Size } from 'cdk8s';
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

/** CPU amount in millicores from cdk8s-plus's Cpu ("250m" or "1.5"). */
export function cpuMillis(cpu: Cpu): number {
  const amount = cpu.amount;
  return amount.endsWith('m') ? Number(amount.slice(0, -1)) : Math.round(Number(amount) * 1000);
}

/** Renders validated requests and limits; `prop` names the resources prop in error messages. */
export function renderResources(prop: string, resources: ContainerResources): k8s.ResourceRequirements {
  const cpuRequest = cpuMillis(resources.cpu.request);
  const cpuLimit = resources.cpu.limit ? cpuMillis(resources.cpu.limit) : cpuRequest * 2;
  const memRequest = resources.memory.request.toMebibytes();
  const memLimit = resources.memory.limit ? resources.memory.limit.toMebibytes() : memRequest;
  if (!(cpuRequest > 0))
    throw new PropError(`${prop}.cpu.request`, resources.cpu.request.amount, 'must be > 0');
  if (!(memRequest > 0)) throw new PropError(`${prop}.memory.request`, `${memRequest}Mi`, 'must be > 0');
  if (cpuLimit < cpuRequest) {
    throw new PropError(`${prop}.cpu.limit`, `${cpuLimit}m`, `must be >= cpu.request (${cpuRequest}m)`);
  }
  if (memLimit < memRequest) {
    throw new PropError(
      `${prop}.memory.limit`,
      `${memLimit}Mi`,
      `must be >= memory.request (${memRequest}Mi)`,
    );
  }
  return {
    requests: {
      cpu: k8s.Quantity.fromString(`${cpuRequest}m`),
      memory: k8s.Quantity.fromString(`${memRequest}Mi`),
    },
    limits: {
      cpu: k8s.Quantity.fromString(`${cpuLimit}m`),
      memory: k8s.Quantity.fromString(`${memLimit}Mi`),
    },
  };
}
