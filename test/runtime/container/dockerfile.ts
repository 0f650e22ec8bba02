/**
 * A small Dockerfile reader for the container tests: parser directives, comments, line continuations,
 * stages and their instructions, exec-form arrays, and the flags and arguments of COPY and ENV. It
 * covers the subset the runtime's Dockerfile may use and throws on what it does not understand
 * (heredocs, a non-default escape character), so a test never silently reads a file wrongly.
 */

export interface Instruction {
  /** Upper-cased keyword: FROM, RUN, COPY, ... */
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  readonly args: string;
  /** 1-based line of the keyword. */
  readonly line: number;
}

export interface Stage {
  readonly index: number;
  /** The FROM image (or an earlier stage's name). */
  readonly image: string;
  readonly name?: string;
  /** The FROM instruction itself, then the stage's instructions in order. */
  readonly from: Instruction;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  /** Parser directives (`# syntax=...`, `# escape=...`), keys lower-cased. */
  readonly directives: ReadonlyMap<string, string>;
  /** Instructions before the first FROM (only ARG is legal there). */
  readonly preamble: readonly Instruction[];
  readonly stages: readonly Stage[];
}

const DIRECTIVE = /^#\s*([a-zA-Z]+)\s*=\s*(.*?)\s*$/;

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.split(/\r?\n/);
  const directives = new Map<string, string>();
  let i = 0;
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i] ?? '');
    if (!m) break;
    directives.set(m[1]!.toLowerCase(), m[2]!);
  }
  if ((directives.get('escape') ?? '\\') !== '\\')
    throw new Error('only the default escape character is read');

  const instructions: Instruction[] = [];
  let pending: { keyword: string; parts: string[]; line: number } | undefined;
  for (; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const trimmed = raw.trim();
    // Comment lines are dropped everywhere, also inside a continued instruction (Docker does the same).
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const continued = /\\\s*$/.test(raw);
    const body = continued ? raw.replace(/\\\s*$/, '').trim() : trimmed;
    if (pending) {
      pending.parts.push(body);
    } else {
      const m = /^(\S+)\s*(.*)$/.exec(body)!;
      pending = { keyword: m[1]!.toUpperCase(), parts: [m[2]!], line: i + 1 };
    }
    if (!continued) {
      const args = pending.parts.filter((p) => p !== '').join(' ');
      if (/<<-?["']?[A-Za-z_]/.test(args)) throw new Error(`line ${pending.line}: heredocs are not read`);
      instructions.push({ keyword: pending.keyword, args, line: pending.line });
      pending = undefined;
    }
  }
  if (pending) throw new Error(`line ${pending.line}: the file ends inside a continued instruction`);

  const preamble: Instruction[] = [];
  const stages: Stage[] = [];
  let current: { from: Instruction; image: string; name?: string; instructions: Instruction[] } | undefined;
  const close = (): void => {
    if (current) stages.push({ index: stages.length, ...current });
  };
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      close();
      const words = splitWords(ins.args).filter((w) => !w.startsWith('--platform='));
      const [image, as, name] = words;
      if (image === undefined || (as !== undefined && (as.toUpperCase() !== 'AS' || name === undefined))) {
        throw new Error(`line ${ins.line}: FROM ${ins.args}: expected "FROM image [AS name]"`);
      }
      current = { from: ins, image, instructions: [], ...(name !== undefined ? { name } : {}) };
    } else if (current) {
      current.instructions.push(ins);
    } else {
      preamble.push(ins);
    }
  }
  close();
  return { directives, preamble, stages };
}

/** The JSON array of an exec-form instruction (`["node", "main.js"]`), or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.trimStart().startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(args);
    if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) return parsed as string[];
  } catch {
    // Docker runs a malformed JSON array as a shell command; so do we (undefined = shell form).
  }
  return undefined;
}

/** Splits on whitespace, honouring single and double quotes and backslash escapes. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} in: ${text}`);
  if (inWord) words.push(word);
  return words;
}

export interface CopySpec {
  /** `--from=` stage name or index, when copying from another stage. */
  readonly from?: string;
  readonly chown?: string;
  readonly chmod?: string;
  readonly sources: readonly string[];
  readonly destination: string;
}

/** COPY's flags, sources and destination (exec or shell form). */
export function parseCopy(ins: Instruction): CopySpec {
  const words = execForm(ins.args) ?? splitWords(ins.args);
  const flags = new Map<string, string>();
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    const eq = flag.indexOf('=');
    flags.set(eq < 0 ? flag.slice(2) : flag.slice(2, eq), eq < 0 ? '' : flag.slice(eq + 1));
  }
  if (words.length < 2) throw new Error(`line ${ins.line}: COPY needs a source and a destination`);
  const unknown = [...flags.keys()].filter((f) => !['from', 'chown', 'chmod', 'link'].includes(f));
  if (unknown.length > 0) throw new Error(`line ${ins.line}: COPY flags not read: ${unknown.join(', ')}`);
  const from = flags.get('from');
  const chown = flags.get('chown');
  const chmod = flags.get('chmod');
  return {
    ...(from !== undefined ? { from } : {}),
    ...(chown !== undefined ? { chown } : {}),
    ...(chmod !== undefined ? { chmod } : {}),
    sources: words.slice(0, -1),
    destination: words[words.length - 1]!,
  };
}

/** ENV's variables: `ENV A=1 B="two words"` or the legacy `ENV A 1`. */
export function parseEnv(ins: Instruction): Map<string, string> {
  const env = new Map<string, string>();
  const words = splitWords(ins.args);
  if (words.length > 0 && !words[0]!.includes('=')) {
    const [key] = words;
    env.set(
      key!,
      ins.args
        .trim()
        .slice(ins.args.trim().indexOf(key!) + key!.length)
        .trim(),
    );
    return env;
  }
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new Error(`line ${ins.line}: ENV ${word}: expected KEY=value`);
    env.set(word.slice(0, eq), word.slice(eq + 1));
  }
  return env;
}

/** The stage's last instruction with this keyword. */
export function last(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.filter((i) => i.keyword === keyword).at(-1);
}
