/**
 * Container usage for right-sizing recommendations, from cAdvisor metrics in Prometheus: CPU cores and
 * memory working set per container over a window (7 days at 5-minute steps by default), grouped by
 * namespace, owning workload and container. The owning workload is read from the pod name
 * (Deployment `<name>-<rs hash>-<pod hash>`, StatefulSet `<name>-<ordinal>`, DaemonSet/Job
 * `<name>-<hash>`), so no kube-state-metrics is needed; samples of a workload's pods are pooled, as
 * VPA's recommender pools them.
 */
import type { ContainerUsage, UsageSource } from '../recommendations.js';
import { DEFAULT_USAGE_QUERIES } from '../recommendations.js';
import type { LabelledSeries, PrometheusSource } from './prometheus-source.js';

export interface PrometheusUsageOptions {
  /** @default 7 days */
  readonly windowSeconds?: number;
  /** @default 300 */
  readonly stepSeconds?: number;
  readonly queries?: { readonly cpuCores: string; readonly memoryBytes: string };
  /** Wall clock in ms. @default Date.now */
  readonly clock?: () => number;
}

/** The workload a pod belongs to, from its generated name. */
export function workloadOfPod(pod: string): string {
  const deployment = /^(.+)-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/.exec(pod);
  if (deployment) return deployment[1] as string;
  const statefulSet = /^(.+)-\d+$/.exec(pod);
  if (statefulSet) return statefulSet[1] as string;
  const generated = /^(.+)-[bcdfghjklmnpqrstvwxz2456789]{5}$/.exec(pod);
  return generated ? (generated[1] as string) : pod;
}

export class PrometheusUsageSource implements UsageSource {
  private readonly window: number;
  private readonly step: number;
  private readonly queries: { readonly cpuCores: string; readonly memoryBytes: string };
  private readonly clock: () => number;

  constructor(
    private readonly prometheus: PrometheusSource,
    options: PrometheusUsageOptions = {},
  ) {
    this.window = options.windowSeconds ?? 7 * 86_400;
    this.step = options.stepSeconds ?? 300;
    this.queries = options.queries ?? DEFAULT_USAGE_QUERIES;
    this.clock = options.clock ?? Date.now;
  }

  async containers(namespace?: string, signal?: AbortSignal): Promise<ContainerUsage[]> {
    const end = Math.floor(this.clock() / 1000 / this.step) * this.step;
    const range = { start: end - this.window, end, stepSeconds: this.step };
    const [cpu, memory] = await Promise.all([
      this.prometheus.queryRangeSeries({ query: this.queries.cpuCores, ...range }, signal),
      this.prometheus.queryRangeSeries({ query: this.queries.memoryBytes, ...range }, signal),
    ]);
    const groups = new Map<
      string,
      { namespace: string; workload: string; container: string; cpu: number[]; memory: number[] }
    >();
    const add = (series: readonly LabelledSeries[], kind: 'cpu' | 'memory'): void => {
      for (const s of series) {
        const { namespace: ns, pod, container } = s.labels;
        if (!ns || !pod || !container || (namespace !== undefined && ns !== namespace)) continue;
        const workload = workloadOfPod(pod);
        const key = `${ns}/${workload}/${container}`;
        let group = groups.get(key);
        if (!group) {
          group = { namespace: ns, workload, container, cpu: [], memory: [] };
          groups.set(key, group);
        }
        group[kind].push(...s.values);
      }
    };
    add(cpu, 'cpu');
    add(memory, 'memory');
    return [...groups.values()]
      .sort((a, b) =>
        `${a.namespace}/${a.workload}/${a.container}`.localeCompare(
          `${b.namespace}/${b.workload}/${b.container}`,
        ),
      )
      .map((g) => ({
        namespace: g.namespace,
        workload: g.workload,
        container: g.container,
        cpuCores: g.cpu,
        memoryBytes: g.memory,
        stepSeconds: this.step,
      }));
  }
}
