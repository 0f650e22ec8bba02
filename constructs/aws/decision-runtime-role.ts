import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { PropError } from '../k8s/validation.js';
import { IrsaRole } from './irsa-role.js';

/** Props for a {@link DecisionRuntimeRole}. */
export interface DecisionRuntimeRoleProps {
  readonly openIdConnectProvider: iam.IOpenIdConnectProvider;
  /**
   * Amazon Managed Service for Prometheus workspace the runtime reads its history from.
   * @default none: the runtime reads an in-cluster Prometheus and needs no AWS permission
   */
  readonly prometheusWorkspaceArn?: string;
  /** The runtime's namespace. @default 'elasticai-system' */
  readonly namespace?: string;
  /** The runtime's ServiceAccount. @default 'decision-runtime' */
  readonly serviceAccount?: string;
}

/** Read-only query actions of Amazon Managed Service for Prometheus. */
export const PROMETHEUS_QUERY_ACTIONS = [
  'aps:GetLabels',
  'aps:GetMetricMetadata',
  'aps:GetSeries',
  'aps:QueryMetrics',
];

const APS_WORKSPACE_ARN = /^arn:aws[a-z-]*:aps:[a-z0-9-]+:\d{12}:workspace\/ws-[A-Za-z0-9-]+$/;

/**
 * The IRSA role of the decision runtime: read only. It may query one Managed Prometheus workspace
 * when one is configured; it changes nothing in AWS (scaling decisions go through KEDA).
 */
export class DecisionRuntimeRole extends IrsaRole {
  constructor(scope: Construct, id: string, props: DecisionRuntimeRoleProps) {
    super(scope, id, {
      openIdConnectProvider: props.openIdConnectProvider,
      namespace: props.namespace ?? 'elasticai-system',
      serviceAccount: props.serviceAccount ?? 'decision-runtime',
      description: 'ElasticAI decision runtime (read only)',
    });
    if (props.prometheusWorkspaceArn !== undefined) {
      if (!APS_WORKSPACE_ARN.test(props.prometheusWorkspaceArn)) {
        throw new PropError(
          'prometheusWorkspaceArn',
          props.prometheusWorkspaceArn,
          'must be an Amazon Managed Service for Prometheus workspace ARN',
        );
      }
      this.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'QueryMetricHistory',
          actions: PROMETHEUS_QUERY_ACTIONS,
          resources: [props.prometheusWorkspaceArn],
        }),
      );
    }
  }
}
