import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../support/paths.js';
import { importsOf, importsUnder, packageOf } from './imports.js';

const RUNTIME_DIR = join(REPO_ROOT, 'runtime');

interface PackageJson {
  name?: string;
  version?: string;
  private?: boolean;
  type?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
interface LockEntry {
  name?: string;
  version?: string;
  integrity?: string;
  resolved?: string;
  link?: boolean;
  dev?: boolean;
  hasInstallScript?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
interface Lockfile {
  name?: string;
  version?: string;
  lockfileVersion?: number;
  packages: Record<string, LockEntry>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const rootPackage = readJson<PackageJson>(join(REPO_ROOT, 'package.json'));
const runtimePackage = readJson<PackageJson>(join(RUNTIME_DIR, 'package.json'));
const rootLock = readJson<Lockfile>(join(REPO_ROOT, 'package-lock.json'));
const runtimeLock = readJson<Lockfile>(join(RUNTIME_DIR, 'package-lock.json'));

const imports = importsUnder(RUNTIME_DIR);
const packagesImported = (typeOnly: boolean): Set<string> =>
  new Set(
    imports
      .filter((i) => i.typeOnly === typeOnly)
      .map((i) => packageOf(i.specifier))
      .filter((p): p is string => p !== undefined),
  );
/** Packages some runtime file loads at run time. */
const runtimePackages = packagesImported(false);
/** Packages only ever imported for their types: the image's build stage needs them, its final stage not. */
const typeOnlyPackages = new Set([...packagesImported(true)].filter((p) => !runtimePackages.has(p)));
const rootRange = (name: string): string | undefined =>
  rootPackage.dependencies?.[name] ?? rootPackage.devDependencies?.[name];
/** Where each import comes from, for failure messages. */
const whereImported = (pkg: string): string =>
  imports
    .filter((i) => packageOf(i.specifier) === pkg)
    .map((i) => `${i.file}:${i.line}`)
    .join(', ');

/** A lock entry's package name (its path's last node_modules segment, unless aliased). */
const lockName = (path: string, entry: LockEntry): string =>
  entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

describe('runtime/package.json', () => {
  it('is the private ESM manifest of elasticai-runtime with a tsc build script', () => {
    assert.equal(runtimePackage.name, 'elasticai-runtime');
    assert.equal(runtimePackage.private, true);
    // "type": "module" makes runtime/**/*.ts ES modules for the root build's NodeNext resolution too
    assert.equal(runtimePackage.type, 'module');
    assert.equal(runtimePackage.scripts?.build, 'tsc -p tsconfig.json');
  });

  it('depends on exactly the packages runtime/ imports at run time, at the root package.json ranges', () => {
    // GIVEN the bare specifiers of every runtime/**/*.ts that survive compilation (no node: built-ins)
    const declared = Object.keys(runtimePackage.dependencies ?? {}).sort();
    // THEN the dependencies are that set: nothing missing from the image, nothing extra in it
    assert.deepEqual(
      declared,
      [...runtimePackages].sort(),
      `imported: ${[...runtimePackages].map((p) => `${p} (${whereImported(p)})`).join('; ') || 'none'}`,
    );
    // AND each at the root's range, so the image and the tests resolve the same releases
    for (const name of declared) {
      assert.ok(rootPackage.dependencies?.[name], `${name} is not a dependency of the root package.json`);
      assert.equal(runtimePackage.dependencies?.[name], rootPackage.dependencies[name], name);
    }
  });

  it('builds with the root typescript and @types/node, plus packages imported only for types', () => {
    const dev = runtimePackage.devDependencies ?? {};
    assert.deepEqual(Object.keys(dev).sort(), ['@types/node', 'typescript', ...typeOnlyPackages].sort());
    for (const [name, range] of Object.entries(dev)) assert.equal(range, rootRange(name), name);
  });
});

describe('runtime/package-lock.json', () => {
  it('is the lockfile of runtime/package.json', () => {
    const top = runtimeLock.packages[''];
    assert.ok(top, 'no root entry');
    assert.equal(runtimeLock.lockfileVersion, 3);
    assert.equal(runtimeLock.name, runtimePackage.name);
    assert.equal(top.name, runtimePackage.name);
    assert.equal(top.version, runtimePackage.version);
    assert.deepEqual(top.dependencies ?? {}, runtimePackage.dependencies ?? {});
    assert.deepEqual(top.devDependencies ?? {}, runtimePackage.devDependencies ?? {});
  });

  it('locks every package at the version and integrity the root lockfile has', () => {
    // GIVEN every release the root lockfile installs, by name
    const rootReleases = new Map<string, Map<string, string | undefined>>();
    for (const [path, entry] of Object.entries(rootLock.packages)) {
      if (path === '' || entry.link || entry.version === undefined) continue;
      const name = lockName(path, entry);
      rootReleases.set(name, (rootReleases.get(name) ?? new Map()).set(entry.version, entry.integrity));
    }
    // THEN each package of the runtime's lock is one of them, byte for byte (same integrity)
    const entries = Object.entries(runtimeLock.packages).filter(([path]) => path !== '');
    assert.ok(entries.length >= Object.keys(runtimePackage.dependencies ?? {}).length + 2);
    for (const [path, entry] of entries) {
      const name = lockName(path, entry);
      assert.ok(!entry.link && entry.version !== undefined, `${path}: not a registry package`);
      const integrity = rootReleases.get(name)?.get(entry.version);
      assert.ok(
        rootReleases.get(name)?.has(entry.version),
        `${name}@${entry.version} is not in the root lock`,
      );
      assert.equal(
        entry.integrity,
        integrity,
        `${name}@${entry.version}: integrity differs from the root lock`,
      );
      if (entry.resolved !== undefined)
        assert.match(entry.resolved, /^https:\/\/registry\.npmjs\.org\//, path);
    }
  });

  it('marks the compiler dev-only, so npm ci --omit=dev leaves it out of the image', () => {
    // GIVEN which packages production packages depend on
    const neededInProduction = new Set(
      Object.entries(runtimeLock.packages)
        .filter(([path, e]) => path !== '' && !e.dev)
        .flatMap(([, e]) => Object.keys(e.dependencies ?? {})),
    );
    // THEN typescript is dev-only, and so is every other dev dependency no production package needs
    // (@types/node is one that is: protobufjs, under @grpc/proto-loader, depends on it)
    assert.equal(
      runtimeLock.packages['node_modules/typescript']?.dev,
      true,
      'typescript would be in the image',
    );
    for (const name of Object.keys(runtimePackage.devDependencies ?? {})) {
      if (neededInProduction.has(name)) continue;
      assert.equal(runtimeLock.packages[`node_modules/${name}`]?.dev, true, `${name} would be in the image`);
    }
    for (const name of Object.keys(runtimePackage.dependencies ?? {})) {
      assert.notEqual(runtimeLock.packages[`node_modules/${name}`]?.dev, true, `${name} would be left out`);
    }
  });

  it('needs no install script to work (the image installs with --ignore-scripts)', () => {
    // GIVEN the install scripts reviewed as skippable: protobufjs's postinstall only prints a warning
    // when a dependent asks for protobufjs with a different version scheme; it builds nothing
    const reviewed: Record<string, Record<string, string>> = {
      protobufjs: { postinstall: 'node scripts/postinstall' },
    };
    // WHEN reading the lifecycle scripts of each lock entry that has one, from the installed package
    for (const [path, entry] of Object.entries(runtimeLock.packages)) {
      if (path === '' || !entry.hasInstallScript) continue;
      const name = lockName(path, entry);
      const dir = join(REPO_ROOT, 'node_modules', ...name.split('/'));
      const installed = readJson<PackageJson & { version?: string }>(join(dir, 'package.json'));
      assert.equal(installed.version, entry.version, `${name}: the repository has another version installed`);
      const scripts = Object.fromEntries(
        Object.entries(installed.scripts ?? {}).filter(([k]) =>
          ['preinstall', 'install', 'postinstall'].includes(k),
        ),
      );
      // THEN they are exactly the reviewed ones, and the package is no native addon
      assert.deepEqual(scripts, reviewed[name] ?? {}, `${name}@${entry.version}: review its install scripts`);
      assert.equal(existsSync(join(dir, 'binding.gyp')), false, `${name} is a native addon`);
    }
  });
});

describe('runtime/ imports', () => {
  /** Relative imports of runtime files, resolved to repository paths. */
  const relativeImports = imports
    .filter((i) => i.specifier.startsWith('.'))
    .map((i) => ({
      ...i,
      target: posix.normalize(posix.join('runtime', posix.dirname(i.file), i.specifier)),
    }));

  it('never imports construct, stack or test code (DESIGN.md: the runtime never imports construct code)', () => {
    assert.ok(relativeImports.length > 50, `only ${relativeImports.length} relative imports found`);
    const offending = relativeImports.filter((i) => /^(constructs|stacks|test)(\/|$)/.test(i.target));
    assert.deepEqual(
      offending.map((i) => `${i.file}:${i.line} ${i.specifier}`),
      [],
    );
  });

  it('resolves every relative import inside runtime/, so `docker build runtime/` has all it needs', () => {
    const escaping = relativeImports.filter((i) => !i.target.startsWith('runtime/'));
    assert.deepEqual(
      escaping.map((i) => `${i.file}:${i.line} ${i.specifier}`),
      [],
    );
    // AND each resolves to a runtime source that exists (a .js import names its .ts source)
    const unresolved = relativeImports.filter((i) => {
      const path = join(REPO_ROOT, ...i.target.split('/'));
      return !existsSync(path.replace(/\.js$/, '.ts')) && !existsSync(path);
    });
    assert.deepEqual(
      unresolved.map((i) => `${i.file}:${i.line} ${i.specifier}`),
      [],
    );
  });
});

describe('runtime/tsconfig.json', () => {
  interface TsConfig {
    compilerOptions: Record<string, unknown>;
    include?: string[];
    exclude?: string[];
  }
  const rootConfig = readJson<TsConfig>(join(REPO_ROOT, 'tsconfig.json'));
  const runtimeConfig = readJson<TsConfig>(join(RUNTIME_DIR, 'tsconfig.json'));

  it('compiles runtime/ alone into build/, with node types', () => {
    assert.deepEqual(runtimeConfig.include, ['**/*.ts']);
    assert.ok(runtimeConfig.exclude?.includes('node_modules') && runtimeConfig.exclude.includes('build'));
    assert.equal(runtimeConfig.compilerOptions.rootDir, '.');
    assert.equal(runtimeConfig.compilerOptions.outDir, 'build');
    assert.deepEqual(runtimeConfig.compilerOptions.types, ['node']);
  });

  it('checks the code as strictly as the root tsconfig, with the same module system', () => {
    // GIVEN every root compiler option except where output goes and which extra files are emitted
    const layout = new Set(['rootDir', 'outDir', 'declaration', 'sourceMap']);
    for (const [option, value] of Object.entries(rootConfig.compilerOptions)) {
      if (layout.has(option)) continue;
      // THEN the runtime's build uses the same value
      assert.deepEqual(runtimeConfig.compilerOptions[option], value, option);
    }
  });
});

describe('import scanner', () => {
  it('tells imports erased by the compiler from those loaded at run time', () => {
    // GIVEN one file with every import form
    const found = importsOf(
      'x.ts',
      [
        "import type { A } from 'types-only';",
        "import { type B, type C } from 'all-type-named';",
        "import { type D, e } from 'mixed';",
        "import f from 'default-import';",
        "import 'side-effect';",
        "export type { G } from 'reexport-type';",
        "export { h } from '@scope/pkg/sub/path.js';",
        "import { readFileSync } from 'node:fs';",
        "const lazy = await import('dynamic');",
        "type T = import('type-query').T;",
      ].join('\n'),
    );
    // THEN type-only forms are marked erased and the others loaded, with their lines
    assert.deepEqual(
      found.map((i) => [i.specifier, i.typeOnly, i.line]),
      [
        ['types-only', true, 1],
        ['all-type-named', true, 2],
        ['mixed', false, 3],
        ['default-import', false, 4],
        ['side-effect', false, 5],
        ['reexport-type', true, 6],
        ['@scope/pkg/sub/path.js', false, 7],
        ['node:fs', false, 8],
        ['dynamic', false, 9],
        ['type-query', true, 10],
      ],
    );
    // AND package names drop subpaths and built-ins are no packages
    assert.equal(packageOf('@scope/pkg/sub/path.js'), '@scope/pkg');
    assert.equal(packageOf('prom-client'), 'prom-client');
    assert.equal(packageOf('node:fs'), undefined);
    assert.equal(packageOf('fs'), undefined);
    assert.equal(packageOf('../engine/models.js'), undefined);
  });
});
