/**
 * `elasticai override set|clear|show NS/NAME`: a manual replica count for a workload, through the
 * runtime's API, which writes KEDA's `autoscaling.keda.sh/paused-replicas` annotation on the ScaledObject
 * (and an expiry the leader clears). Needs a token allowed to `patch` the ScaledObject.
 */
import { MAX_REPLICAS } from '../engine/settings.js';
import type { OverrideRecord } from '../service/http/api-deps.js';
import type { ApiCommandOptions } from './api-client.js';
import {
  ApiClient,
  ApiStatusError,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  parseWorkloadRef,
  resolveTarget,
  workloadPath,
} from './api-client.js';
import type { FlagSpecs } from './args.js';
import { parseFlags } from './args.js';
import type { Command, CommandIo } from './command.js';
import { ExitCode, UsageError } from './command.js';
import { bold } from './terminal.js';
import { timeText } from './time-text.js';

/** Longest override the API takes (7 days). */
export const MAX_OVERRIDE_SECONDS = 7 * 86_400;

const HELP = `Usage: elasticai override set NS/NAME --replicas N [--for DURATION] [connection flags] [--json]
       elasticai override clear NS/NAME [connection flags] [--json]
       elasticai override show NS/NAME [connection flags] [--json]

Pins a workload (the ScaledObject NS/NAME) at a replica count, whatever the forecast says, until
cleared or until the duration passes. The runtime writes KEDA's autoscaling.keda.sh/paused-replicas
annotation on the ScaledObject, so KEDA holds that count; the runtime's leader removes it when it
expires. Setting and clearing need a token allowed to patch the ScaledObject; a count above the
tenant's cap is refused.

Actions:
  set                  pin the replica count (replaces an override already set)
  clear                remove the override: the runtime decides again
  show                 print the override, or that there is none

Flags:
  --replicas N         (set) replicas to hold, an integer >= 0
  --for DURATION       (set) how long: 90s, 30m, 2h, 1h30m, 1d (each unit once, largest first;
                       at most 7d); default until cleared
${CONNECTION_HELP}
  -h, --help           show this help

Examples:
  elasticai override set shop/checkout --replicas 12 --for 2h
  elasticai override show shop/checkout
  elasticai override clear shop/checkout
`;

/** `1d2h30m15s`: each unit at most once, largest first, as the help's examples write them. */
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/**
 * Seconds of a duration such as `90s`, `30m`, `2h`, `1h30m`, `1d`: whole numbers of d, h, m and s, each
 * at most once and largest first (`2h2h` and `30m1h` are refused as likely typos). Undefined when the
 * text is not one.
 */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m || m[0] === '') return undefined;
  const [d = 0, h = 0, min = 0, s = 0] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  return d * 86_400 + h * 3600 + min * 60 + s;
}

function describe(ref: { namespace: string; name: string }, o: OverrideRecord): string {
  const until = o.expiresAt ? `until ${timeText(o.expiresAt)}` : 'until cleared';
  return `${ref.namespace}/${ref.name}: held at ${o.replicas} replicas ${until}${o.by ? ` (set by ${o.by})` : ''}`;
}

const FORBIDDEN = 'overrides need a token allowed to patch the ScaledObject (--token / ELASTICAI_TOKEN)';
const NOT_FOUND = 'run `elasticai status` to list the workloads the runtime serves';

async function run(argv: readonly string[], io: CommandIo, options: ApiCommandOptions): Promise<number> {
  const [action, ...rest] = argv;
  if (action === undefined || action.startsWith('-')) {
    throw new UsageError(
      'needs an action: set, clear or show (e.g. override set shop/checkout --replicas 3)',
    );
  }
  if (action !== 'set' && action !== 'clear' && action !== 'show') {
    throw new UsageError(`unknown action "${action}": use set, clear or show`);
  }
  const specs: FlagSpecs =
    action === 'set' ? { ...CONNECTION_FLAGS, replicas: 'value', for: 'value' } : CONNECTION_FLAGS;
  const flags = parseFlags(rest, specs, { names: ['NS/NAME'] });
  const ref = parseWorkloadRef(flags.positionals[0] as string);
  let body: { replicas: number; durationSeconds?: number } | undefined;
  if (action === 'set') {
    const replicas = flags.requiredNumber('replicas', { min: 0, integer: true, max: MAX_REPLICAS });
    const duration = flags.string('for');
    let durationSeconds: number | undefined;
    if (duration !== undefined) {
      durationSeconds = parseDuration(duration);
      if (durationSeconds === undefined || durationSeconds < 1 || durationSeconds > MAX_OVERRIDE_SECONDS) {
        throw new UsageError(
          `--for must be a duration such as 90s, 30m, 2h, 1h30m or 1d, at most 7d (got "${duration}")`,
        );
      }
    }
    body = { replicas, ...(durationSeconds === undefined ? {} : { durationSeconds }) };
  }
  const client = new ApiClient(await resolveTarget(flags, io, options), io);
  const path = workloadPath(ref, '/override');
  const json = flags.has('json');

  if (action === 'show') {
    let record: (OverrideRecord & { namespace: string; name: string }) | null;
    try {
      record = (
        await client.call<OverrideRecord & { namespace: string; name: string }>('GET', path, undefined, {
          notFound: NOT_FOUND,
        })
      ).body;
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 'no-override')) throw err;
      record = null;
    }
    if (json) io.stdout(`${JSON.stringify({ ...ref, override: record }, null, 2)}\n`);
    else
      io.stdout(
        record
          ? `${describe(ref, record)}\n`
          : `${ref.namespace}/${ref.name}: no override; the runtime decides\n`,
      );
    return ExitCode.ok;
  }

  if (action === 'clear') {
    await client.call('DELETE', path, undefined, { notFound: NOT_FOUND, forbidden: FORBIDDEN });
    if (json) io.stdout(`${JSON.stringify({ ...ref, override: null }, null, 2)}\n`);
    else io.stdout(`${ref.namespace}/${ref.name}: override cleared; the runtime decides again\n`);
    return ExitCode.ok;
  }

  const answer = await client.call<{
    replicas: number;
    expiresAt: string | null;
    by: string;
    previous: OverrideRecord | null;
  }>('POST', path, body, { notFound: NOT_FOUND, forbidden: FORBIDDEN });
  if (json) {
    io.stdout(`${JSON.stringify(answer.body, null, 2)}\n`);
  } else {
    const a = answer.body;
    const set = describe(ref, {
      replicas: a.replicas,
      by: a.by,
      ...(a.expiresAt ? { expiresAt: a.expiresAt } : {}),
    });
    const previous = a.previous ? ` (replaces ${a.previous.replicas} replicas)` : '';
    io.stdout(`${bold('override set', io.color)} ${set}${previous}\n`);
  }
  return ExitCode.ok;
}

export function overrideCommand(options: ApiCommandOptions = {}): Command {
  return {
    name: 'override',
    summary: 'pin a workload at a replica count (set NS/NAME --replicas N [--for 2h]), clear or show it',
    help: HELP,
    run: (argv, io) => run(argv, io, options),
  };
}
