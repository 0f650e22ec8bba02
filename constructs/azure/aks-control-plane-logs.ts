import * as pulumi from '@pulumi/pulumi';
import { DiagnosticSetting } from '@pulumi/azure-native/monitor/diagnosticSetting.js';
import { Workspace } from '@pulumi/azure-native/operationalinsights/workspace.js';
import { checkInteger, checkNonEmpty, PropError } from '../k8s/validation.js';

/** Control-plane log categories AKS emits through diagnostic settings. */
export type AksLogCategory =
  | 'kube-apiserver'
  | 'kube-audit'
  | 'kube-audit-admin'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'cluster-autoscaler'
  | 'cloud-controller-manager'
  | 'guard';

const KNOWN_CATEGORIES: ReadonlySet<string> = new Set<AksLogCategory>([
  'kube-apiserver',
  'kube-audit',
  'kube-audit-admin',
  'kube-controller-manager',
  'kube-scheduler',
  'cluster-autoscaler',
  'cloud-controller-manager',
  'guard',
]);

/**
 * Categories sent by default: the API server, write-only audit (`kube-audit-admin` is far cheaper
 * than full `kube-audit`), controller manager, the managed cluster autoscaler's decisions and Entra ID
 * authorization (`guard`).
 */
export const DEFAULT_AKS_LOG_CATEGORIES: readonly AksLogCategory[] = [
  'kube-apiserver',
  'kube-audit-admin',
  'kube-controller-manager',
  'cluster-autoscaler',
  'guard',
];

/**
 * Validates the retention (30-730 days) and the categories (known, at least one) of control-plane
 * logs, naming `logRetentionDays` / `logCategories[i]`, and returns the categories to send.
 */
export function checkAksControlPlaneLogs(
  retentionInDays: number,
  categories: readonly AksLogCategory[] = DEFAULT_AKS_LOG_CATEGORIES,
): readonly AksLogCategory[] {
  checkInteger('logRetentionDays', retentionInDays, 30, 730);
  checkNonEmpty('logCategories', categories);
  categories.forEach((c, i) => {
    if (!KNOWN_CATEGORIES.has(c)) {
      throw new PropError(`logCategories[${i}]`, c, `must be one of ${[...KNOWN_CATEGORIES].join(', ')}`);
    }
  });
  return categories;
}

/** Props for {@link AksControlPlaneLogs}. */
export interface AksControlPlaneLogsProps {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  /** Cluster name, used to name the workspace (`log-<cluster>`). */
  readonly clusterName: string;
  /** Resource id of the managed cluster whose logs are collected. */
  readonly clusterId: pulumi.Input<string>;
  /**
   * Days logs are kept (the environment's `logRetentionDays`); Log Analytics' PerGB2018 tier takes
   * 30 to 730.
   */
  readonly retentionInDays: number;
  /** Log categories to collect. @default DEFAULT_AKS_LOG_CATEGORIES */
  readonly categories?: readonly AksLogCategory[];
}

/**
 * AKS control-plane logs: a Log Analytics workspace with the environment's retention and a diagnostic
 * setting on the managed cluster sending the chosen categories to resource-specific tables.
 */
export class AksControlPlaneLogs extends pulumi.ComponentResource {
  readonly workspace: Workspace;
  readonly diagnosticSetting: DiagnosticSetting;

  constructor(name: string, props: AksControlPlaneLogsProps, opts?: pulumi.ComponentResourceOptions) {
    const categories = checkAksControlPlaneLogs(props.retentionInDays, props.categories);
    super('elasticai:azure:AksControlPlaneLogs', name, {}, opts);
    this.workspace = new Workspace(
      `${name}-workspace`,
      {
        resourceGroupName: props.resourceGroupName,
        location: props.location,
        workspaceName: `log-${props.clusterName}`,
        sku: { name: 'PerGB2018' },
        retentionInDays: props.retentionInDays,
      },
      { parent: this },
    );
    this.diagnosticSetting = new DiagnosticSetting(
      `${name}-diagnostics`,
      {
        name: 'elasticai-control-plane',
        resourceUri: props.clusterId,
        workspaceId: this.workspace.id,
        logAnalyticsDestinationType: 'Dedicated',
        logs: categories.map((category) => ({ category, enabled: true })),
      },
      { parent: this },
    );
    this.registerOutputs({ workspaceId: this.workspace.id });
  }
}
