import type { NodeTaint } from '../k8s/cluster-info.js';

/** Tag that opts a group into cluster-autoscaler's auto-discovery. */
export const CA_ENABLED_TAG = 'k8s.io/cluster-autoscaler/enabled';

/** Tag that ties a group to one cluster's autoscaler; also scopes the autoscaler's IAM write actions. */
export function clusterOwnedTag(clusterName: string): string {
  return `k8s.io/cluster-autoscaler/${clusterName}`;
}

/** The two auto-discovery tags, with the values EKS itself puts on managed node groups' ASGs. */
export function autoDiscoveryTags(clusterName: string): Record<string, string> {
  return { [CA_ENABLED_TAG]: 'true', [clusterOwnedTag(clusterName)]: 'owned' };
}

/**
 * Node-template tags, from which cluster-autoscaler builds the node a group would add while the group
 * has no node to copy (scale from zero): `.../node-template/label/<key>: <value>` and
 * `.../node-template/taint/<key>: <value>:<effect>`.
 */
export function nodeTemplateTags(
  labels: Readonly<Record<string, string>>,
  taints: readonly NodeTaint[],
): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    tags[`k8s.io/cluster-autoscaler/node-template/label/${key}`] = value;
  }
  for (const taint of taints) {
    tags[`k8s.io/cluster-autoscaler/node-template/taint/${taint.key}`] =
      `${taint.value ?? ''}:${taint.effect}`;
  }
  return tags;
}
