/**
 * Rendering the environment table for `elasticai synth` and `elasticai diff`: the same functions
 * `npm run synth` uses (synthEnvironment, renderManifest), so the CLI writes and compares exactly the
 * bytes the committed `dist/` holds. Loaded on demand: it pulls in cdk8s and every construct.
 */
import { RunError, UsageError } from '../../runtime/cli/command.js';
import type { EnvironmentConfig } from '../environment-types.js';
import { ENVIRONMENTS } from '../environments.js';
import type { ManifestFile } from '../manifests.js';
import { synthEnvironment } from '../synth-environment.js';

export { renderManifest, writeEnvironments } from '../manifests.js';
export type { ManifestFile, ManifestObject } from '../manifests.js';

/** One environment's files, paths relative to its folder (`<cluster>/<chart>.yaml`). */
export interface RenderedEnvironment {
  readonly env: EnvironmentConfig;
  readonly files: readonly ManifestFile[];
}

/** Names of the environments of the table, in its order. */
export const environmentNames = (): string[] => ENVIRONMENTS.map((e) => e.name);

/**
 * Renders `name` (or every environment). Everything is rendered before anything is returned, so a
 * validation error anywhere means nothing is written.
 * @throws UsageError for an unknown environment; RunError naming the environment when its synth fails.
 */
export function renderEnvironments(name: string | undefined): RenderedEnvironment[] {
  const selected = name === undefined ? ENVIRONMENTS : ENVIRONMENTS.filter((e) => e.name === name);
  if (selected.length === 0) {
    throw new UsageError(`--env must be one of ${environmentNames().join(', ')} (got "${name}")`);
  }
  return selected.map((env) => {
    try {
      return { env, files: synthEnvironment(env) };
    } catch (err) {
      throw new RunError(`synth of ${env.name} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}
