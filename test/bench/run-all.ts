// Runs every benchmark in this folder, one child process each so their memory numbers stay separate.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const benches = readdirSync(here)
  .filter((file) => file.endsWith('.bench.js'))
  .sort();
let failed = false;
for (const bench of benches) {
  console.log(`\n=== ${bench} ===`);
  const run = spawnSync(process.execPath, ['--expose-gc', join(here, bench)], { stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(`${bench} exited with ${run.status ?? run.signal}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
