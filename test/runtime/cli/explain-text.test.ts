import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prescaleNote } from '../../../runtime/cli/explain-command.js';

describe('elasticai explain: the pre-scale line', () => {
  it('says how far the pre-scale was scaled back and why', () => {
    assert.equal(
      prescaleNote({ prescaleTrust: 0.25, prescaleNeededShare: 0.075 }),
      'scaled to 25%: 8% of recent pre-scaled replicas were needed',
    );
  });

  it('says nothing while pre-scaling is trusted in full, or when the runtime reports no trust', () => {
    assert.equal(prescaleNote({ prescaleTrust: 1, prescaleNeededShare: 0.5 }), undefined);
    assert.equal(
      prescaleNote({ prescaleTrust: 1, prescaleNeededShare: null as unknown as number }),
      undefined,
    );
    assert.equal(prescaleNote({} as never), undefined);
  });
});
