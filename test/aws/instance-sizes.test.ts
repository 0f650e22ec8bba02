import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkEqualInstanceSizes,
  INSTANCE_SIZES,
  instanceSize,
} from '../../constructs/aws/instance-sizes.js';

describe('instance size table', () => {
  it('knows the published sizes of the families it lists', () => {
    // GIVEN the EC2 specification tables  THEN the typed table agrees with them
    assert.deepEqual(instanceSize('t', 'm7i.large'), { vcpu: 2, memoryMiB: 8192 });
    assert.deepEqual(instanceSize('t', 'm7a.xlarge'), { vcpu: 4, memoryMiB: 16384 });
    assert.deepEqual(instanceSize('t', 'c7i.xlarge'), { vcpu: 4, memoryMiB: 8192 });
    assert.deepEqual(instanceSize('t', 'r6i.2xlarge'), { vcpu: 8, memoryMiB: 65536 });
    assert.deepEqual(instanceSize('t', 'c6a.8xlarge'), { vcpu: 32, memoryMiB: 65536 });
    // c5 has no 8xlarge (its sizes jump to 9xlarge)
    assert.equal(INSTANCE_SIZES.has('c5.8xlarge'), false);
  });

  it('accepts a list of equal sizes and returns the shape', () => {
    // GIVEN three 4 vCPU / 16 GiB types  WHEN checked  THEN the common size comes back
    assert.deepEqual(checkEqualInstanceSizes('instanceTypes', ['m7i.xlarge', 'm6i.xlarge', 'm7a.xlarge']), {
      vcpu: 4,
      memoryMiB: 16384,
    });
  });

  it('refuses unequal sizes, naming every type and its size', () => {
    // GIVEN an m (16 GiB) and a c (8 GiB) xlarge  WHEN checked  THEN the message names both
    assert.throws(
      () => checkEqualInstanceSizes('nodePools.spot.instanceTypes', ['m7i.xlarge', 'c7i.xlarge']),
      (e: Error) =>
        e.message.startsWith('nodePools.spot.instanceTypes: must all have equal vCPU and memory') &&
        e.message.includes('m7i.xlarge = 4 vCPU / 16384 MiB') &&
        e.message.includes('c7i.xlarge = 4 vCPU / 8192 MiB') &&
        e.message.includes('c7i.xlarge differ from m7i.xlarge') &&
        e.message.includes('(got ["m7i.xlarge","c7i.xlarge"])'),
    );
  });

  it('refuses unknown types, duplicates and empty lists without asking AWS', () => {
    assert.throws(
      () => checkEqualInstanceSizes('instanceTypes', ['m7i.xlarge', 'x9z.mega']),
      /^PropError: instanceTypes\[1\]: is not a known instance type.*\(got "x9z.mega"\)$/s,
    );
    assert.throws(
      () => checkEqualInstanceSizes('instanceTypes', ['m7i.xlarge', 'm7i.xlarge']),
      /lists m7i.xlarge twice/,
    );
    assert.throws(() => checkEqualInstanceSizes('instanceTypes', []), /instanceTypes: must not be empty/);
  });
});
