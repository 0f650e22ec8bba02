/**
 * Runs a Pulumi program against `pulumi.runtime.setMocks` and records what it registers: every
 * resource's type, name, inputs and the options the SDK resolved for it (seen through a stack
 * transformation, which is where `ignoreChanges` and `parent` are visible). Mocks are process-global:
 * call {@link runProgram} once per test file.
 */
import * as pulumi from '@pulumi/pulumi';
import type { Json } from '../support/chart.js';

export const SUBSCRIPTION = '11111111-2222-3333-4444-555555555555';
export const TENANT = '99999999-8888-7777-6666-555555555555';
/** The AKS user kubeconfig the mocked `listManagedClusterUserCredentials` returns (AKS's exec format). */
export const AKS_USER_KUBECONFIG = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: TU9DSy1DQQ==
    server: https://staging-weu-abc123.hcp.westeurope.azmk8s.io:443
  name: staging-weu
contexts:
- context:
    cluster: staging-weu
    user: clusterUser_rg_staging-weu
  name: staging-weu
current-context: staging-weu
kind: Config
preferences: {}
users:
- name: clusterUser_rg_staging-weu
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - get-token
      - --login
      - devicecode
      command: kubelogin
`;

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, Json>;
  readonly id: string;
  readonly state: Record<string, Json>;
}

export interface RecordedOptions {
  readonly type: string;
  readonly name: string;
  readonly ignoreChanges: readonly string[];
  readonly parentType?: string;
  /** Names of the resources given in `dependsOn` (when given as a plain array). */
  readonly dependsOn: readonly string[];
}

export interface ProgramRun {
  readonly resources: readonly RecordedResource[];
  readonly options: readonly RecordedOptions[];
  readonly calls: readonly { token: string; inputs: Record<string, Json> }[];
  readonly outputs: Record<string, Json> | undefined;
}

function physicalName(type: string, name: string, inputs: Record<string, Json>): string {
  return (
    inputs.resourceName ??
    inputs.agentPoolName ??
    inputs.azureMonitorWorkspaceName ??
    inputs.dataCollectionEndpointName ??
    inputs.dataCollectionRuleName ??
    inputs.associationName ??
    inputs.workspaceName ??
    inputs.federatedIdentityCredentialResourceName ??
    (type === 'azure-native:resources:ResourceGroup' ? inputs.resourceGroupName : undefined) ??
    name
  );
}

/** A deterministic fake GUID from a string. */
function fakeGuid(seed: string): string {
  let h = 0x811c9dc5;
  const hex: string[] = [];
  for (let round = 0; round < 4; round++) {
    for (const ch of `${round}${seed}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    hex.push(h.toString(16).padStart(8, '0'));
  }
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-8${s.slice(17, 20)}-${s.slice(20, 32)}`;
}

function fakeId(type: string, physical: string, inputs: Record<string, Json>): string {
  if (type === 'azure-native:resources:ResourceGroup')
    return `/subscriptions/${SUBSCRIPTION}/resourceGroups/${physical}`;
  if (!type.startsWith('azure-native:')) return `${physical}-id`;
  const provider = type.split(':')[2];
  const rg = typeof inputs.resourceGroupName === 'string' ? inputs.resourceGroupName : 'rg-unknown';
  return `/subscriptions/${SUBSCRIPTION}/resourceGroups/${rg}/providers/${provider}/${physical}`;
}

const mocks: pulumi.runtime.Mocks = {
  newResource(args) {
    const physical = physicalName(args.type, args.name, args.inputs);
    const id = fakeId(args.type, physical, args.inputs);
    const state: Record<string, Json> = { ...args.inputs, name: physical };
    if (args.type === 'azure-native:containerservice:ManagedCluster') {
      state.oidcIssuerProfile = {
        enabled: true,
        issuerURL: `https://westeurope.oic.prod-aks.azure.com/${TENANT}/${fakeGuid(physical)}/`,
      };
      state.aadProfile = { ...args.inputs.aadProfile, tenantID: TENANT };
      state.fqdn = `${physical}-abc123.hcp.westeurope.azmk8s.io`;
    }
    if (args.type === 'azure-native:monitor:AzureMonitorWorkspace') {
      // Azure appends a suffix of its own to the workspace name in the query endpoint.
      state.metrics = {
        prometheusQueryEndpoint: `https://${physical}-a1b2.${args.inputs.location}.prometheus.monitor.azure.com`,
        internalId: fakeGuid(`amw:${physical}`),
      };
    }
    if (args.type === 'azure-native:managedidentity:UserAssignedIdentity') {
      state.clientId = fakeGuid(`client:${physical}`);
      state.principalId = fakeGuid(`principal:${physical}`);
      state.tenantId = TENANT;
    }
    recorded.push({ type: args.type, name: args.name, inputs: args.inputs, id, state });
    return { id, state };
  },
  call(args) {
    calls.push({ token: args.token, inputs: args.inputs });
    if (args.token === 'azure-native:containerservice:listManagedClusterUserCredentials') {
      return {
        kubeconfigs: [{ name: 'clusterUser', value: Buffer.from(AKS_USER_KUBECONFIG).toString('base64') }],
      };
    }
    throw new Error(`unmocked call ${args.token}`);
  },
};

const recorded: RecordedResource[] = [];
const recordedOptions: RecordedOptions[] = [];
const calls: { token: string; inputs: Record<string, Json> }[] = [];

/**
 * Runs `program` as the stack `stack` with `config` (full keys, e.g. `elasticai:environment`) and
 * returns what it registered. A program error rejects.
 */
export async function runProgram(
  program: () => unknown,
  stack: string,
  config: Record<string, string> = {},
): Promise<ProgramRun> {
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks(mocks, 'elasticai', stack, false);
  const outputs = await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      const parent = args.opts.parent as (pulumi.Resource & { __pulumiType?: string }) | undefined;
      recordedOptions.push({
        type: args.type,
        name: args.name,
        ignoreChanges: [...(args.opts.ignoreChanges ?? [])],
        parentType: parent?.__pulumiType,
        dependsOn: (Array.isArray(args.opts.dependsOn) ? args.opts.dependsOn : []).map(
          (r) => (r as pulumi.Resource & { __name?: string }).__name ?? '?',
        ),
      });
      return undefined;
    });
    return program();
  });
  await pulumi.runtime.disconnect();
  return { resources: recorded, options: recordedOptions, calls, outputs };
}

/** The one recorded resource of `type` named `name` (throws if missing or ambiguous). */
export function resource(run: ProgramRun, type: string, name: string): RecordedResource {
  const found = run.resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) {
    const names = run.resources.filter((r) => r.type === type).map((r) => r.name);
    throw new Error(`expected one ${type} named ${name}, found ${found.length} (have: ${names.join(', ')})`);
  }
  return found[0] as RecordedResource;
}

/** Every recorded resource of `type`. */
export function resourcesOf(run: ProgramRun, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.type === type);
}

/** The options recorded for a resource. */
export function optionsOf(run: ProgramRun, type: string, name: string): RecordedOptions {
  const found = run.options.filter((o) => o.type === type && o.name === name);
  if (found.length !== 1)
    throw new Error(`expected one options record for ${type} ${name}, found ${found.length}`);
  return found[0] as RecordedOptions;
}
