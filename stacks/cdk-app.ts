/**
 * The CDK app (`cdk.json`): one stack per EKS cluster of the environment table, checked by cdk-nag's
 * AwsSolutions pack at synth. `npx cdk synth` runs offline; nothing calls AWS.
 */
import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AwsClusterStack, awsStackName } from './aws-environment-stack.js';
import { ENVIRONMENTS } from './environments.js';
import type { EnvironmentConfig } from './environment-types.js';

/**
 * Feature flags the EKS stacks are written for: the native `AWS::IAM::OIDCProvider` (not the deprecated
 * custom resource) and AL2023 as aws-eks's default AMI family. Pass as the App's `context`.
 */
export const AWS_APP_CONTEXT: Readonly<Record<string, unknown>> = {
  '@aws-cdk/aws-eks:useNativeOidcProvider': true,
  '@aws-cdk/aws-eks:defaultToAL2023': true,
};

/** Builds every EKS stack of the given environments into `app`. */
export function buildAwsApp(
  app: App,
  environments: readonly EnvironmentConfig[] = ENVIRONMENTS,
): AwsClusterStack[] {
  const stacks: AwsClusterStack[] = [];
  for (const environment of environments) {
    for (const cluster of environment.clusters) {
      if (cluster.cloud !== 'aws') continue;
      stacks.push(new AwsClusterStack(app, awsStackName(cluster), { environment, cluster }));
    }
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return stacks;
}

// Run as the CDK app (not when imported by tests or the bench).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = new App({ context: { ...AWS_APP_CONTEXT } });
  buildAwsApp(app);
  app.synth();
}
