import type { PrometheusAuthKind } from '../../runtime/service/config.js';
import type { SecretKeyRef } from './autoscaled-workload.js';
import { ampRegionProblem, ampUrlHost, parseAmpWorkspaceArn } from './aws-amp.js';
import { AWS_REGION_NAME, AWS_REGION_PATTERN } from './aws-regions.js';
import { PropError, checkDnsLabel, checkDnsSubdomain } from './validation.js';

/**
 * Options of {@link RuntimeHistory.amazonManagedPrometheus}: exactly one of `workspaceUrl`,
 * `workspaceArn`, `workspaceId`. The workspace's region must be in a partition where the service's
 * query endpoint is confirmed (`AMP_PARTITIONS` in `aws-amp.ts`: the commercial `aws`) for
 * `workspaceArn` and `workspaceId`; a region of China, GovCloud, the ISO partitions or the European
 * Sovereign Cloud is refused there, naming the prop that gave it. A `workspaceUrl` is accepted in every
 * partition, on `aps-workspaces.<region>.<the partition's DNS suffix>`.
 */
export interface AmazonManagedPrometheusOptions {
  /**
   * The workspace's Prometheus-compatible endpoint, `https://aps-workspaces.<region>.amazonaws.com/workspaces/<ws-id>`.
   * @default built from `workspaceArn`, or `workspaceId` and `region`
   */
  readonly workspaceUrl?: string;
  /**
   * The workspace's ARN, `arn:aws:aps:<region>:<account>:workspace/<ws-id>` (the partition must be the
   * region's). @default unset
   */
  readonly workspaceArn?: string;
  /** The workspace id, `ws-…` (needs `region`). @default unset */
  readonly workspaceId?: string;
  /**
   * Region of the workspace (SigV4 signing region). @default the region in `workspaceUrl` or `workspaceArn`
   */
  readonly region?: string;
}

/** Where the runtime's history traffic goes, for its NetworkPolicy egress rule. */
export interface HistoryDestination {
  /** Namespace of an in-cluster Prometheus; undefined for an endpoint outside the cluster. */
  readonly namespace?: string;
  /** TCP port of the endpoint. */
  readonly port: number;
}

type HistoryKind = 'prometheus' | 'amazon-managed-prometheus' | 'azure-monitor-workspace' | 'webhook-only';

interface HistorySpec {
  readonly kind: HistoryKind;
  readonly url?: string;
  readonly auth: PrometheusAuthKind;
  readonly awsRegion?: string;
  readonly workspaceId?: string;
  readonly bearerToken?: SecretKeyRef;
}

/** `https://aps-workspaces.<region>.<domain>/workspaces/<ws-id>[/]`, a region of any partition. */
const AMP_URL = new RegExp(
  `^https://aps-workspaces\\.(${AWS_REGION_PATTERN})\\.([a-z0-9.-]+)/workspaces/(ws-[A-Za-z0-9-]+)/?$`,
);
const AMP_ID = /^ws-[A-Za-z0-9-]+$/;
const AZURE_MONITOR_QUERY = /^https:\/\/[a-z0-9-]+\.[a-z0-9]+\.prometheus\.monitor\.azure\.(com|us|cn)\/?$/;
/** `<service>.<namespace>.svc[.<cluster domain>]`: a Service of this cluster. */
const IN_CLUSTER_HOST = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.[a-z0-9.-]+)?$/;

/**
 * Where the decision runtime reads each workload's demand history: a Prometheus HTTP API (plain, with a
 * bearer token, Amazon Managed Service for Prometheus signed with SigV4, or an Azure Monitor workspace
 * with Entra ID), or nothing but the runtime's event webhook. Rendered as the runtime's
 * `ELASTICAI_PROMETHEUS_*` variables; credentials are never inline: a bearer token is a mounted Secret,
 * cloud access comes from the runtime's pod identity.
 */
export class RuntimeHistory {
  /** An unauthenticated Prometheus HTTP API base URL (the runtime appends `/api/v1/...`). */
  static prometheus(url: string): RuntimeHistory {
    return new RuntimeHistory({ kind: 'prometheus', url: checkBaseUrl('history.url', url), auth: 'none' });
  }

