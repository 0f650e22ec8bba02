// Times from the runtime's API answers are not checked as trace times are: the views show one outside
// the years 0000–9999 (or no time at all) as the runtime sent it, saying what is wrong, never as an
// expanded ISO year (`+010000-…`), and never write one into a file.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { overrideText, statusText } from '../../../runtime/cli/status-command.js';
import { timeText } from '../../../runtime/cli/time-text.js';
import { RUNTIME_MAIN, cleanEnv, runAsync } from './support.js';

const EXPANDED_YEAR = /[+-]\d{6}-/;

describe('timeText: times of the API answers in the human views', () => {
  it('shows epoch seconds and RFC 3339 texts of the years 0000–9999 in UTC, to the second', () => {
    assert.equal(timeText(1_795_000_000), '2026-11-18T11:06:40Z');
    assert.equal(timeText(-62_167_219_200), '0000-01-01T00:00:00Z');
    assert.equal(timeText(253_402_300_799), '9999-12-31T23:59:59Z');
    assert.equal(timeText('2026-11-18T12:06:40.250+01:00'), '2026-11-18T11:06:40Z');
  });

  it('shows a dash for no time', () => {
    assert.equal(timeText(null), '—');
    assert.equal(timeText(undefined), '—');
    assert.equal(timeText(NaN), '—');
  });

  it('shows a time outside the years 0000–9999 as sent, saying so, with a hint for milliseconds', () => {
    assert.equal(timeText(253_402_300_800), '253402300800 (not a time in the years 0000–9999)');
    assert.equal(timeText(-62_167_219_201), '-62167219201 (not a time in the years 0000–9999)');
    assert.equal(
      timeText(1_795_000_000_000),
      '1795000000000 (not a time in the years 0000–9999: epoch milliseconds?)',
    );
    assert.equal(timeText(Infinity), 'Infinity (not a time in the years 0000–9999)');
    assert.equal(timeText(1e300), '1e+300 (not a time in the years 0000–9999)');
    assert.equal(
      timeText('+010000-01-01T00:00:00Z'),
      '"+010000-01-01T00:00:00Z" (not a time in the years 0000–9999)',
    );
  });

  it('shows a value that is no time as sent', () => {
    assert.equal(timeText('soon'), '"soon" (not a time)');
    assert.equal(timeText(true), 'true (not a time)');
    assert.equal(timeText({ at: 1 }), '{"at":1} (not a time)');
  });
});

describe('the API views with such times', () => {
  it('status: an override until a bad time, a refusal at one', () => {
    // an override's expiresAt that does not parse was shown as "until NaN"
    assert.equal(
      overrideText({ replicas: 3, expiresAt: 'tomorrow' } as never),
      '3 until "tomorrow" (not a time)',
    );
    assert.equal(
      overrideText({ replicas: 3, expiresAt: '+275760-09-13T00:00:00.000Z' } as never),
      '3 until "+275760-09-13T00:00:00.000Z" (not a time in the years 0000–9999)',
    );
    const text = statusText(
      'http://127.0.0.1:8080/',
      [],
      [{ namespace: 'shop', name: 'cart', reason: 'refused: not enough memory', at: 1_795_000_000_000 }],
      false,
    );
    assert.match(
      text,
      / {2}shop\/cart: refused at 1795000000000 \(not a time in the years 0000–9999: epoch milliseconds\?\): refused/,
    );
    assert.doesNotMatch(text, EXPANDED_YEAR);
  });

  it('recommend --write-vpa writes nothing when the answer is generated at a bad time (exit 1)', async () => {
    // GIVEN a runtime answering the recommendations with generatedAt in milliseconds
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ generatedAt: 1_795_000_000_000, method: {}, recommendations: [] }));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const dir = mkdtempSync(join(tmpdir(), 'elasticai-time-'));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // WHEN writing VPA files from it
      const r = await runAsync(RUNTIME_MAIN, ['recommend', '--url', url, '--write-vpa', dir], cleanEnv(dir));
      // THEN it fails naming the field and the value, and the folder stays empty
      assert.equal(r.status, 1, r.stderr);
      assert.match(
        r.stderr,
        /the runtime's answer has generatedAt 1795000000000 \(not a time in the years 0000–9999: epoch milliseconds\?\): nothing written to --write-vpa/,
      );
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
