/**
 * Entry point of the scaler thread (started by scaler-thread.ts): the KEDA gRPC server, answering from
 * the shared slots the main thread fills. Its heap holds only calls in flight and one small entry per
 * workload, so its collections are short and no collection of the engines' heap delays an answer.
 */
import type { MessagePort } from 'node:worker_threads';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Histogram, Registry } from 'prom-client';
import { GRPC_LATENCY } from '../metrics.js';
import type { ScalerWorkerData } from './scaler-thread.js';
import { startScalerServer } from './scaler-server.js';
import type { ToMain, ToScaler } from './workload-table.js';
import { SharedValues, WorkloadTable } from './workload-table.js';

/** Serves KEDA from this thread until the main thread says `close`. */
async function serve(port: MessagePort, data: ScalerWorkerData): Promise<void> {
  const send = (message: ToMain): void => port.postMessage(message);
  const registry = new Registry();
  const grpcLatency = new Histogram({
    ...GRPC_LATENCY,
    labelNames: [...GRPC_LATENCY.labelNames],
    registers: [registry],
  });
  const table = new WorkloadTable(new SharedValues(data.buffer), send);
  try {
    const server = await startScalerServer({
      backend: table,
      tenants: data.tenants,
      metrics: { grpcLatency },
      host: data.host,
      port: data.port,
      ...(data.tls ? { tls: data.tls } : {}),
      ...(data.firstAnswerWaitMs !== undefined ? { firstAnswerWaitMs: data.firstAnswerWaitMs } : {}),
    });
    port.on('message', (message: ToScaler) => {
      if (message.type === 'metrics') {
        void registry.metrics().then((text) => send({ type: 'metrics', id: message.id, text }));
      } else if (message.type === 'close') {
        void server.close(message.graceMs).then(() => send({ type: 'closed' }));
      } else {
        table.receive(message);
      }
    });
    send({ type: 'listening', port: server.port });
  } catch (error) {
    // The code (EADDRINUSE, ENOTFOUND, …) tells the main thread which setting is at fault.
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    send({
      type: 'failed',
      message: error instanceof Error ? error.message : String(error),
      ...(typeof code === 'string' ? { code } : {}),
    });
  }
}

// Imported elsewhere (a module loader, a test), this file does nothing.
if (!isMainThread && parentPort) void serve(parentPort, workerData as ScalerWorkerData);
