import { Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { PropError, checkInteger, wholeSeconds } from './validation.js';

/** Timing of a probe. */
export interface HealthCheckOptions {
  /** Delay before the first check. @default 0 s (readiness), 10 s (liveness) */
  readonly initialDelay?: Duration;
  /** Interval between checks. @default 10 s */
  readonly period?: Duration;
  /** Timeout of one check. @default 1 s */
  readonly timeout?: Duration;
  /** Consecutive failures before the container is marked failed. @default 3 */
  readonly failureThreshold?: number;
}

/** How the kubelet checks a container (readiness and liveness probes). */
export class HealthCheck {
  /** HTTP GET returning 2xx/3xx. @param port @default the workload's container port */
  static httpGet(path: string, options: HealthCheckOptions & { port?: number } = {}): HealthCheck {
    if (!path.startsWith('/')) throw new PropError('healthCheck.path', path, 'must start with "/"');
    return new HealthCheck({ kind: 'http', path, port: options.port }, options);
  }

  /** TCP connect. @param port @default the workload's container port */
  static tcp(options: HealthCheckOptions & { port?: number } = {}): HealthCheck {
    return new HealthCheck({ kind: 'tcp', port: options.port }, options);
  }

  /** A command inside the container exiting 0. */
  static exec(command: readonly string[], options: HealthCheckOptions = {}): HealthCheck {
    if (command.length === 0) throw new PropError('healthCheck.command', command, 'must not be empty');
    return new HealthCheck({ kind: 'exec', command: [...command] }, options);
  }

  private constructor(
    private readonly check:
      | { kind: 'http'; path: string; port?: number }
      | { kind: 'tcp'; port?: number }
      | { kind: 'exec'; command: string[] },
    private readonly options: HealthCheckOptions,
  ) {}

  /** True if the check needs a port and none was given to the factory. */
  get needsDefaultPort(): boolean {
    return this.check.kind !== 'exec' && this.check.port === undefined;
  }

  /** @internal Renders the probe; `defaultPort` is the workload's container port. */
  render(prop: string, defaultPort: number | undefined, defaultInitialDelay: Duration): k8s.Probe {
    const timing = {
      initialDelaySeconds: wholeSeconds(
        `${prop}.initialDelay`,
        this.options.initialDelay ?? defaultInitialDelay,
        0,
      ),
      periodSeconds: wholeSeconds(`${prop}.period`, this.options.period ?? Duration.seconds(10), 1),
      timeoutSeconds: wholeSeconds(`${prop}.timeout`, this.options.timeout ?? Duration.seconds(1), 1),
      failureThreshold: this.options.failureThreshold ?? 3,
    };
    checkInteger(`${prop}.failureThreshold`, timing.failureThreshold, 1);
    checkInteger(`${prop}.period`, timing.periodSeconds, 1);
    checkInteger(`${prop}.timeout`, timing.timeoutSeconds, 1);
    if (this.check.kind === 'exec') return { exec: { command: this.check.command }, ...timing };
    const port = this.check.port ?? defaultPort;
    if (port === undefined)
      throw new PropError(`${prop}.port`, port, 'is required when the workload has no port');
    checkInteger(`${prop}.port`, port, 1, 65535);
    return this.check.kind === 'http'
      ? { httpGet: { path: this.check.path, port: k8s.IntOrString.fromNumber(port) }, ...timing }
      : { tcpSocket: { port: k8s.IntOrString.fromNumber(port) }, ...timing };
  }
}
