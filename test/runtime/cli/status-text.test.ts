import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statusText } from '../../../runtime/cli/status-command.js';

describe('elasticai status: workloads refused for memory', () => {
  const refused = [
    {
      namespace: 'shop',
      name: 'cart',
      reason: 'refused: not enough memory (in use 470.0 MiB + …); raise the runtime’s memory limit',
      at: 1_795_000_000,
    },
  ];

  it('lists them below the table with when and why, even when no workload is served', () => {
    // GIVEN an API answer with no workload served and one refused
    const text = statusText('http://127.0.0.1:8080/', [], refused, false);
    // THEN the text says there are no workloads, then names the refused one with its time and reason
    assert.match(text, /0 workloads/);
    assert.doesNotMatch(text, /no ScaledObject has a trigger/, 'KEDA did ask: the runtime refused');
    assert.match(
      text,
      /\nRefused \(not enough memory in the runtime: KEDA gets UNAVAILABLE, the HPA holds\)\n/,
    );
    assert.match(text, / {2}shop\/cart: refused at 2026-11-18T\d\d:\d\d:\d\dZ: refused: not enough memory/);
  });

  it('prints no such section when nothing was refused', () => {
    assert.doesNotMatch(statusText('http://127.0.0.1:8080/', [], [], false), /Refused/);
  });
});
