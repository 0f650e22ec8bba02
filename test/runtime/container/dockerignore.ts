/**
 * `.dockerignore` as Docker (BuildKit, moby/patternmatcher) reads it: one pattern a line, `#` comments,
 * `!` exceptions, the last matching pattern wins, paths relative to the context root (a leading `/` is
 * dropped), `*` and `?` stay within one path segment, `**` spans any number of segments, and a pattern
 * that matches a folder excludes everything under it. Unlike .gitignore, `name` only matches at the root.
 */
import { readdirSync } from 'node:fs';
import { posix } from 'node:path';

interface Pattern {
  readonly source: string;
  readonly exception: boolean;
  readonly regex: RegExp;
}

/** The regular expression moby/patternmatcher compiles a pattern to. */
function compile(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') i++;
        // `**` at the end accepts everything; elsewhere it is "any number of folders, even none".
        re += i + 1 >= pattern.length ? '.*' : '(.*/)?';
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '\\' && i + 1 < pattern.length) {
      re += '\\' + pattern[++i];
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw new Error(`.dockerignore: unterminated [ in ${pattern}`);
      const body = pattern.slice(i + 1, end);
      re += `[${body.startsWith('^') ? '^' + body.slice(1) : body}]`;
      i = end;
    } else {
      re += /[.+()|{}$^]/.test(ch) ? '\\' + ch : ch;
    }
  }
  return new RegExp(re + '$');
}

export class DockerIgnore {
  static parse(text: string): DockerIgnore {
    const patterns: Pattern[] = [];
    for (const raw of text.split(/\r?\n/)) {
      let line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const exception = line.startsWith('!');
      if (exception) line = line.slice(1).trim();
      let cleaned = posix.normalize(line);
      if (cleaned.length > 1 && cleaned.startsWith('/')) cleaned = cleaned.slice(1);
      if (cleaned.length > 1 && cleaned.endsWith('/')) cleaned = cleaned.slice(0, -1);
      patterns.push({ source: raw.trim(), exception, regex: compile(cleaned) });
    }
    return new DockerIgnore(patterns);
  }

  private constructor(private readonly patterns: readonly Pattern[]) {}

  /** True when the path (relative to the context root, `/`-separated) is left out of the context. */
  ignores(path: string): boolean {
    const file = posix.normalize(path).replace(/^\.\//, '').replace(/\/$/, '');
    const parents = file.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const p of this.patterns) {
      // A pattern matches the path itself or one of its parent folders.
      if (parents.some((candidate) => p.regex.test(candidate))) ignored = !p.exception;
    }
    return ignored;
  }

  get hasExceptions(): boolean {
    return this.patterns.some((p) => p.exception);
  }
}

/** Every file of the build context (relative, `/`-separated, sorted) that `.dockerignore` lets through. */
export function contextFiles(contextDir: string, ignore: DockerIgnore): string[] {
  const files: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(posix.join(contextDir, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        // An ignored folder can only contribute files through an exception pattern.
        if (!ignore.ignores(path) || ignore.hasExceptions) walk(path);
      } else if (!ignore.ignores(path)) {
        files.push(path);
      }
    }
  };
  walk('');
  return files.sort();
}
