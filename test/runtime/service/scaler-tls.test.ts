/**
 * gRPC TLS as KEDA uses it: the trigger's `caCert` verifies the runtime's certificate, and with a CA
 * configured on the runtime (`ca.crt` in ELASTICAI_GRPC_TLS_DIR) KEDA must present `tlsClientCert`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { ScalerServer } from '../../../runtime/service/grpc/scaler-server.js';
import { startScalerServer } from '../../../runtime/service/grpc/scaler-server.js';
import { registryBackend } from '../../../runtime/service/grpc/scaler-backend.js';
import { selfSignedCertificate } from '../../support/fake-kube-api.js';
import { KedaClient } from '../../support/keda-client.js';
import { MemorySource, dailyDemand, dayRegistry } from '../../support/memory-source.js';

const REF = {
  namespace: 'shop',
  name: 'tls',
  scalerMetadata: { query: 'demand', capacityPerReplica: '40' },
};

describe('KEDA external scaler over TLS with client certificates', () => {
  const serverCert = selfSignedCertificate();
  const clientCert = selfSignedCertificate();
  const strangerCert = selfSignedCertificate();
  let server: ScalerServer;

  before(async () => {
    assert.ok(serverCert && clientCert && strangerCert, 'openssl makes test certificates');
    const registry = dayRegistry(new MemorySource(dailyDemand));
    server = await startScalerServer({
      backend: registryBackend(registry),
      host: '127.0.0.1',
      port: 0,
      tls: {
        cert: Buffer.from(serverCert.cert),
        key: Buffer.from(serverCert.key),
        ca: Buffer.from(clientCert.cert),
      },
    });
  });

  after(async () => server?.close(500));

  const client = (cert?: { key: string; cert: string }): KedaClient =>
    new KedaClient(
      `127.0.0.1:${server.port}`,
      grpc.credentials.createSsl(
        Buffer.from(serverCert?.cert ?? ''),
        cert ? Buffer.from(cert.key) : null,
        cert ? Buffer.from(cert.cert) : null,
      ),
    );

  it('answers a client that trusts the runtime and presents an accepted certificate', async () => {
    const keda = client(clientCert);
    const spec = await keda.getMetricSpec(REF);
    assert.equal(spec.metricSpecs[0]?.metricName, 'elasticai-replicas');
    keda.close();
  });

  it('refuses clients without a certificate or with one the runtime does not trust', async () => {
    for (const cert of [undefined, strangerCert]) {
      const keda = client(cert);
      await assert.rejects(
        keda.getMetricSpec(REF),
        (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE,
      );
      keda.close();
    }
  });

  it('is not reachable in plaintext', async () => {
    const keda = new KedaClient(`127.0.0.1:${server.port}`);
    await assert.rejects(
      keda.getMetricSpec(REF),
      (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE,
    );
    keda.close();
  });
});
