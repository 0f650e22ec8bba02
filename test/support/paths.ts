import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding package.json), found from this compiled file. */
export const REPO_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above test/support');
    dir = parent;
  }
  return dir;
})();

/** The shared folder beside the repository (CRDs, traces); overridable for unusual checkouts. */
export const SHARED_DIR = resolve(process.env.ELASTICAI_SHARED_DIR ?? join(REPO_ROOT, '..', 'shared'));
