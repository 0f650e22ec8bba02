/**
 * KEDA's `externalscaler.ExternalScaler` service over gRPC. Handlers answer from the registry's last
 * decision and never wait on Prometheus, except for a workload's very first call (bounded wait for its
 * backfill). Bad trigger metadata → INVALID_ARGUMENT naming the key; nothing to serve yet → UNAVAILABLE,
 * on which the HPA keeps the current replica count (never a guessed value).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import type { TenantLimits } from '../config.js';
import type { RuntimeMetrics } from '../metrics.js';
import { NotReadyError } from '../workload-registry.js';
import type { WorkloadRef, WorkloadSpec } from '../workload-spec.js';
import { MetadataError, parseWorkloadSpec } from '../workload-spec.js';
import type { ScalerBackend } from './scaler-backend.js';
import type { GrpcStatusCode, MethodCodec, MethodHandler, ServerStreamCall } from './h2/grpc-server.js';
import { GrpcStatus, RpcError, startGrpcServer, statusName } from './h2/grpc-server.js';

/** Where the .proto is: beside the sources, found from the compiled file (repo, package or image). */
export function protoPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    for (const candidate of [
      'runtime/service/grpc/externalscaler.proto',
      'service/grpc/externalscaler.proto',
    ]) {
      const path = join(dir, candidate);
      if (existsSync(path)) return path;
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('externalscaler.proto not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The proto's options: the same message shapes for the server here and the clients tests build. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** Wire codecs of `externalscaler.ExternalScaler`'s methods, by method name. */
export function scalerCodecs(): Record<string, MethodCodec> {
  const definition = protoLoader.loadSync(protoPath(), PROTO_LOADER_OPTIONS);
  return definition['externalscaler.ExternalScaler'] as unknown as Record<string, MethodCodec>;
}

interface ScaledObjectRefMessage {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}
interface GetMetricsRequestMessage {
  scaledObjectRef: ScaledObjectRefMessage | null;
  metricName: string;
}

export interface ScalerServiceOptions {
  /** Where values come from: `registryBackend(registry)`, or the table the runtime's main thread fills. */
  readonly backend: ScalerBackend;
  readonly tenants?: readonly TenantLimits[];
  /** Observes call durations into its `grpcLatency` histogram. */
  readonly metrics?: Pick<RuntimeMetrics, 'grpcLatency'>;
  /** Longest wait for a new workload's backfill before answering UNAVAILABLE. @default 1500 */
  readonly firstAnswerWaitMs?: number;
}

export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** When set, clients must present a certificate signed by it (KEDA's tlsClientCert). */
  readonly ca?: Buffer;
}

/** Metric name of a workload's trigger (KEDA adds its own `s<index>-` prefix on the HPA side). */
export function metricNameOf(spec: WorkloadSpec): string {
  return spec.kind === 'headroom' ? `elasticai-headroom-${spec.nodePool}` : 'elasticai-replicas';
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export class ScalerService {
  /**
   * Per ScaledObject, the metadata last seen and what it parsed to. KEDA sends the same metadata on
   * every call, so a call compares it key by key (no allocation) instead of parsing it again.
   */
  private readonly specs = new Map<string, ResolvedRef>();
  private readonly streams = new Set<ServerStreamCall<unknown>>();
  private readonly waitMs: number;

  constructor(private readonly options: ScalerServiceOptions) {
    this.waitMs = options.firstAnswerWaitMs ?? 1500;
  }

  /** Handlers by method name. */
  handlers(): Record<string, MethodHandler> {
    return {
      IsActive: this.unary('IsActive', async (ref: ScaledObjectRefMessage) => {
        const { workload } = await this.resolve(ref, true);
        return { result: this.options.backend.value(workload).active };
      }),
      GetMetricSpec: this.unary('GetMetricSpec', async (ref: ScaledObjectRefMessage) => {
        const { spec } = await this.resolve(ref, false);
        return { metricSpecs: [{ metricName: metricNameOf(spec), targetSize: 1, targetSizeFloat: 1 }] };
      }),
      GetMetrics: this.unary('GetMetrics', async (request: GetMetricsRequestMessage) => {
        if (!request.scaledObjectRef)
          throw new RpcError(GrpcStatus.INVALID_ARGUMENT, 'scaledObjectRef is required');
        const { workload, spec } = await this.resolve(request.scaledObjectRef, true);
        const { value } = this.options.backend.value(workload);
        const safe = Number.isFinite(value) && value > 0 ? value : 0;
        const metricName = request.metricName || metricNameOf(spec);
        return { metricValues: [{ metricName, metricValue: Math.ceil(safe), metricValueFloat: safe }] };
      }),
      StreamIsActive: {
        kind: 'serverStream',
        handle: (ref, call) => void this.stream(ref as ScaledObjectRefMessage, call),
      },
    };
  }

  /** Ends every open StreamIsActive (on shutdown, so KEDA reconnects to another replica). */
  endStreams(): void {
    for (const call of this.streams) call.end();
    this.streams.clear();
  }

  private async stream(ref: ScaledObjectRefMessage, call: ServerStreamCall<unknown>): Promise<void> {
    let workload: WorkloadRef;
    try {
      ({ workload } = await this.resolve(ref, false));
    } catch (error) {
      call.fail(toRpcError(error));
      return;
    }
    const backend = this.options.backend;
    const unsubscribe = backend.onActive((ref: WorkloadRef): void => {
      if (ref.namespace === workload.namespace && ref.name === workload.name) call.write({ result: true });
    });
    this.streams.add(call);
    const cleanup = (): void => {
      unsubscribe();
      this.streams.delete(call);
    };
    call.onClose(cleanup);
    try {
      if (backend.value(workload).active) call.write({ result: true });
    } catch {
      // Not ready yet: the first decision or a wake-up will write to the stream.
    }
  }

  private unary<Req>(method: string, handle: (request: Req) => Promise<unknown>): MethodHandler {
    const metrics = this.options.metrics;
    const observe = (started: bigint, code: GrpcStatusCode): void => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics?.grpcLatency.observe({ method, code: statusName(code) }, seconds);
    };
    return {
      kind: 'unary',
      handle: (request) => {
        const started = process.hrtime.bigint();
        return handle(request as Req).then(
          (response) => {
            observe(started, GrpcStatus.OK);
            return response;
          },
          (error: unknown) => {
            const e = toRpcError(error);
            observe(started, e.code);
            throw e;
          },
        );
      },
    };
  }

  /** Checks the ref and its metadata, registers the workload, and (for values) awaits a first backfill. */
  private async resolve(
    ref: ScaledObjectRefMessage,
    needValue: boolean,
  ): Promise<{ workload: WorkloadRef; spec: WorkloadSpec }> {
    if (!DNS_NAME.test(ref.namespace ?? '')) {
      throw new RpcError(
        GrpcStatus.INVALID_ARGUMENT,
        `namespace: must be a namespace name (got ${JSON.stringify(ref.namespace)})`,
      );
    }
    if (!DNS_NAME.test(ref.name ?? '')) {
      throw new RpcError(
        GrpcStatus.INVALID_ARGUMENT,
        `name: must be a ScaledObject name (got ${JSON.stringify(ref.name)})`,
      );
    }
    const { workload, spec } = this.specOf(ref.namespace, ref.name, ref.scalerMetadata ?? {});
    const { firstBackfill } = await this.options.backend.track(workload, spec);
    // A new workload's answers wait (bounded) for its first backfill; later ones never wait.
    const backfill = needValue ? firstBackfill : undefined;
    if (backfill) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        backfill,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.waitMs);
        }),
      ]);
      clearTimeout(timer);
    }
    return { workload, spec };
  }

  private specOf(namespace: string, name: string, metadata: Record<string, string>): ResolvedRef {
    const key = `${namespace}/${name}`;
    const cached = this.specs.get(key);
    if (cached && sameMetadata(cached.metadata, metadata)) return cached;
    const workload: WorkloadRef = { namespace, name };
    const spec = parseWorkloadSpec(workload, metadata, this.options.tenants ?? []);
    const resolved: ResolvedRef = { metadata: { ...metadata }, workload, spec };
    this.specs.set(key, resolved);
    return resolved;
  }
}

