import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
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

  it('puts every replaced file back when a later rename fails, naming the output that failed', () => {
    // GIVEN an earlier run's report and decisions, and a new run writing report, decisions and scores
    const sub = mkdtempSync(join(dir, 'commit-'));
    const report = join(sub, 'report.html');
    const decisions = join(sub, 'decisions.csv');
    const scores = join(sub, 'scores.csv');
    writeFileSync(report, 'old report');
    writeFileSync(decisions, 'old decisions');
    const reportInode = statSync(report).ino;
    // AND, once the report is in place, something makes the decisions' path a non-empty directory (after
    // every check and every staged write), so renaming onto it fails
    const renamed: string[] = [];
    const rename = (from: string, to: string): void => {
      if (to === decisions && renamed.length === 1) {
        rmSync(decisions);
        mkdirSync(decisions);
        writeFileSync(join(decisions, 'keep'), 'x');
      }
      renamed.push(to);
      renameSync(from, to);
    };
    // WHEN writing all three
    assert.throws(
      () =>
        writeFilesAtomic(
          [
            { path: report, parts: ['new report'] },
            { path: decisions, parts: ['new decisions'] },
            { path: scores, parts: ['new scores'] },
          ],
          { rename },
        ),
      (e: unknown) =>
        e instanceof RunError &&
        e.message === `cannot write ${decisions}: it is a directory; no output was changed`,
    );
    // THEN the report already renamed into place is the old file again (the same inode, put back)
    assert.deepEqual(renamed, [report, decisions, report]);
    assert.equal(readFileSync(report, 'utf8'), 'old report');
    assert.equal(statSync(report).ino, reportInode);
    // AND the scores, which did not exist, still do not, and no temporary or backup file is left
    assert.deepEqual(readdirSync(sub).sort(), ['decisions.csv', 'report.html']);
    assert.deepEqual(readdirSync(decisions), ['keep']);
  });

  it('removes an output that did not exist before when a later rename fails', () => {
    // GIVEN no earlier outputs, and a second target that turns into a directory before its rename
    const sub = mkdtempSync(join(dir, 'commit-'));
    const first = join(sub, 'a.csv');
    const second = join(sub, 'b.csv');
    const rename = (from: string, to: string): void => {
      if (to === second) mkdirSync(join(second, 'inside'), { recursive: true });
      renameSync(from, to);
    };
    // WHEN writing both THEN the second is named, and the first is gone again
    assert.throws(
      () =>
        writeFilesAtomic(
          [
            { path: first, parts: ['a'] },
            { path: second, parts: ['b'] },
          ],
          { rename },
        ),
      (e: unknown) => e instanceof RunError && e.message.startsWith(`cannot write ${second}: `),
    );
    assert.deepEqual(readdirSync(sub), ['b.csv']);
    // AND with nothing in the way both are written, and no backup of the replaced files is left
    rmSync(second, { recursive: true });
    writeFilesAtomic([
      { path: first, parts: ['a'] },
      { path: second, parts: ['b'] },
    ]);
    writeFilesAtomic([
      { path: first, parts: ['a2'] },
      { path: second, parts: ['b2'] },
    ]);
    assert.deepEqual(readdirSync(sub).sort(), ['a.csv', 'b.csv']);
    assert.equal(readFileSync(first, 'utf8'), 'a2');
  });

  it('refuses a target that became a directory before anything is replaced', () => {
    // GIVEN an old first output, and a second target that is a directory by the time of the commit
    const sub = mkdtempSync(join(dir, 'commit-'));
    const first = join(sub, 'a.csv');
    const second = join(sub, 'b.csv');
    writeFileSync(first, 'old');
    mkdirSync(second);
    // WHEN writing both THEN it fails naming the second, with the first untouched and nothing left over
    assert.throws(
      () =>
        writeFilesAtomic([
          { path: first, parts: ['new'] },
          { path: second, parts: ['b'] },
        ]),
      (e: unknown) => e instanceof RunError && e.message === `cannot write ${second}: it is a directory`,
    );
    assert.equal(readFileSync(first, 'utf8'), 'old');
    assert.deepEqual(readdirSync(sub).sort(), ['a.csv', 'b.csv']);
  });
});
