import * as pulumi from '@pulumi/pulumi';
import { AzureMonitorWorkspace } from '@pulumi/azure-native/monitor/azureMonitorWorkspace.js';
import { DataCollectionEndpoint } from '@pulumi/azure-native/monitor/dataCollectionEndpoint.js';
import { DataCollectionRule } from '@pulumi/azure-native/monitor/dataCollectionRule.js';
import { DataCollectionRuleAssociation } from '@pulumi/azure-native/monitor/dataCollectionRuleAssociation.js';
import { boundedName, checkAzureLocation } from './azure-checks.js';

/** Props for {@link AksManagedPrometheus}. */
export interface AksManagedPrometheusProps {
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure location (a plain string: it is part of the data collection names). */
  readonly location: string;
  /** Cluster name, used in resource names. */
  readonly clusterName: string;
  /** Resource id of the managed cluster scraped (its `azureMonitorProfile.metrics.enabled` must be true). */
  readonly clusterId: pulumi.Input<string>;
}

/** Longest Azure Monitor workspace and data collection endpoint/rule name generated. */
export const MAX_MONITOR_NAME = 44;

/**
 * Names of the Azure Monitor workspace (`amw-<cluster>`) and of the data collection endpoint and rule
 * (`MSProm-<location>-<cluster>`, as Microsoft's templates name them), each bounded to
 * {@link MAX_MONITOR_NAME} characters (the data collection endpoint limit) by {@link boundedName}:
 * a longer name keeps its start and ends in 8 hex characters of its hash.
 */
export function aksManagedPrometheusNames(
  location: string,
  clusterName: string,
): { workspace: string; dataCollection: string } {
  return {
    workspace: boundedName(`amw-${clusterName}`, MAX_MONITOR_NAME),
    dataCollection: boundedName(`MSProm-${location}-${clusterName}`, MAX_MONITOR_NAME),
  };
}

/** Name of the Prometheus destination inside the data collection rule. */
const DESTINATION = 'MonitoringAccount1';

/**
 * Azure Monitor managed Prometheus for one AKS cluster, wired the way Microsoft's own templates do
 * it: an Azure Monitor workspace, a data collection endpoint and rule forwarding the
 * `Microsoft-PrometheusMetrics` stream to the workspace, and two associations on the cluster (the rule,
 * and the endpoint under the fixed name `configurationAccessEndpoint`). The cluster side is
 * `azureMonitorProfile.metrics.enabled`, set by AksCluster. The workspace keeps metrics for 18 months
 * (fixed by Azure); the decision runtime reads them with Monitoring Data Reader.
 */
export class AksManagedPrometheus extends pulumi.ComponentResource {
  readonly workspace: AzureMonitorWorkspace;
  readonly endpoint: DataCollectionEndpoint;
  readonly rule: DataCollectionRule;
  readonly ruleAssociation: DataCollectionRuleAssociation;
  readonly endpointAssociation: DataCollectionRuleAssociation;

  constructor(name: string, props: AksManagedPrometheusProps, opts?: pulumi.ComponentResourceOptions) {
    checkAzureLocation('location', props.location);
    const names = aksManagedPrometheusNames(props.location, props.clusterName);
    super('elasticai:azure:AksManagedPrometheus', name, {}, opts);
    const parent = { parent: this };
    const dataCollectionName = names.dataCollection;
    this.workspace = new AzureMonitorWorkspace(
      `${name}-workspace`,
      {
        resourceGroupName: props.resourceGroupName,
        location: props.location,
        azureMonitorWorkspaceName: names.workspace,
      },
      parent,
    );
    this.endpoint = new DataCollectionEndpoint(
      `${name}-endpoint`,
      {
        resourceGroupName: props.resourceGroupName,
        location: props.location,
        dataCollectionEndpointName: dataCollectionName,
        kind: 'Linux',
        networkAcls: { publicNetworkAccess: 'Enabled' },
      },
      parent,
    );
    this.rule = new DataCollectionRule(
      `${name}-rule`,
      {
        resourceGroupName: props.resourceGroupName,
        location: props.location,
        dataCollectionRuleName: dataCollectionName,
        kind: 'Linux',
        dataCollectionEndpointId: this.endpoint.id,
        dataSources: {
          prometheusForwarder: [
            {
              name: 'PrometheusDataSource',
              streams: ['Microsoft-PrometheusMetrics'],
              labelIncludeFilter: {},
            },
          ],
        },
        destinations: { monitoringAccounts: [{ name: DESTINATION, accountResourceId: this.workspace.id }] },
        dataFlows: [{ streams: ['Microsoft-PrometheusMetrics'], destinations: [DESTINATION] }],
      },
      parent,
    );
    this.ruleAssociation = new DataCollectionRuleAssociation(
      `${name}-rule-association`,
      {
        associationName: dataCollectionName,
        resourceUri: props.clusterId,
        dataCollectionRuleId: this.rule.id,
      },
      parent,
    );
    this.endpointAssociation = new DataCollectionRuleAssociation(
      `${name}-endpoint-association`,
      {
        // Azure requires exactly this name for a data collection endpoint association.
        associationName: 'configurationAccessEndpoint',
        resourceUri: props.clusterId,
        dataCollectionEndpointId: this.endpoint.id,
      },
      parent,
    );
    this.registerOutputs({ workspaceId: this.workspace.id });
  }
}
