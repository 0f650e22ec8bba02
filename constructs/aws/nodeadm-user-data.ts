import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { NodeTaint } from '../k8s/cluster-info.js';
import { ELASTICAI_CAPACITY_LABEL } from '../k8s/placement.js';
import { checkNodeLabels, checkNodeTaints } from '../k8s/node-pool-checks.js';

/** MIME boundary of the user data (any string absent from the parts). */
const BOUNDARY = 'ELASTICAI-NODEADM';

/** Drop-in NodeConfig the capacity script writes; `nodeadm-run` merges `/etc/eks/nodeadm.d/`. */
export const CAPACITY_NODECONFIG_PATH = '/etc/eks/nodeadm.d/90-elasticai-capacity.yaml';

/** What a self-managed AL2023 node needs to join its cluster. */
export interface NodeadmUserDataOptions {
  readonly clusterName: string;
  /** API server URL (a token at synth). */
  readonly apiServerEndpoint: string;
  /** Base64 cluster CA (a token at synth). */
  readonly certificateAuthority: string;
  /** The cluster's service CIDR. */
  readonly serviceCidr: string;
  /** Node labels set by the kubelet at registration. @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /** Taints the kubelet registers with. @default [] */
  readonly taints?: readonly NodeTaint[];
  /**
   * Label each node `elasticai.io/capacity-type=spot|on-demand` from its own purchase option (IMDSv2
   * `instance-life-cycle`), for groups whose nodes can be either (MixedInstancesPolicy). @default false
   */
  readonly labelCapacityFromInstanceLifecycle?: boolean;
}

/**
 * User data for a self-managed node on an EKS-optimized Amazon Linux 2023 AMI: a MIME multi-part
 * document with a `NodeConfig` for nodeadm (AL2023 has no `/etc/eks/bootstrap.sh`). Labels and taints
 * become kubelet `--node-labels` / `--register-with-taints` flags.
 *
 * With `labelCapacityFromInstanceLifecycle`, a shell part reads the instance's purchase option from
 * IMDSv2 and writes a second NodeConfig with `--node-labels=elasticai.io/capacity-type=<spot|on-demand>`
 * to `/etc/eks/nodeadm.d/`. Cloud-init runs shell parts after `nodeadm-config` and before
 * `nodeadm-run`, which reads `imds://user-data` and `file:///etc/eks/nodeadm.d/`, notices the changed
 * config and re-runs its config phase before starting the kubelet (amazon-eks-ami
 * `nodeadm-run.service` and `nodeadm init`); the kubelet merges repeated `--node-labels` flags.
 */
export function nodeadmUserData(options: NodeadmUserDataOptions): ec2.UserData {
  const labels = options.labels ?? {};
  checkNodeLabels('labels', labels);
  checkNodeTaints('taints', options.taints ?? []);
  const flags: string[] = [];
  const labelList = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  if (labelList.length > 0) flags.push(`--node-labels=${labelList.join(',')}`);
  const taints = (options.taints ?? []).map(
    (t) => `${t.key}${t.value !== undefined ? `=${t.value}` : ''}:${t.effect}`,
  );
  if (taints.length > 0) flags.push(`--register-with-taints=${taints.join(',')}`);

  const nodeConfig = [
    '---',
    'apiVersion: node.eks.aws/v1alpha1',
    'kind: NodeConfig',
    'spec:',
    '  cluster:',
    `    name: ${options.clusterName}`,
    `    apiServerEndpoint: ${options.apiServerEndpoint}`,
    `    certificateAuthority: ${options.certificateAuthority}`,
    `    cidr: ${options.serviceCidr}`,
    ...(flags.length > 0 ? ['  kubelet:', '    flags:', ...flags.map((f) => `      - ${f}`)] : []),
  ];
  const parts = [['Content-Type: application/node.eks.aws', '', ...nodeConfig]];
  if (options.labelCapacityFromInstanceLifecycle) {
    parts.push([
      'Content-Type: text/x-shellscript; charset="us-ascii"',
      '',
      '#!/bin/bash',
      '# ElasticAI: label this node with its own purchase option (spot or on-demand).',
      'set -euo pipefail',
      'imds=http://169.254.169.254/latest',
      'token=$(curl -sSf -X PUT "$imds/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 300")',
      'lifecycle=$(curl -sSf -H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/instance-life-cycle")',
      'if [ "$lifecycle" = "spot" ]; then capacity=spot; else capacity=on-demand; fi',
      'mkdir -p /etc/eks/nodeadm.d',
      `cat > ${CAPACITY_NODECONFIG_PATH} <<EOF`,
      'apiVersion: node.eks.aws/v1alpha1',
      'kind: NodeConfig',
      'spec:',
      '  kubelet:',
      '    flags:',
      `      - --node-labels=${ELASTICAI_CAPACITY_LABEL}=$capacity`,
      'EOF',
    ]);
  }
  const body = [
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${BOUNDARY}"`,
    '',
    ...parts.flatMap((p) => [`--${BOUNDARY}`, ...p, '']),
    `--${BOUNDARY}--`,
    '',
  ].join('\n');
  return ec2.UserData.custom(body);
}
