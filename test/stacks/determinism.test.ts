// `npm run synth` is deterministic, offline, removes stale files, and the committed dist/ is current.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  mkdtempSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../support/paths.js';

// The synth CLI and network guard compiled alongside this test (whatever the build folder is called).
const SYNTH = fileURLToPath(new URL('../../stacks/synth.js', import.meta.url));
const NO_NETWORK = fileURLToPath(new URL('../support/no-network.js', import.meta.url));

/** Runs the synth CLI offline: sockets and DNS throw in the child. */
function runSynth(out: string, ...extra: string[]): string {
  return execFileSync(process.execPath, ['--import', NO_NETWORK, SYNTH, '--out', out, ...extra], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
}

function readTree(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return files;
}

describe('synth for GitOps review', () => {
  it('two runs produce byte-identical trees', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'elasticai-synth-'));
    runSynth(join(tmp, 'a'));
    runSynth(join(tmp, 'b'));
    const a = readTree(join(tmp, 'a'));
    const b = readTree(join(tmp, 'b'));
    assert.ok(a.size >= 6, `only ${a.size} files`);
    assert.deepEqual([...a.keys()], [...b.keys()]);
    for (const [path, bytes] of a)
      assert.ok(bytes.equals(b.get(path) as Buffer), `${path} differs between runs`);
  });

  it('removes stale files and environments no longer in the table', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'elasticai-synth-'));
    mkdirSync(join(tmp, 'dev', 'old-cluster'), { recursive: true });
    writeFileSync(join(tmp, 'dev', 'old-cluster', 'gone.yaml'), 'kind: Gone\n');
    mkdirSync(join(tmp, 'qa'), { recursive: true });
    writeFileSync(join(tmp, 'qa', 'x.yaml'), 'kind: Gone\n');
    runSynth(tmp);
    assert.equal(existsSync(join(tmp, 'dev', 'old-cluster')), false);
    assert.equal(existsSync(join(tmp, 'qa')), false);
    assert.ok(existsSync(join(tmp, 'dev')));
  });

  it('--env renders one environment and rejects unknown ones', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'elasticai-synth-'));
    runSynth(tmp, '--env', 'staging');
    assert.deepEqual(readdirSync(tmp), ['staging']);
    assert.throws(
      () => execFileSync(process.execPath, [SYNTH, '--out', tmp, '--env', 'qa'], { stdio: 'pipe' }),
      (e: { status: number; stderr: Buffer }) =>
        e.status === 2 && /unknown environment "qa"; known: dev, staging, prod/.test(e.stderr.toString()),
    );
  });

  it('the committed dist/ equals a fresh synth (run `npm run synth` after changing the table)', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'elasticai-synth-'));
    runSynth(tmp);
    const fresh = readTree(tmp);
    const committed = readTree(join(REPO_ROOT, 'dist'));
    assert.deepEqual([...committed.keys()], [...fresh.keys()]);
    for (const [path, bytes] of fresh) {
      assert.ok(bytes.equals(committed.get(path) as Buffer), `dist/${path} is out of date`);
    }
  });
});
