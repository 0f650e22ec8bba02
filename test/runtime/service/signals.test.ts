/**
 * drainOnSignal in a real child process: the handlers are in place before the servers are, so a
 * SIGTERM during start-up waits for them and drains them; a failed drain exits 1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SIGNALS = new URL('../../../runtime/service/signals.js', import.meta.url).href;

/**
 * A process that arms the handlers, says `armed`, and hands over its "servers" (whose shutdown says
 * `shutdown` and then resolves or rejects) only when its stdin is closed.
 */
function child(failDrain: boolean): ReturnType<typeof spawn> {
  const script = `
    const { drainOnSignal } = await import(${JSON.stringify(SIGNALS)});
    const serve = drainOnSignal({ name: 'test-entry', graceMs: 50, afterDrain: () => console.log('after') });
    console.log('armed');
    process.stdin.resume();
    process.stdin.on('end', () => {
      console.log('started');
      serve({ shutdown: async () => { console.log('shutdown'); ${failDrain ? "throw new Error('stuck');" : ''} } });
    });`;
  return spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

async function run(
  failDrain: boolean,
): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  const c = child(failDrain);
  let out = '';
  let err = '';
  c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(c, 'exit') as Promise<[number | null, string | null]>;
  // GIVEN the handlers are armed and the servers are still starting
  while (!out.includes('armed')) await new Promise((r) => setTimeout(r, 10));
  // WHEN SIGTERM arrives before they are up, and only then do they come up
  c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(!out.includes('shutdown'), 'nothing is drained before the servers are up');
  c.stdin?.end();
  const [code, signal] = await exited;
  return { code, signal, out, err };
}

describe('drainOnSignal', () => {
  it('holds a signal that arrives during start-up and drains the servers once they are up, exit 0', async () => {
    const r = await run(false);
    assert.equal(r.signal, null, `killed by ${r.signal}: no handler ran`);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.out.trim().split('\n'), ['armed', 'started', 'shutdown', 'after']);
    assert.match(r.err, /^test-entry: SIGTERM: draining \(up to 50 ms\)$/m);
  });

  it('exits 1 naming the failure when the drain fails', async () => {
    const r = await run(true);
    assert.equal(r.code, 1);
    assert.ok(!r.out.includes('after'));
    assert.match(r.err, /^test-entry: shutdown failed: Error: stuck$/m);
  });
});
