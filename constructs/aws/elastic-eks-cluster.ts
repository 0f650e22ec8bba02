import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { RemovalPolicy, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { KubernetesVersion } from '../k8s/kubernetes-version.js';
import { checkDnsLabel, checkNonEmpty, PropError } from '../k8s/validation.js';
import {
  checkAvailabilityZones,
  checkAwsRegion,
  checkIamRoleArn,
  isCanonicalCidr,
  parseCidr,
} from './aws-checks.js';

/**
 * Minor of kubectl in the one kubectl layer package this library depends on
 * (`@aws-cdk/lambda-layer-kubectl-v35`). kubectl supports one minor of skew either way
 * (kubernetes.io/releases/version-skew-policy/#kubectl), so it can manage clusters 1.34 to 1.36.
 */
export const KUBECTL_MINOR = 35;

/** Service CIDR set on every cluster, so node bootstrap (nodeadm `spec.cluster.cidr`) can name it. */
export const SERVICE_IPV4_CIDR = '172.20.0.0/16';

/**
 * Shortest prefix a public API endpoint CIDR may have: `/8` (1/256 of the IPv4 internet). Together with
 * EKS's limit of {@link MAX_PUBLIC_CIDRS} CIDRs, the public endpoint can never be open to more than 40/256
 * of the IPv4 address space.
 */
export const MIN_PUBLIC_CIDR_PREFIX = 8;
/** CIDRs EKS takes for a public endpoint's access list. */
export const MAX_PUBLIC_CIDRS = 40;

/** Retention periods CloudWatch Logs accepts (days). */
const RETENTION_DAYS = new Set(
  Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number' && v > 0),
);

/**
 * The aws-eks-v2 Kubernetes version for one of ours, limited to the minors the bundled kubectl can
 * manage.
 * @throws PropError naming `prop` for a minor outside kubectl 1.35's skew window
 */
export function eksKubernetesVersion(
  version: KubernetesVersion,
  prop = 'kubernetesVersion',
): eks.KubernetesVersion {
  if (Math.abs(version.minor - KUBECTL_MINOR) > 1) {
    throw new PropError(
      prop,
      version.version,
      `is not supported on EKS by this package: its kubectl layer is 1.${KUBECTL_MINOR}, which manages 1.${KUBECTL_MINOR - 1} to 1.${KUBECTL_MINOR + 1} only`,
    );
  }
  return eks.KubernetesVersion.of(version.version);
}

/** Who can reach the cluster's Kubernetes API endpoint. */
export class ApiEndpoint {
  /** Only from inside the VPC (the kubectl handler runs in the private subnets). The default. */
  static private(): ApiEndpoint {
    return new ApiEndpoint(eks.EndpointAccess.PRIVATE, 'private');
  }

  /**
   * Public, restricted to the given CIDRs, plus private access from inside the VPC (nodes never
   * leave the VPC). Each CIDR must be an IPv4 CIDR (EKS refuses IPv6 ranges on an IPv4 cluster) with no
   * bits set after its prefix, listed once, and no wider than `/8` ({@link MIN_PUBLIC_CIDR_PREFIX}): so
   * neither `0.0.0.0/0` nor a few short prefixes that together cover the internet (`0.0.0.0/1` and
   * `128.0.0.0/1`) open the endpoint to everyone. At most 40 CIDRs (EKS's limit).
   */
  static publicAndPrivate(cidrs: readonly string[]): ApiEndpoint {
    checkNonEmpty('endpoint.cidrs', cidrs);
    if (cidrs.length > MAX_PUBLIC_CIDRS) {
      throw new PropError(
        'endpoint.cidrs',
        cidrs,
        `must list at most ${MAX_PUBLIC_CIDRS} CIDRs (EKS's limit)`,
      );
    }
    const seen = new Set<string>();
    for (const cidr of cidrs) {
      const parsed = parseCidr(cidr);
      if (parsed === undefined) {
        throw new PropError('endpoint.cidrs', cidr, 'must be an IPv4 CIDR like 203.0.113.0/24');
      }
      if (parsed.family === 6) {
        throw new PropError(
          'endpoint.cidrs',
          cidr,
          'must be an IPv4 CIDR like 203.0.113.0/24: EKS takes IPv6 ranges only on IPv6 clusters, and this cluster is IPv4',
        );
      }
      if (parsed.prefix === 0) {
        throw new PropError('endpoint.cidrs', cidr, 'must not open the API endpoint to the whole internet');
      }
      if (parsed.prefix < MIN_PUBLIC_CIDR_PREFIX) {
        throw new PropError(
          'endpoint.cidrs',
          cidr,
          `must not be wider than /${MIN_PUBLIC_CIDR_PREFIX}: a few wide ranges open the API endpoint to the whole internet as surely as 0.0.0.0/0`,
        );
      }
      if (!isCanonicalCidr(parsed)) {
        throw new PropError('endpoint.cidrs', cidr, 'must have no address bits set after the prefix length');
      }
      if (seen.has(cidr)) throw new PropError('endpoint.cidrs', cidr, 'is listed twice');
      seen.add(cidr);
    }
    return new ApiEndpoint(eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom(...cidrs), 'public-and-private');
  }

  private constructor(
    /** @internal */ readonly access: eks.EndpointAccess,
    /** `private` or `public-and-private`. */ readonly mode: 'private' | 'public-and-private',
  ) {}
}

/** Props for an {@link ElasticEksCluster}. */
export interface ElasticEksClusterProps {
  /** EKS cluster name (also the cluster-autoscaler discovery tag suffix). */
  readonly clusterName: string;
  /** Kubernetes minor; must be within the kubectl layer's skew (1.34 to 1.36). */
  readonly kubernetesVersion: KubernetesVersion;
  /** Days the control-plane log group keeps logs; one of CloudWatch's retention values. */
  readonly logRetentionDays: number;
  /** API endpoint access. @default ApiEndpoint.private() */
  readonly endpoint?: ApiEndpoint;
  /**
   * Availability zones of the new VPC: at least two (EKS needs cluster subnets in two), each
   * `<region>` plus a letter and listed once. Given explicitly so synth never looks them up.
   * @default `<region>a`, `<region>b`, `<region>c`
   */
  readonly availabilityZones?: readonly string[];
  /**
   * Region of the stack, for the default zones: a region name like `us-east-1`, equal to the stack's
   * region when the stack has one.
   */
  readonly region: string;
  /**
   * IAM role ARN (`arn:aws:iam::<account>:role/<name>`) given cluster-admin through an access entry
   * (AmazonEKSClusterAdminPolicy). @default none
   */
  readonly adminRoleArn?: string;
}

/**
 * An EKS cluster (aws-eks-v2, native `AWS::EKS::Cluster`, access entries) as ElasticAI runs it: a new
 * VPC with flow logs, secrets envelope-encrypted with a rotating KMS key, every control-plane log type
 * kept for the environment's retention, a private API endpoint by default, no default capacity (node
 * groups are added by {@link EksManagedNodeGroup} and {@link MixedInstancesNodeGroup}) and the kubectl
 * handler from the one kubectl layer package (1.35) for Helm charts and manifests.
 */
export class ElasticEksCluster extends Construct {
  readonly cluster: eks.Cluster;
  readonly vpc: ec2.Vpc;
  readonly secretsKey: kms.Key;
  readonly controlPlaneLogGroup: logs.LogGroup;
  /** The EKS-created cluster security group, shared by the control plane and every node. */
  readonly clusterSecurityGroup: ec2.ISecurityGroup;
  readonly kubernetesVersion: KubernetesVersion;
  readonly clusterName: string;

  constructor(scope: Construct, id: string, props: ElasticEksClusterProps) {
    super(scope, id);
    // Native AWS::IAM::OIDCProvider for IRSA instead of aws-eks's deprecated custom resource. Set on
    // this construct (before any child exists) so it holds whatever the app's cdk.json says.
    this.node.setContext('@aws-cdk/aws-eks:useNativeOidcProvider', true);
    checkDnsLabel('clusterName', props.clusterName);
    if (!RETENTION_DAYS.has(props.logRetentionDays)) {
      throw new PropError(
        'logRetentionDays',
        props.logRetentionDays,
        `must be a CloudWatch Logs retention (${[...RETENTION_DAYS].sort((a, b) => a - b).join(', ')})`,
      );
    }
    const version = eksKubernetesVersion(props.kubernetesVersion);
    this.kubernetesVersion = props.kubernetesVersion;
    this.clusterName = props.clusterName;
    checkAwsRegion('region', props.region);
    const stackRegion = Stack.of(this).region;
    if (!Token.isUnresolved(stackRegion) && stackRegion !== props.region) {
      throw new PropError('region', props.region, `must be the stack's region ("${stackRegion}")`);
    }
    const zones = props.availabilityZones ?? ['a', 'b', 'c'].map((z) => `${props.region}${z}`);
    checkNonEmpty('availabilityZones', zones);
    checkAvailabilityZones('availabilityZones', zones, props.region);
    if (zones.length < 2) {
      throw new PropError(
        'availabilityZones',
        zones,
        'must list at least two zones: EKS needs the cluster subnets in at least two availability zones',
      );
    }
    if (props.adminRoleArn !== undefined) checkIamRoleArn('adminRoleArn', props.adminRoleArn);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      availabilityZones: [...zones],
      natGateways: zones.length,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'nodes', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
      ],
      flowLogs: {
        rejected: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, 'FlowLogs', {
              retention: props.logRetentionDays as logs.RetentionDays,
              removalPolicy: RemovalPolicy.DESTROY,
            }),
          ),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    });
    // Load balancers find subnets by these tags.
    for (const subnet of this.vpc.publicSubnets) Tags.of(subnet).add('kubernetes.io/role/elb', '1');
    for (const subnet of this.vpc.privateSubnets) Tags.of(subnet).add('kubernetes.io/role/internal-elb', '1');

    this.secretsKey = new kms.Key(this, 'SecretsKey', {
      description: `Envelope encryption of Kubernetes secrets of EKS cluster ${props.clusterName}`,
      enableKeyRotation: true,
    });

    // EKS writes control-plane logs to this exact group; creating it first sets the retention.
    this.controlPlaneLogGroup = new logs.LogGroup(this, 'ControlPlaneLogs', {
      logGroupName: `/aws/eks/${props.clusterName}/cluster`,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const endpoint = props.endpoint ?? ApiEndpoint.private();
    this.cluster = new eks.Cluster(this, 'Cluster', {
      clusterName: props.clusterName,
      version,
      vpc: this.vpc,
      vpcSubnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
      endpointAccess: endpoint.access,
      secretsEncryptionKey: this.secretsKey,
      serviceIpv4Cidr: SERVICE_IPV4_CIDR,
      clusterLogging: [
        eks.ClusterLoggingTypes.API,
        eks.ClusterLoggingTypes.AUDIT,
        eks.ClusterLoggingTypes.AUTHENTICATOR,
        eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
        eks.ClusterLoggingTypes.SCHEDULER,
      ],
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      defaultCapacity: 0,
      kubectlProviderOptions: { kubectlLayer: new KubectlV35Layer(this, 'KubectlLayer') },
    });
    this.cluster.node.addDependency(this.controlPlaneLogGroup);
    // CloudFormation's schema marks EncryptionConfig.Resources deprecated, yet EKS needs ["secrets"].
    Validations.of(this.cluster).acknowledge({
      id: 'CloudFormation-Validate::W9009',
      reason:
        'EncryptionConfig.Resources ["secrets"] is what enables secrets envelope encryption in EKS; the schema deprecation has no replacement property.',
    });
    this.clusterSecurityGroup = this.cluster.clusterSecurityGroup;

    if (props.adminRoleArn !== undefined) {
      this.cluster.grantAccess('AdminAccess', props.adminRoleArn, [
        eks.AccessPolicy.fromAccessPolicyName('AmazonEKSClusterAdminPolicy', {
          accessScopeType: eks.AccessScopeType.CLUSTER,
        }),
      ]);
    }
  }

  /** The cluster's IAM OIDC provider (for IRSA trust policies). */
  get openIdConnectProvider(): iam.IOpenIdConnectProvider {
    return this.cluster.openIdConnectProvider;
  }
}
