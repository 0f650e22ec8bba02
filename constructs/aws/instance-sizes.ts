import { PropError } from '../k8s/validation.js';

/** vCPU count and memory of one EC2 instance type. */
export interface InstanceSize {
  readonly vcpu: number;
  readonly memoryMiB: number;
}

/**
 * Memory per vCPU (GiB) of the general-purpose (m), compute (c) and memory (r) families ElasticAI
 * knows: x86 (Intel and AMD) generations 5 to 7. In these families every size has
 * exactly `vCPU x ratio` GiB (EC2 instance-type documentation, "General purpose / Compute optimized /
 * Memory optimized" specifications tables).
 */
const FAMILY_GIB_PER_VCPU: Readonly<Record<string, number>> = {
  m5: 4,
  m6i: 4,
  m6a: 4,
  m7i: 4,
  m7a: 4,
  c5: 2,
  c6i: 2,
  c6a: 2,
  c7i: 2,
  c7a: 2,
  r5: 8,
  r6i: 8,
  r6a: 8,
  r7i: 8,
  r7a: 8,
};

/**
 * vCPUs of the sizes included. Every family above has all of them, except that c5 has no 8xlarge
 * (it jumps from 4xlarge to 9xlarge), so c5.8xlarge is left out.
 */
const SIZE_VCPU: Readonly<Record<string, number>> = {
  large: 2,
  xlarge: 4,
  '2xlarge': 8,
  '4xlarge': 16,
  '8xlarge': 32,
};

/** The typed table: instance type name -> vCPU and MiB, built from the two tables above. */
export const INSTANCE_SIZES: ReadonlyMap<string, InstanceSize> = new Map(
  Object.entries(FAMILY_GIB_PER_VCPU).flatMap(([family, gibPerVcpu]) =>
    Object.entries(SIZE_VCPU)
      .filter(([size]) => !(family === 'c5' && size === '8xlarge'))
      .map(([size, vcpu]): [string, InstanceSize] => [
        `${family}.${size}`,
        { vcpu, memoryMiB: vcpu * gibPerVcpu * 1024 },
      ]),
  ),
);

/**
 * The size of a known instance type.
 * @throws PropError for a type not in {@link INSTANCE_SIZES} (nothing asks AWS at synth).
 */
export function instanceSize(prop: string, instanceType: string): InstanceSize {
  const size = INSTANCE_SIZES.get(instanceType);
  if (!size) {
    const families = Object.keys(FAMILY_GIB_PER_VCPU).join(', ');
    throw new PropError(
      prop,
      instanceType,
      `is not a known instance type; known families: ${families} (sizes large to 8xlarge); add it to constructs/aws/instance-sizes.ts`,
    );
  }
  return size;
}

/**
 * cluster-autoscaler builds one node template per group, so every instance type of a group must have
 * the same vCPU count and memory. Refuses an empty list, duplicates, unknown types and mismatches,
 * naming the types.
 * @returns the common size
 */
export function checkEqualInstanceSizes(prop: string, instanceTypes: readonly string[]): InstanceSize {
  if (instanceTypes.length === 0) throw new PropError(prop, instanceTypes, 'must not be empty');
  const seen = new Set<string>();
  for (const t of instanceTypes) {
    if (seen.has(t)) throw new PropError(prop, instanceTypes, `lists ${t} twice`);
    seen.add(t);
  }
  const sizes = instanceTypes.map((t, i) => ({ type: t, ...instanceSize(`${prop}[${i}]`, t) }));
  const first = sizes[0] as InstanceSize & { type: string };
  const odd = sizes.filter((s) => s.vcpu !== first.vcpu || s.memoryMiB !== first.memoryMiB);
  if (odd.length > 0) {
    const describe = sizes.map((s) => `${s.type} = ${s.vcpu} vCPU / ${s.memoryMiB} MiB`).join(', ');
    throw new PropError(
      prop,
      instanceTypes,
      `must all have equal vCPU and memory for cluster-autoscaler (${describe}); ${odd
        .map((s) => s.type)
        .join(', ')} differ from ${first.type}`,
    );
  }
  return { vcpu: first.vcpu, memoryMiB: first.memoryMiB };
}
