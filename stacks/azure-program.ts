/**
 * The Pulumi program's logic, importable by tests: selects the environment from the stack (config
 * `elasticai:environment`, else the stack name) and deploys each of its AKS clusters.
 */
import * as pulumi from '@pulumi/pulumi';
import { checkKubeloginMode } from '../constructs/azure/kubeconfig.js';
import { type AzureClusterOutputs, deployAzureCluster } from './azure-cluster-stack.js';
import { ENVIRONMENTS } from './environments.js';
import type { EnvironmentConfig } from './environment-types.js';

/** Stack outputs: one entry per AKS cluster, by cluster name. */
export type AzureProgramOutputs = Record<string, AzureClusterOutputs>;

/** The environment a stack deploys. Throws naming the known environments. */
export function selectEnvironment(
  name: string,
  table: readonly EnvironmentConfig[] = ENVIRONMENTS,
): EnvironmentConfig {
  const env = table.find((e) => e.name === name);
  if (!env) {
    throw new Error(
      `elasticai:environment: unknown environment ${JSON.stringify(name)}; known: ${table.map((e) => e.name).join(', ')}`,
    );
  }
  return env;
}

/**
 * Deploys every AKS cluster of the environment. An environment without any AKS cluster is an error,
 * not an empty stack: an empty program would make `pulumi up` delete whatever the stack holds.
 */
export function runAzureProgram(table: readonly EnvironmentConfig[] = ENVIRONMENTS): AzureProgramOutputs {
  const config = new pulumi.Config('elasticai');
  const env = selectEnvironment(config.get('environment') ?? pulumi.getStack(), table);
  const clusters = env.clusters.filter((c) => c.cloud === 'azure');
  if (clusters.length === 0) {
    const others = env.clusters.map((c) => `${c.name} (${c.cloud})`).join(', ') || 'none';
    throw new Error(
      `environment "${env.name}" has no AKS cluster in stacks/environments.ts (clusters: ${others}); ` +
        'there is nothing for the Pulumi program to deploy — its EKS clusters are deployed with `cdk deploy`',
    );
  }
  const kubeloginMode = config.get('kubeloginMode') ?? 'azurecli';
  checkKubeloginMode('elasticai:kubeloginMode', kubeloginMode);
  const installManifests = config.getBoolean('installManifests') ?? true;
  return Object.fromEntries(
    clusters.map((cluster) => [
      cluster.name,
      deployAzureCluster(env, cluster, { kubeloginMode, installManifests }),
    ]),
  );
}