interface ResolvedRef {
  readonly metadata: Readonly<Record<string, string>>;
  readonly workload: WorkloadRef;
  readonly spec: WorkloadSpec;
}

/** Same keys with the same values (own keys only, in any order). */
function sameMetadata(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  let count = 0;
  for (const key in b) {
    if (!Object.prototype.hasOwnProperty.call(b, key)) continue;
    if (!Object.prototype.hasOwnProperty.call(a, key) || a[key] !== b[key]) return false;
    count++;
  }
  for (const key in a) if (Object.prototype.hasOwnProperty.call(a, key)) count--;
  return count === 0;
}

function toRpcError(error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  if (error instanceof MetadataError) return new RpcError(GrpcStatus.INVALID_ARGUMENT, error.message);
  if (error instanceof NotReadyError) return new RpcError(GrpcStatus.UNAVAILABLE, error.message);
  return new RpcError(GrpcStatus.INTERNAL, error instanceof Error ? error.message : String(error));
}

export interface ScalerServer {
  readonly port: number;
  /** Ends streams, lets in-flight calls finish within `graceMs`, then forces. */
  close(graceMs: number): Promise<void>;
}

/**
 * Starts the gRPC server on host:port (port 0 picks a free one) in this thread. The runtime runs it in
 * a thread of its own instead (scaler-thread.ts).
 */
export async function startScalerServer(
  options: ScalerServiceOptions & { host: string; port: number; tls?: TlsFiles },
): Promise<ScalerServer> {
  const codecs = scalerCodecs();
  const service = new ScalerService(options);
  const methods = Object.entries(service.handlers()).map(([name, handler]) => {
    const codec = codecs[name];
    if (!codec) throw new Error(`externalscaler.proto has no method ${name}`);
    return { codec, handler };
  });
  const server = await startGrpcServer({
    host: options.host,
    port: options.port,
    methods,
    maxMessageBytes: 1 << 20,
    ...(options.tls ? { tls: options.tls } : {}),
  });
  return {
    port: server.port,
    close: (graceMs) => {
      service.endStreams();
      return server.close(graceMs);
    },
  };
}
