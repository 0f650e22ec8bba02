// Each cloud's entry point loads only what it needs: `elasticai/azure` never loads aws-cdk-lib, and
// `elasticai/k8s` loads neither Pulumi nor aws-cdk-lib. Checked in a fresh, offline Node process by
// listing every CommonJS module it loaded (aws-cdk-lib, cdk8s and all @pulumi packages are CommonJS,
// and Node's CommonJS loader records them in require.cache even when imported from ESM).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const buildRoot = join(here, '..', '..');
const noNetwork = pathToFileURL(join(here, '..', 'support', 'no-network.js')).href;

/** Package-relative paths of every CommonJS module under node_modules loaded by importing `entry`. */
function modulesLoadedBy(entry: string): string[] {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(pathToFileURL(entry).href)});
    const loaded = Object.keys(createRequire(import.meta.url).cache)
      .map((p) => p.split('/node_modules/').pop());
    process.stdout.write(JSON.stringify(loaded));
  `;
  const out = execFileSync(process.execPath, ['--import', noNetwork, '--input-type=module', '-e', script], {
    cwd: buildRoot,
    encoding: 'utf8',
  });
  return JSON.parse(out) as string[];
}

const loads = (modules: string[], pkg: string) => modules.some((m) => m.startsWith(`${pkg}/`));

describe('entry points are isolated', () => {
  it('elasticai/azure loads Pulumi and only the azure-native modules it uses, never aws-cdk-lib', () => {
    const modules = modulesLoadedBy(join(buildRoot, 'constructs', 'azure', 'index.js'));
    assert.ok(
      loads(modules, '@pulumi/pulumi'),
      'the detector saw no @pulumi/pulumi: it is not measuring anything',
    );
    assert.ok(loads(modules, '@pulumi/azure-native'));
    assert.ok(loads(modules, '@pulumi/kubernetes'));
    assert.equal(loads(modules, 'aws-cdk-lib'), false, 'aws-cdk-lib was loaded by the Azure entry point');
    assert.equal(loads(modules, 'cdk-nag'), false);
    const services = new Set(
      modules.filter((m) => m.startsWith('@pulumi/azure-native/')).map((m) => m.split('/')[2]),
    );
    for (const unused of ['compute', 'network', 'storage', 'web', 'sql']) {
      assert.ok(!services.has(unused), `the Azure entry point loaded @pulumi/azure-native/${unused}`);
    }
  });

  it('elasticai/k8s loads cdk8s but neither Pulumi nor aws-cdk-lib', () => {
    const modules = modulesLoadedBy(join(buildRoot, 'constructs', 'k8s', 'index.js'));
    assert.ok(loads(modules, 'cdk8s'), 'the detector saw no cdk8s: it is not measuring anything');
    assert.equal(loads(modules, '@pulumi/pulumi'), false);
    assert.equal(loads(modules, '@pulumi/azure-native'), false);
    assert.equal(loads(modules, 'aws-cdk-lib'), false);
  });

  it('elasticai/aws does not load Pulumi', (t) => {
    const entry = join(buildRoot, 'constructs', 'aws', 'index.js');
    if (!existsSync(entry)) {
      t.skip('constructs/aws/index.ts has not landed yet');
      return;
    }
    const modules = modulesLoadedBy(entry);
    assert.equal(loads(modules, '@pulumi/pulumi'), false);
    assert.equal(loads(modules, '@pulumi/azure-native'), false);
  });
});