  /**
   * A Prometheus HTTP API that wants `Authorization: Bearer <token>`; the token is read from one key of
   * a Secret mounted read-only (the runtime re-reads it, so rotation needs no restart). Plain `http` is
   * refused outside the cluster: the token would cross the network in clear.
   */
  static prometheusWithBearerToken(url: string, token: SecretKeyRef): RuntimeHistory {
    const base = checkBaseUrl('history.url', url);
    if (new URL(base).protocol === 'http:' && !IN_CLUSTER_HOST.test(new URL(base).hostname)) {
      throw new PropError(
        'history.url',
        url,
        'must be https when a bearer token is sent to a host outside the cluster',
      );
    }
    checkDnsSubdomain('history.token.secretName', token.secretName);
    if (!/^[-._a-zA-Z0-9]+$/.test(token.key)) {
      throw new PropError('history.token.key', token.key, 'must be a Secret data key');
    }
    return new RuntimeHistory({ kind: 'prometheus', url: base, auth: 'bearer', bearerToken: { ...token } });
  }

  /**
   * An Amazon Managed Service for Prometheus workspace, queried with SigV4 as the runtime's IRSA role
   * (which needs the workspace's `aps:Query*`/`aps:Get*` actions: `DecisionRuntimeRole`).
   */
  static amazonManagedPrometheus(options: AmazonManagedPrometheusOptions): RuntimeHistory {
    const p = 'history.amazonManagedPrometheus';
    const given = (['workspaceUrl', 'workspaceArn', 'workspaceId'] as const).filter(
      (k) => options[k] !== undefined,
    );
    if (given.length !== 1) {
      throw new PropError(p, given, 'needs exactly one of workspaceUrl, workspaceArn or workspaceId');
    }
    let region: string | undefined;
    let workspaceId: string;
    if (options.workspaceUrl !== undefined) {
      const prop = `${p}.workspaceUrl`;
      const m = AMP_URL.exec(options.workspaceUrl);
      if (!m) {
        throw new PropError(
          prop,
          options.workspaceUrl,
          'must be https://aps-workspaces.<region>.amazonaws.com/workspaces/<ws-id> (without /api/v1)',
        );
      }
      region = m[1] as string;
      workspaceId = m[3] as string;
      // An explicit URL is accepted in every partition: outside the confirmed ones it is the user's word.
      const expected = ampUrlHost(region);
      if (`aps-workspaces.${region}.${m[2] as string}` !== expected) {
        throw new PropError(
          prop,
          options.workspaceUrl,
          `must use the endpoint of region "${region}" (${expected})`,
        );
      }
    } else if (options.workspaceArn !== undefined) {
      const prop = `${p}.workspaceArn`;
      const workspace = parseAmpWorkspaceArn(options.workspaceArn);
      if (!workspace) {
        throw new PropError(
          prop,
          options.workspaceArn,
          "must be arn:<partition>:aps:<region>:<account>:workspace/<ws-id>, with the region's partition",
        );
      }
      region = workspace.region;
      workspaceId = workspace.workspaceId;
      checkAmpRegion(prop, options.workspaceArn, region);
    } else {
      workspaceId = options.workspaceId as string;
      if (!AMP_ID.test(workspaceId)) {
        throw new PropError(`${p}.workspaceId`, workspaceId, 'must be a workspace id like "ws-…"');
      }
      if (options.region === undefined) {
        throw new PropError(`${p}.region`, undefined, 'is required with workspaceId');
      }
    }
    if (options.region !== undefined) {
      if (!AWS_REGION_NAME.test(options.region)) {
        throw new PropError(`${p}.region`, options.region, 'must be an AWS region like "us-east-1"');
      }
      if (region !== undefined && region !== options.region) {
        throw new PropError(`${p}.region`, options.region, `must match the workspace's region (${region})`);
      }
      region = options.region;
      if (options.workspaceUrl === undefined) checkAmpRegion(`${p}.region`, options.region, region);
    }
    const host = ampUrlHost(region as string);
    return new RuntimeHistory({
      kind: 'amazon-managed-prometheus',
      url: `https://${host}/workspaces/${workspaceId}`,
      auth: 'aws-sigv4',
      awsRegion: region,
      workspaceId,
    });
  }

