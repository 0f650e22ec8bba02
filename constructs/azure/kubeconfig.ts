/**
 * The kubeconfig the Pulumi Kubernetes provider uses for an AKS cluster with local accounts disabled:
 * Entra ID tokens from `kubelogin` (a client-go exec plugin), never a static admin certificate.
 */

/** Entra ID application id of the AKS AAD server, the audience of every AKS user token (all tenants). */
export const AKS_AAD_SERVER_ID = '6dae42f8-4368-4678-94ff-3960e28e3630';

/**
 * How `kubelogin get-token` obtains the token: `azurecli` reuses `az login` (a workstation),
 * `workloadidentity` the federated token of a CI job (GitHub Actions OIDC, `AZURE_CLIENT_ID`,
 * `AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE`), `spn` a service principal's
 * `AAD_SERVICE_PRINCIPAL_CLIENT_ID`/`_SECRET`, `msi` the machine's managed identity.
 */
export type KubeloginMode = 'azurecli' | 'workloadidentity' | 'spn' | 'msi';

/** Every supported kubelogin login mode. */
export const KUBELOGIN_MODES: readonly KubeloginMode[] = ['azurecli', 'workloadidentity', 'spn', 'msi'];
const MODES: ReadonlySet<string> = new Set(KUBELOGIN_MODES);

/** Throws unless `mode` is a supported kubelogin login mode; `prop` names where it came from. */
export function checkKubeloginMode(prop: string, mode: string): asserts mode is KubeloginMode {
  if (!MODES.has(mode)) {
    throw new Error(`${prop}: must be one of ${KUBELOGIN_MODES.join(', ')} (got ${JSON.stringify(mode)})`);
  }
}

/** Reads the one value of `key:` in an AKS kubeconfig (flat YAML as AKS returns it). */
function readScalar(kubeconfig: string, key: string): string {
  const matches = [...kubeconfig.matchAll(new RegExp(`^\\s*${key}:\\s*"?([^\\s"]+)"?\\s*$`, 'gm'))];
  if (matches.length !== 1) {
    throw new Error(`AKS kubeconfig: expected exactly one "${key}" entry, found ${matches.length}`);
  }
  return (matches[0] as RegExpMatchArray)[1] as string;
}

/** Options of {@link aksExecKubeconfig}. */
export interface AksExecKubeconfigOptions {
  /** Context and cluster name in the kubeconfig. */
  readonly clusterName: string;
  /** kubelogin login mode. */
  readonly loginMode: KubeloginMode;
  /** Entra ID tenant of the cluster; needed by the `spn` mode. @default none */
  readonly tenantId?: string;
}

/**
 * Builds a kubeconfig (JSON, which every kubeconfig reader accepts) from the user credentials AKS
 * returns (`listManagedClusterUserCredentials`, any format): the API server URL and CA are taken from
 * it, and the user becomes a non-interactive `kubelogin get-token --login <mode>` exec plugin, so the
 * same program runs on a workstation (`azurecli`) and in CI (`workloadidentity`). Requires `kubelogin`
 * on the PATH of the machine running `pulumi up`.
 */
export function aksExecKubeconfig(credentialKubeconfig: string, options: AksExecKubeconfigOptions): string {
  checkKubeloginMode('kubeloginMode', options.loginMode);
  const server = readScalar(credentialKubeconfig, 'server');
  const certificateAuthorityData = readScalar(credentialKubeconfig, 'certificate-authority-data');
  if (!/^https:\/\//.test(server))
    throw new Error(`AKS kubeconfig: server must be an https URL (got ${JSON.stringify(server)})`);
  const args = [
    'get-token',
    '--login',
    options.loginMode,
    '--server-id',
    AKS_AAD_SERVER_ID,
    '--environment',
    'AzurePublicCloud',
  ];
  if (options.tenantId) args.push('--tenant-id', options.tenantId);
  const name = options.clusterName;
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'certificate-authority-data': certificateAuthorityData } }],
    contexts: [{ name, context: { cluster: name, user: `${name}-kubelogin` } }],
    'current-context': name,
    users: [
      {
        name: `${name}-kubelogin`,
        user: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: 'kubelogin',
            args,
            interactiveMode: 'Never',
            provideClusterInfo: false,
          },
        },
      },
    ],
  });
}
