/**
 * `npm run bench`: synth time of every environment, and synth time and peak memory of 1,000
 * autoscaled workloads in one chart. Each measurement runs in a fresh child process so its peak RSS
 * (getrusage maxrss) is its own.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import { AutoscaledWorkload } from '../../constructs/k8s/autoscaled-workload.js';
import { ClusterChart } from '../../constructs/k8s/cluster-info.js';
import { Metric } from '../../constructs/k8s/metric.js';
import { Placement } from '../../constructs/k8s/placement.js';
import { WorkloadScaling } from '../../constructs/k8s/workload-scaling.js';
import { App } from 'cdk8s';
import { ENVIRONMENTS } from '../../stacks/environments.js';
import { renderManifest, synthChart } from '../../stacks/manifests.js';
import { synthEnvironment } from '../../stacks/synth-environment.js';

interface Result {
  name: string;
  ms: number;
  objects: number;
  bytes: number;
  peakRssMiB: number;
}

function measure(name: string, run: () => { objects: number; bytes: number }): Result {
  const start = process.hrtime.bigint();
  const { objects, bytes } = run();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { name, ms, objects, bytes, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
}

function allEnvironments(): { objects: number; bytes: number } {
  let objects = 0;
  let bytes = 0;
  for (const env of ENVIRONMENTS) {
    for (const file of synthEnvironment(env)) {
      objects += file.objects.length;
      bytes += renderManifest(file).length;
    }
  }
  return { objects, bytes };
}

function thousandWorkloads(): { objects: number; bytes: number } {
  const env = ENVIRONMENTS.find((e) => e.name === 'prod');
  const cluster = env?.clusters[0];
  if (!cluster) throw new Error('prod has no cluster');
  const chart = new ClusterChart(new App(), 'bench', { cluster });
  for (let i = 0; i < 1000; i++) {
    new AutoscaledWorkload(chart, `svc-${i}`, {
      namespace: `team-${i % 20}`,
      image: 'ghcr.io/example/svc:1.0.0',
      port: 8080,
      resources: { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(128) } },
      replicas: { min: 2, max: 50 },
      placement: i % 2 === 0 ? Placement.spotPreferred() : Placement.onDemandOnly(),
      scaling: WorkloadScaling.hpa({ metrics: [Metric.resourceCpu()] }),
    });
  }
  const objects = synthChart(chart);
  return { objects: objects.length, bytes: renderManifest({ path: 'bench', objects }).length };
}

const CASES: Record<string, () => { objects: number; bytes: number }> = {
  'synth: all environments': allEnvironments,
  'synth: 1,000 workloads in one chart': thousandWorkloads,
};

const selected = process.argv[2];
if (selected) {
  const run = CASES[selected];
  if (!run) throw new Error(`unknown case ${selected}`);
  process.stdout.write(JSON.stringify(measure(selected, run)));
} else {
  const self = fileURLToPath(import.meta.url);
  console.log('case                                   time (ms)   objects   YAML (KiB)   peak RSS (MiB)');
  for (const name of Object.keys(CASES)) {
    const r = JSON.parse(execFileSync(process.execPath, [self, name], { encoding: 'utf8' })) as Result;
    console.log(
      `${r.name.padEnd(38)} ${r.ms.toFixed(0).padStart(9)} ${String(r.objects).padStart(9)} ${(r.bytes / 1024).toFixed(0).padStart(12)} ${r.peakRssMiB.toFixed(0).padStart(16)}`,
    );
  }
}
