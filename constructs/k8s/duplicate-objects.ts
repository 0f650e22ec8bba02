import { ApiObject } from 'cdk8s';
import type { IConstruct } from 'constructs';

/** The charts applied to one cluster that an object's identity is unique across. */
export interface ClusterScopedChart extends IConstruct {
  readonly cluster: { readonly name: string };
}

/**
 * Errors for objects that another object of the same cluster already defines: the same API group,
 * kind, namespace and name, in this chart or in an earlier chart of the same cluster in the same app.
 * The later one would silently replace the earlier at apply time (two DecisionRuntimes of one name
 * share a ClusterRoleBinding, and one of them loses its RBAC). Each pair is reported once, by the
 * chart holding the later object.
 */
export function duplicateObjectErrors(
  chart: ClusterScopedChart,
  isSameCluster: (c: IConstruct) => c is ClusterScopedChart,
): string[] {
  const first = new Map<string, ApiObject>();
  const errors: string[] = [];
  for (const other of chart.node.root.node.findAll()) {
    if (!isSameCluster(other) || other.cluster.name !== chart.cluster.name) continue;
    for (const object of apiObjects(other)) {
      const key = identity(object);
      const earlier = first.get(key);
      if (earlier === undefined) first.set(key, object);
      else if (other === chart) {
        errors.push(
          `${key} is defined twice for cluster "${chart.cluster.name}": by ${earlier.node.path} and by ${object.node.path}; give one of them another name`,
        );
      }
    }
  }
  return errors;
}

function apiObjects(chart: IConstruct): ApiObject[] {
  return chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
}

/** `<group>/<Kind> <namespace>/<name>`: the version does not matter, the API server stores one. */
function identity(object: ApiObject): string {
  const slash = object.apiVersion.lastIndexOf('/');
  const group = slash < 0 ? 'core' : object.apiVersion.slice(0, slash);
  const namespace = object.metadata.namespace;
  return `${group}/${object.kind} ${namespace === undefined ? '' : `${namespace}/`}${object.name}`;
}
