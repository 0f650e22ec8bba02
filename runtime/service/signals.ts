/**
 * Termination signals for the entry points. The handlers are installed before the servers start, so a
 * SIGTERM that arrives during start-up (a pod deleted right after it was scheduled) is not fatal: it is
 * held, and drains the servers as soon as they are up. Without them Node's default action would kill
 * the process mid-start.
 */

/** What an entry point drains on a signal. */
export interface Drainable {
  shutdown(): Promise<void>;
}

export interface SignalOptions {
  /** Prefix of the lines written to stderr, e.g. `elasticai-runtime`. */
  readonly name: string;
  /** How long draining may take, for the line written when it starts. */
  readonly graceMs: number;
  /** Runs after a successful drain, before exiting 0 (e.g. closing a client). */
  readonly afterDrain?: () => void;
}

/**
 * Installs SIGTERM/SIGINT handlers now and returns `serve`: call it with the started servers. The first
 * signal, before or after that call, drains them once and exits 0 (1 when the drain fails).
 */
export function drainOnSignal(options: SignalOptions): (servers: Drainable) => void {
  let servers: Drainable | undefined;
  let received: string | undefined;
  const drain = (): void => {
    if (servers === undefined || received === undefined) return;
    process.stderr.write(`${options.name}: ${received}: draining (up to ${options.graceMs} ms)\n`);
    servers.shutdown().then(
      () => {
        options.afterDrain?.();
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`${options.name}: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: string): void => {
    if (received !== undefined) return;
    received = signal;
    drain();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  return (started) => {
    servers = started;
    drain();
  };
}
