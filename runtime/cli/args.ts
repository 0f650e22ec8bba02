/**
 * A small flag parser: `--flag value`, `--flag=value` and boolean switches. Unknown flags, a flag given
 * twice, a missing value, a value on a switch and stray arguments are {@link UsageError}s naming the flag.
 * `-h` is `--help`. A value may start with a single `-` (`--capacity -5` is parsed, then refused by the
 * number check with a message naming the value); a following `--flag` is never taken as a value.
 */
import { UsageError } from './command.js';

/** Each flag's kind, keyed by its name without the dashes. */
export type FlagSpecs = Readonly<Record<string, 'value' | 'switch'>>;

/** Rules for a numeric flag. */
export interface NumberRule {
  /** Lower bound. */
  readonly min?: number;
  /** Whether the lower bound itself is refused. @default false */
  readonly minExclusive?: boolean;
  /** Upper bound (inclusive). */
  readonly max?: number;
  /** Whole numbers only. @default false */
  readonly integer?: boolean;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The parsed command line of one command. */
export class Flags {
  constructor(
    private readonly values: ReadonlyMap<string, string>,
    private readonly switches: ReadonlySet<string>,
    /** Arguments that are not flags (only where the command accepts them), in order. */
    readonly positionals: readonly string[] = [],
  ) {}

  /** Whether a switch (or a value flag) was given. */
  has(name: string): boolean {
    return this.switches.has(name) || this.values.has(name);
  }

  /** A value flag's text, undefined when absent. */
  string(name: string): string | undefined {
    return this.values.get(name);
  }

  /** A value flag that must be given. */
  required(name: string): string {
    const v = this.values.get(name);
    if (v === undefined) throw new UsageError(`--${name} is required`);
    return v;
  }

  /** A finite number obeying `rule` that must be given. */
  requiredNumber(name: string, rule: NumberRule): number {
    this.required(name);
    return this.number(name, rule) as number;
  }

  /** A value among `choices`, undefined when absent. */
  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    if (!(choices as readonly string[]).includes(v)) {
      throw new UsageError(`--${name} must be one of ${choices.join(', ')} (got "${v}")`);
    }
    return v as T;
  }

  /** A finite number obeying `rule`, or `fallback` when absent. */
  number(name: string, rule: NumberRule, fallback: number): number;
  number(name: string, rule: NumberRule): number | undefined;
  number(name: string, rule: NumberRule, fallback?: number): number | undefined {
    const text = this.values.get(name);
    if (text === undefined) return fallback;
    const value = NUMBER.test(text.trim()) ? Number(text) : NaN;
    const ok =
      Number.isFinite(value) &&
      (!rule.integer || Number.isInteger(value)) &&
      (rule.min === undefined || (rule.minExclusive ? value > rule.min : value >= rule.min)) &&
      (rule.max === undefined || value <= rule.max);
    if (!ok) throw new UsageError(`--${name} must be ${describeRule(rule)} (got "${text}")`);
    return value;
  }
}

/** "a number > 0", "an integer >= 1", "a number in (0, 1]". */
export function describeRule(rule: NumberRule): string {
  const noun = rule.integer ? 'an integer' : 'a number';
  if (rule.min !== undefined && rule.max !== undefined) {
    return `${noun} in ${rule.minExclusive ? '(' : '['}${rule.min}, ${rule.max}]`;
  }
  if (rule.min !== undefined) return `${noun} ${rule.minExclusive ? '>' : '>='} ${rule.min}`;
  if (rule.max !== undefined) return `${noun} <= ${rule.max}`;
  return noun;
}

/** How many arguments that are not flags a command takes (e.g. `explain NS/NAME`), and what they are. */
export interface PositionalSpec {
  /** Names for messages, in order (`NS/NAME`). Every one is required. */
  readonly names: readonly string[];
}

/**
 * Parses `argv` (the arguments after the command name) against `specs`. `help` is always a switch.
 * With `positionals`, exactly that many arguments that do not start with `-` are taken, wherever they
 * stand among the flags; a missing or an extra one is a {@link UsageError}.
 */
export function parseFlags(argv: readonly string[], specs: FlagSpecs, positionals?: PositionalSpec): Flags {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  const words: string[] = [];
  const all: FlagSpecs = { help: 'switch', ...specs };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h') {
      switches.add('help');
      continue;
    }
    if (positionals && !arg.startsWith('-')) {
      if (words.length >= positionals.names.length) {
        throw new UsageError(
          `unexpected argument "${arg}" (takes ${positionals.names.join(' ') || 'no arguments'} and flags)`,
        );
      }
      words.push(arg);
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') {
      throw new UsageError(`unexpected argument "${arg}" (flags start with --)`);
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const kind = Object.hasOwn(all, name) ? all[name] : undefined;
    if (kind === undefined) throw new UsageError(`unknown flag --${name}`);
    if (values.has(name) || switches.has(name)) throw new UsageError(`--${name} is given more than once`);
    if (kind === 'switch') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value (got "${arg.slice(eq + 1)}")`);
      switches.add(name);
      continue;
    }
    let value: string;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      value = next;
      i++;
    }
    if (value === '') throw new UsageError(`--${name} needs a value`);
    values.set(name, value);
  }
  if (positionals && words.length < positionals.names.length && !switches.has('help')) {
    throw new UsageError(`${positionals.names[words.length]} is required`);
  }
  return new Flags(values, switches, words);
}
