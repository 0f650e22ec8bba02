// Helpers for the AWS construct tests: one small stack with an EKS cluster, and nag report reading.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { ElasticEksCluster, type ElasticEksClusterProps } from '../../constructs/aws/elastic-eks-cluster.js';
import { KubernetesVersion } from '../../constructs/k8s/kubernetes-version.js';
import { AWS_APP_CONTEXT } from '../../stacks/cdk-app.js';

export const TEST_ENV = { account: '123456789012', region: 'us-east-1' };

/**
 * A fresh app with the feature flags the EKS stacks are written for. Assets (the 35 MB kubectl layer)
 * are referenced in place rather than copied into each test assembly. CDK's built-in CloudFormation
 * schema validation (5-8 s per process) runs only where asked: the whole-stack tests keep it, the
 * construct unit tests assert the properties themselves.
 */
export function testApp(options: { cloudFormationValidation?: boolean } = {}): App {
  return new App({
    context: { ...AWS_APP_CONTEXT, 'aws:cdk:disable-asset-staging': true },
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
  });
}

/** A stack holding one EKS cluster (GIVEN step of most construct tests). */
export function clusterStack(
  id = 'Test',
  props: Partial<ElasticEksClusterProps> = {},
): { app: App; stack: Stack; eks: ElasticEksCluster } {
  const app = testApp();
  const stack = new Stack(app, id, { env: TEST_ENV });
  const eks = new ElasticEksCluster(stack, 'Eks', {
    clusterName: 'test-use1',
    kubernetesVersion: KubernetesVersion.V1_34,
    logRetentionDays: 30,
    region: TEST_ENV.region,
    ...props,
  });
  return { app, stack, eks };
}

/** One violation of a policy-validation report (cdk-nag v3 reports through CDK's validation). */
export interface Violation {
  readonly plugin: string;
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
}

/** Every unacknowledged violation in `<assembly dir>/validation-report.json`. */
export function readViolations(assemblyDir: string): Violation[] {
  const report = JSON.parse(readFileSync(join(assemblyDir, 'validation-report.json'), 'utf8')) as {
    pluginReports: {
      pluginName: string;
      violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
    }[];
  };
  return report.pluginReports.flatMap((p) =>
    p.violations.flatMap((v) =>
      v.violatingConstructs.map((c) => ({
        plugin: p.pluginName,
        rule: v.ruleName,
        severity: v.severity,
        path: c.constructPath,
      })),
    ),
  );
}

/** Synthesized JSON, navigated freely in assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;
