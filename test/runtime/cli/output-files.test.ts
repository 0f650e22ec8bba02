import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RunError } from '../../../runtime/cli/command.js';
import { writeFilesAtomic } from '../../../runtime/cli/csv-output.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'elasticai-outputs-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFilesAtomic', () => {
  it('writes every file, or none when one of them fails, leaving no temporary file', () => {
    // GIVEN an earlier run's report, and a new report and scores where producing the scores fails midway
    const report = join(dir, 'report.html');
    const scores = join(dir, 'scores.csv');
    writeFileSync(report, 'old report');
    function* failing(): Iterable<string> {
      yield 'timestamp,value\n';
      throw new Error('the disk is full');
    }
    // WHEN writing both
    assert.throws(
      () =>
        writeFilesAtomic([
          { path: report, parts: ['new report'] },
          { path: scores, parts: failing() },
        ]),
      (e: unknown) => e instanceof RunError && /cannot write .*scores\.csv: the disk is full/.test(e.message),
    );
    // THEN the report is the old one, no scores file exists and no temporary file is left
    assert.equal(readFileSync(report, 'utf8'), 'old report');
    assert.deepEqual(readdirSync(dir), ['report.html']);
    // AND when both can be written, both are
    writeFilesAtomic([
      { path: report, parts: ['new ', 'report'] },
      { path: scores, parts: ['t,v\n', '0,1\n'] },
    ]);
    assert.equal(readFileSync(report, 'utf8'), 'new report');
    assert.equal(readFileSync(scores, 'utf8'), 't,v\n0,1\n');
    assert.deepEqual(readdirSync(dir).sort(), ['report.html', 'scores.csv']);
  });
});
