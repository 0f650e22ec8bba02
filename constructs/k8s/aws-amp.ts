// Amazon Managed Service for Prometheus (AMP) workspaces: their ARNs and the query endpoint of each
// partition, in one place. The decision runtime's history source (RuntimeHistory) builds the endpoint,
// and the AWS constructs and stacks check the ARN the runtime's role may query (DecisionRuntimeRole, the
// AWS environment stack). It lives in `constructs/k8s` because `constructs/k8s` may not import
// `constructs/aws`; it imports only the region names and partitions of `aws-regions.ts`.
import { AWS_DNS_SUFFIX, AWS_PARTITIONS, AWS_REGION_PATTERN, awsPartitionOf } from './aws-regions.js';

/**
 * The domain of the AMP data-plane (query) endpoint `aps-workspaces.<region>.<domain>`, per partition,
 * for the partitions where it is confirmed: the commercial one (AWS General Reference, "Amazon Managed
 * Service for Prometheus endpoints and quotas", lists `aps-workspaces.<region>.amazonaws.com`). The SDK
 * knows only AMP's control plane (`aps.{Region}.{dnsSuffix}`, a rule it applies to every partition
 * alike, so it says nothing about where the service exists); no source found lists AMP in China,
 * GovCloud, the ISO partitions or the European Sovereign Cloud, so no endpoint is made up there (from a
 * workspace ARN or id): only an explicit `workspaceUrl` is taken ({@link ampUrlHost}).
 */
const AMP_QUERY_DOMAINS: Readonly<Record<string, string>> = {
  aws: AWS_DNS_SUFFIX.aws as string,
};

/**
 * The host a `workspaceUrl` of `region` must have: the confirmed endpoint, or in another partition
 * `aps-workspaces.<region>.<the partition's DNS suffix>`, taken as the user's word that it exists.
 */
export function ampUrlHost(region: string): string {
  return (
    ampQueryHost(region) ?? `aps-workspaces.${region}.${AWS_DNS_SUFFIX[awsPartitionOf(region)] as string}`
  );
}

/** The partitions with a confirmed AMP query endpoint. */
export const AMP_PARTITIONS: readonly string[] = Object.keys(AMP_QUERY_DOMAINS);

/** AMP workspace ids as the ARN and the endpoint carry them. */
const WORKSPACE_ID = 'ws-[A-Za-z0-9-]+';

const AMP_WORKSPACE_ARN = new RegExp(
  `^arn:(${AWS_PARTITIONS.join('|')}):aps:(${AWS_REGION_PATTERN}):(\\d{12}):workspace/(${WORKSPACE_ID})$`,
);

/** A workspace, as its ARN names it. */
export interface AmpWorkspace {
  /** The region's partition, one of `AWS_PARTITIONS`. */
  readonly partition: string;
  readonly region: string;
  /** The 12-digit account id. */
  readonly account: string;
  /** `ws-…`. */
  readonly workspaceId: string;
}

/**
 * The parts of an AMP workspace ARN, `arn:<partition>:aps:<region>:<account>:workspace/<ws-id>`, with a
 * partition of `AWS_PARTITIONS` that is the region's own; undefined for anything else. Whether AMP has
 * a query endpoint in that partition is {@link ampQueryHost}'s business.
 */
export function parseAmpWorkspaceArn(value: string): AmpWorkspace | undefined {
  const m = typeof value === 'string' ? AMP_WORKSPACE_ARN.exec(value) : null;
  if (!m || awsPartitionOf(m[2] as string) !== m[1]) return undefined;
  return {
    partition: m[1] as string,
    region: m[2] as string,
    account: m[3] as string,
    workspaceId: m[4] as string,
  };
}

/**
 * The AMP query endpoint host of `region` (`aps-workspaces.<region>.amazonaws.com`), or undefined when
 * the region's partition has no confirmed AMP endpoint (see {@link AMP_PARTITIONS}).
 */
export function ampQueryHost(region: string): string | undefined {
  const domain = AMP_QUERY_DOMAINS[awsPartitionOf(region)];
  return domain === undefined ? undefined : `aps-workspaces.${region}.${domain}`;
}

/** Why a region cannot have an AMP workspace here (a PropError reason), or undefined if it can. */
export function ampRegionProblem(region: string): string | undefined {
  if (ampQueryHost(region) !== undefined) return undefined;
  return (
    `must be in a partition where Amazon Managed Service for Prometheus has a confirmed query endpoint ` +
    `(${AMP_PARTITIONS.join(', ')}): region "${region}" is in ${awsPartitionOf(region)}; ` +
    `if the service is there, give its workspaceUrl (https://${ampUrlHost(region)}/workspaces/<ws-id>)`
  );
}
