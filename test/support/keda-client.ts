/**
 * A gRPC client built from the runtime's externalscaler.proto that plays KEDA's calls, for tests and
 * the benchmark. Promise wrappers over the generated stub; `stream` collects StreamIsActive messages.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS, protoPath } from '../../runtime/service/grpc/scaler-server.js';

/** The `externalscaler` package for grpc-js clients (KEDA's side, played by tests and the benchmark). */
export function loadScalerPackage(): grpc.GrpcObject {
  const definition = protoLoader.loadSync(protoPath(), PROTO_LOADER_OPTIONS);
  return grpc.loadPackageDefinition(definition).externalscaler as grpc.GrpcObject;
}

export interface Ref {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}

/** The runtime's in-cluster scaler address, as a ScaledObject's `scalerAddress` names it. */
export const RUNTIME_SCALER_ADDRESS = 'elasticai-runtime.elasticai-system.svc.cluster.local:9090';

/**
 * A ScaledObject `shop/<name>` whose trigger points at the runtime: demand from `demand{app=<name>}`,
 * 40 per replica, 120 s lead; `meta` adds or replaces metadata.
 */
export function shopScaledObject(name: string, meta: Record<string, string> = {}): Ref {
  return {
    name,
    namespace: 'shop',
    scalerMetadata: {
      scalerAddress: RUNTIME_SCALER_ADDRESS,
      query: `demand{app="${name}"}`,
      capacityPerReplica: '40',
      leadSeconds: '120',
      ...meta,
    },
  };
}

type Unary = (
  req: unknown,
  options: grpc.CallOptions,
  cb: (e: grpc.ServiceError | null, r: unknown) => void,
) => void;

export class KedaClient {
  readonly stub: grpc.Client & Record<string, Unary>;

  constructor(address: string, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()) {
    const Ctor = loadScalerPackage().ExternalScaler as grpc.ServiceClientConstructor;
    this.stub = new Ctor(address, credentials) as grpc.Client & Record<string, Unary>;
  }

  private call<T>(method: string, request: unknown, timeoutMs = 3000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fn = this.stub[method] as Unary;
      fn.call(this.stub, request, { deadline: Date.now() + timeoutMs }, (error, response) =>
        error ? reject(error) : resolve(response as T),
      );
    });
  }

  getMetricSpec(
    ref: Ref,
  ): Promise<{ metricSpecs: { metricName: string; targetSize: number; targetSizeFloat: number }[] }> {
    return this.call('GetMetricSpec', ref);
  }

  getMetrics(
    ref: Ref,
    metricName = 'elasticai-replicas',
    timeoutMs = 3000,
  ): Promise<{ metricValues: { metricName: string; metricValue: number; metricValueFloat: number }[] }> {
    return this.call('GetMetrics', { scaledObjectRef: ref, metricName }, timeoutMs);
  }

  isActive(ref: Ref): Promise<{ result: boolean }> {
    return this.call('IsActive', ref);
  }

  /** Opens StreamIsActive; messages are pushed to `received`. */
  stream(ref: Ref): {
    received: boolean[];
    call: grpc.ClientReadableStream<{ result: boolean }>;
    ended: Promise<void>;
  } {
    const fn = this.stub.StreamIsActive as unknown as (
      req: unknown,
    ) => grpc.ClientReadableStream<{ result: boolean }>;
    const call = fn.call(this.stub, ref);
    const received: boolean[] = [];
    call.on('data', (m: { result: boolean }) => received.push(m.result));
    const ended = new Promise<void>((resolve) => {
      call.on('end', () => resolve());
      call.on('error', () => resolve());
    });
    return { received, call, ended };
  }

  close(): void {
    this.stub.close();
  }
}