  /**
   * An Azure Monitor workspace (AKS managed Prometheus), queried with an Entra ID token of the runtime's
   * workload identity (which needs Monitoring Data Reader on the workspace). `queryEndpoint` is the
   * workspace's "Query endpoint", `https://<name>.<region>.prometheus.monitor.azure.com`.
   */
  static azureMonitorWorkspace(queryEndpoint: string): RuntimeHistory {
    if (!AZURE_MONITOR_QUERY.test(queryEndpoint)) {
      throw new PropError(
        'history.queryEndpoint',
        queryEndpoint,
        'must be an Azure Monitor workspace query endpoint https://<name>.<region>.prometheus.monitor.azure.com',
      );
    }
    return new RuntimeHistory({
      kind: 'azure-monitor-workspace',
      url: queryEndpoint.replace(/\/$/, ''),
      auth: 'azure',
    });
  }

  /** No Prometheus: demand arrives only through the runtime's signed event webhook. */
  static webhookOnly(): RuntimeHistory {
    return new RuntimeHistory({ kind: 'webhook-only', auth: 'none' });
  }

  private constructor(private readonly spec: HistorySpec) {}

  /** Which source this is. */
  get kind(): HistoryKind {
    return this.spec.kind;
  }

  /** Base URL of the Prometheus HTTP API; undefined for {@link RuntimeHistory.webhookOnly}. */
  get url(): string | undefined {
    return this.spec.url;
  }

  /** How the runtime authenticates to the Prometheus API. */
  get auth(): PrometheusAuthKind {
    return this.spec.auth;
  }

  /** SigV4 signing region (Amazon Managed Prometheus only). */
  get awsRegion(): string | undefined {
    return this.spec.awsRegion;
  }

  /** Amazon Managed Prometheus workspace id (`ws-…`). */
  get workspaceId(): string | undefined {
    return this.spec.workspaceId;
  }

  /** The Secret key holding the bearer token ({@link RuntimeHistory.prometheusWithBearerToken}). */
  get bearerToken(): SecretKeyRef | undefined {
    return this.spec.bearerToken;
  }

  /**
   * Where history queries go: the namespace of an in-cluster Prometheus (`<svc>.<ns>.svc`, or a bare
   * Service name in `ownNamespace`) or an outside endpoint, and the port.
   */
  destination(ownNamespace: string): HistoryDestination | undefined {
    if (this.spec.url === undefined) return undefined;
    const url = new URL(this.spec.url);
    const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    const inCluster = IN_CLUSTER_HOST.exec(url.hostname);
    if (inCluster) return { namespace: inCluster[2] as string, port };
    if (/^[a-z0-9-]+$/.test(url.hostname) && url.hostname !== 'localhost') {
      return { namespace: ownNamespace, port };
    }
    return { port };
  }
}

/**
 * Throws a PropError naming `prop` and `value` (the prop that gave the region) unless Amazon Managed
 * Service for Prometheus has a confirmed query endpoint in `region`'s partition (`aws-amp.ts`).
 */
function checkAmpRegion(prop: string, value: string, region: string): void {
  const problem = ampRegionProblem(region);
  if (problem !== undefined) throw new PropError(prop, value, problem);
}

/** An absolute http(s) base URL without credentials, query, fragment or the `/api/v1` the runtime appends. */
function checkBaseUrl(prop: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PropError(prop, raw, 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PropError(prop, raw, 'must be an absolute http(s) URL');
  }
  if (url.username !== '' || url.password !== '') {
    throw new PropError(prop, '<redacted>', 'must not carry credentials; use prometheusWithBearerToken');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new PropError(prop, raw, 'must not have a query or fragment');
  }
  if (/\/api\/v1\/?$/.test(url.pathname)) {
    throw new PropError(prop, raw, 'must be the base URL: the runtime appends /api/v1 itself');
  }
  const inCluster = IN_CLUSTER_HOST.exec(url.hostname);
  if (inCluster) checkDnsLabel(`${prop} namespace`, inCluster[2] as string);
  return raw.replace(/\/+$/, '');
}
