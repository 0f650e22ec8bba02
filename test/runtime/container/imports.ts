/**
 * The module specifiers a TypeScript file imports, read with the TypeScript parser (not regexes), and
 * whether each import survives compilation: `import type`, `export type`, imports whose named bindings
 * are all `type`, and `import('x').T` type queries are erased; everything else loads at run time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';

export interface ModuleImport {
  /** The importing file, relative to the scanned folder, `/`-separated. */
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  /** Erased by the compiler: never loaded at run time. */
  readonly typeOnly: boolean;
}

const allTypeOnly = (elements: ts.NodeArray<ts.ImportSpecifier | ts.ExportSpecifier>): boolean =>
  elements.length > 0 && elements.every((e) => e.isTypeOnly);

/** Every import, re-export, `import x = require()`, dynamic `import()` and `require()` of one file. */
export function importsOf(file: string, text: string): ModuleImport[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: ModuleImport[] = [];
  const add = (node: ts.Node, specifier: ts.Expression | undefined, typeOnly: boolean): void => {
    if (!specifier || !ts.isStringLiteralLike(specifier)) return;
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    found.push({ file, line: line + 1, specifier: specifier.text, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            allTypeOnly(clause.namedBindings.elements)));
      add(node, node.moduleSpecifier, typeOnly);
    } else if (ts.isExportDeclaration(node)) {
      const typeOnly =
        node.isTypeOnly ||
        (node.exportClause !== undefined &&
          ts.isNamedExports(node.exportClause) &&
          allTypeOnly(node.exportClause.elements));
      add(node, node.moduleSpecifier, typeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg)) add(node, arg.literal, true);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      if (isImport || isRequire) add(node, node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The `.ts` files under `dir` (sorted, absolute), skipping installed and compiled output. */
export function typeScriptFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'build' && !entry.name.startsWith('build-')) {
          walk(path);
        }
      } else if (entry.name.endsWith('.ts')) {
        out.push(path);
      }
    }
  };
  walk(dir);
  return out.sort();
}

/** Every import of every `.ts` file under `dir`; `file` is relative to `dir`. */
export function importsUnder(dir: string): ModuleImport[] {
  return typeScriptFiles(dir).flatMap((path) =>
    importsOf(relative(dir, path).split(sep).join('/'), readFileSync(path, 'utf8')),
  );
}

/** The npm package a bare specifier names (`@scope/pkg/sub` → `@scope/pkg`); undefined for relative
 * paths, absolute paths, URLs and Node built-ins (with or without `node:`). */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || /^[a-z]+:/i.test(specifier)) return undefined;
  if (isBuiltin(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}
