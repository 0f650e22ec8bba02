// A tenant's quota and LimitRange must let its workloads reach their max replicas: checked at synth.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-28';
import {
  AutoscaledWorkload,
  type AutoscaledWorkloadProps,
} from '../../constructs/k8s/autoscaled-workload.js';
import { ScaledJob } from '../../constructs/k8s/keda/scaled-job.js';
import { Trigger } from '../../constructs/k8s/keda/trigger.js';
import { Metric } from '../../constructs/k8s/metric.js';
import { Tenant, type TenantProps } from '../../constructs/k8s/tenant.js';
import { WorkloadScaling } from '../../constructs/k8s/workload-scaling.js';
import { synth, testChart } from '../support/chart.js';

const WEB: Omit<AutoscaledWorkloadProps, 'replicas'> = {
  image: 'ghcr.io/example/web:1.0.0',
  port: 8080,
  resources: { cpu: { request: Cpu.millis(500) }, memory: { request: Size.mebibytes(512) } },
  scaling: WorkloadScaling.hpa({ metrics: [Metric.resourceCpu()] }),
};

function tenantWith(
  quota: TenantProps['quota'],
  maxReplicas: number,
  containerLimits?: TenantProps['containerLimits'],
) {
  const chart = testChart();
  const tenant = new Tenant(chart, 'shop', { name: 'shop', groups: ['devs'], quota, containerLimits });
  new AutoscaledWorkload(tenant, 'web', { ...WEB, replicas: { min: 1, max: maxReplicas } });
  return { chart, tenant };
}

describe('Tenant capacity check', () => {
  it('passes when the quota holds every workload at max replicas plus the 25% rollout surge', () => {
    // GIVEN 8 replicas (+2 surge) of 500m/1000m CPU and 512Mi: 5 cores requested, 10 cores limit, 5Gi
    const { chart } = tenantWith(
      {
        cpu: { requests: Cpu.units(5), limits: Cpu.units(10) },
        memory: { requests: Size.gibibytes(5), limits: Size.gibibytes(5) },
        pods: 10,
      },
      8,
    );
    // WHEN / THEN
    assert.doesNotThrow(() => synth(chart));
  });

  it('fails naming the quota prop, what is needed and which workloads need it', () => {
    // GIVEN the same workload with 9 max replicas (+3 surge = 12 pods, 6 cores)
    const { chart } = tenantWith(
      {
        cpu: { requests: Cpu.units(5), limits: Cpu.units(12) },
        memory: { requests: Size.gibibytes(8), limits: Size.gibibytes(8) },
        pods: 11,
      },
      9,
    );
    // WHEN / THEN
    assert.throws(
      () => synth(chart),
      (e: Error) => {
        assert.match(
          e.message,
          /quota\.cpu\.requests: 5 cannot hold the tenant's workloads .* need 6 \(web 6\)/,
        );
        assert.match(e.message, /quota\.pods: 11 cannot hold .* need 12 \(web 12\)/);
        assert.doesNotMatch(e.message, /quota\.memory/);
        return true;
      },
    );
  });

  it('counts ScaledJobs at max parallel jobs and sums all consumers', () => {
    // GIVEN a web workload (2 pods at max incl. surge) and a job scaling to 4 parallel jobs of 1 core
    const chart = testChart();
    const tenant = new Tenant(chart, 'shop', {
      name: 'shop',
      groups: ['devs'],
      quota: { cpu: { requests: Cpu.units(4), limits: Cpu.units(16) } },
    });
    new AutoscaledWorkload(tenant, 'web', { ...WEB, replicas: { min: 1, max: 1 } });
    new ScaledJob(tenant, 'report', {
      namespace: 'shop',
      job: {
        image: 'ghcr.io/example/report:1.0.0',
        resources: { cpu: { request: Cpu.units(1) }, memory: { request: Size.mebibytes(256) } },
      },
      maxReplicas: 4,
      triggers: [Trigger.cron({ timezone: 'UTC', start: '0 1 * * *', end: '0 2 * * *', desiredReplicas: 4 })],
    });
    // THEN 2 × 500m + 4 × 1000m = 5 cores > 4
    assert.throws(() => synth(chart), /quota\.cpu\.requests: 4 cannot hold .* need 5 \(web 1, report 4\)/);
  });

  it('fails when a container limit exceeds the LimitRange max (pods would be rejected)', () => {
    const { chart } = tenantWith(undefined, 2, { max: { cpu: Cpu.millis(800) } });
    assert.throws(
      () => synth(chart),
      /containerLimits\.max\.cpu: 800m is below the cpu limit 1 of Deployment shop\/web; the API server would reject its pods/,
    );
  });

  it('refuses a workload created inside a tenant but aimed at another namespace', () => {
    const chart = testChart();
    const tenant = new Tenant(chart, 'shop', { name: 'shop', groups: ['devs'] });
    new AutoscaledWorkload(tenant, 'web', { ...WEB, namespace: 'billing', replicas: { min: 1, max: 2 } });
    assert.throws(
      () => synth(chart),
      /namespace: Deployment web is inside Tenant "shop" but targets namespace "billing"/,
    );
  });
});
