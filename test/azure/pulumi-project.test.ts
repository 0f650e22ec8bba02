// Pulumi.yaml runs the compiled program, and each Pulumi.<env>.yaml selects its own environment of
// the shared table.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ENVIRONMENTS } from '../../stacks/environments.js';
import type { Json } from '../support/chart.js';
import { REPO_ROOT } from '../support/paths.js';

const read = (file: string): Json => parse(readFileSync(join(REPO_ROOT, file), 'utf8'));

describe('Pulumi project files', () => {
  it('Pulumi.yaml runs the compiled stacks/pulumi-program on Node.js without TypeScript', () => {
    const project = read('Pulumi.yaml');
    assert.equal(project.name, 'elasticai');
    assert.equal(project.runtime.name, 'nodejs');
    assert.equal(project.runtime.options.typescript, false);
    assert.equal(project.main, 'build/stacks/pulumi-program.js');
    assert.ok(existsSync(join(REPO_ROOT, 'stacks', 'pulumi-program.ts')));
    // The compiled program sits beside this compiled test, whatever the output folder.
    const here = dirname(fileURLToPath(import.meta.url));
    assert.ok(existsSync(join(here, '..', '..', 'stacks', 'pulumi-program.js')));
  });

  it('every environment has a stack file that selects it', () => {
    for (const env of ENVIRONMENTS) {
      const stack = read(`Pulumi.${env.name}.yaml`);
      assert.equal(stack.config['elasticai:environment'], env.name, `Pulumi.${env.name}.yaml`);
    }
  });
});
