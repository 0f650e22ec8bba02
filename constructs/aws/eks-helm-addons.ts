import type * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { ADDON_CHARTS, type KedaChartValues, type MetricsServerChartValues } from '../k8s/gitops-addons.js';
import { KEDA_CHART_METRICS_VALUES } from '../k8s/keda/keda-operator-metrics.js';
import { checkInteger } from '../k8s/validation.js';
import { checkIamRoleArn } from './aws-checks.js';

/** Props for {@link EksHelmAddons}. */
export interface EksHelmAddonsProps {
  readonly cluster: eks.ICluster;
  /**
   * ARN of the KEDA operator's IRSA role (`KedaOperatorRole`): an IAM role ARN or its `roleArn` token.
   * @default no AWS identity for KEDA
   */
  readonly kedaRoleArn?: string;
  /** KEDA operator replicas (one leads). @default 2 */
  readonly kedaOperatorReplicas?: number;
  /** metrics-server replicas; a PDB keeps one. @default 2 */
  readonly metricsServerReplicas?: number;
}

/** Tolerate the system pool's taint so add-ons can run on system nodes. */
const CRITICAL_ADDONS_TOLERATION = [{ key: 'CriticalAddonsOnly', operator: 'Exists' }];

/**
 * KEDA and metrics-server installed through the cluster's Helm support (the kubectl handler), pinned
 * to the same chart releases as the GitOps path (`ADDON_CHARTS`: KEDA 2.20.2, metrics-server 3.13.1).
 * KEDA's operator ServiceAccount gets the IRSA role, and its metrics are exposed on its Service. Both
 * tolerate `CriticalAddonsOnly` so they may run on the system pool.
 */
export class EksHelmAddons extends Construct {
  readonly keda: eks.HelmChart;
  readonly metricsServer: eks.HelmChart;

  constructor(scope: Construct, id: string, props: EksHelmAddonsProps) {
    super(scope, id);
    const kedaReplicas = props.kedaOperatorReplicas ?? 2;
    checkInteger('kedaOperatorReplicas', kedaReplicas, 1, 10);
    const metricsReplicas = props.metricsServerReplicas ?? 2;
    checkInteger('metricsServerReplicas', metricsReplicas, 1, 10);
    if (props.kedaRoleArn !== undefined) checkIamRoleArn('kedaRoleArn', props.kedaRoleArn);

    const kedaValues: KedaChartValues = {
      operator: { replicaCount: kedaReplicas },
      ...(props.kedaRoleArn
        ? { podIdentity: { aws: { irsa: { enabled: true, roleArn: props.kedaRoleArn } } } }
        : {}),
      // The operator's metrics on its Service; who may reach them is the platform chart's
      // KedaOperatorMetrics NetworkPolicy.
      ...KEDA_CHART_METRICS_VALUES,
    };
    this.keda = props.cluster.addHelmChart('Keda', {
      chart: ADDON_CHARTS.keda.chart,
      repository: ADDON_CHARTS.keda.repoUrl,
      version: ADDON_CHARTS.keda.version,
      release: 'keda',
      namespace: 'keda',
      createNamespace: true,
      wait: true,
      values: { ...kedaValues, tolerations: CRITICAL_ADDONS_TOLERATION },
    });

    const metricsValues: MetricsServerChartValues = {
      replicas: metricsReplicas,
      ...(metricsReplicas > 1 ? { podDisruptionBudget: { enabled: true, minAvailable: 1 } } : {}),
    };
    this.metricsServer = props.cluster.addHelmChart('MetricsServer', {
      chart: ADDON_CHARTS.metricsServer.chart,
      repository: ADDON_CHARTS.metricsServer.repoUrl,
      version: ADDON_CHARTS.metricsServer.version,
      release: 'metrics-server',
      namespace: 'kube-system',
      wait: true,
      values: { ...metricsValues, tolerations: CRITICAL_ADDONS_TOLERATION },
    });
  }
}
