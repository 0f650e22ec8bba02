/**
 * Runs the real CDK app through the pinned CDK CLI into `outDir`, offline (sockets and DNS throw in the
 * CLI and the app), with a scratch HOME and no AWS account or profile from the environment. Used by
 * the whole-app test and the `cdk synth` benchmark.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from './paths.js';

const CDK_APP = fileURLToPath(new URL('../../stacks/cdk-app.js', import.meta.url));
const NO_NETWORK = fileURLToPath(new URL('./no-network.js', import.meta.url));
const CDK_CLI = join(REPO_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');

export function cdkSynthOffline(outDir: string): void {
  const home = mkdtempSync(join(tmpdir(), 'elasticai-home-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    NODE_OPTIONS: `--import ${NO_NETWORK}`,
    CDK_DISABLE_VERSION_CHECK: 'true',
  };
  delete env.CDK_DEFAULT_ACCOUNT;
  delete env.AWS_PROFILE;
  try {
    execFileSync(
      process.execPath,
      [
        CDK_CLI,
        'synth',
        '-q',
        '--no-notices',
        '--no-version-reporting',
        '--app',
        `node ${CDK_APP}`,
        '--output',
        outDir,
      ],
      { cwd: REPO_ROOT, env, stdio: 'pipe' },
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
