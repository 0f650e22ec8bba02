import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { checkIamRoleArn } from '../aws-arns.js';
import { PropError, checkDnsLabel, checkDnsSubdomain, checkOneOf } from '../validation.js';

/** What a KEDA trigger needs to reference an authentication object (`authenticationRef`). */
export interface ITriggerAuthentication {
  /** `metadata.name` of the authentication object. */
  readonly name: string;
  /** Which KEDA kind it is. */
  readonly kind: 'TriggerAuthentication' | 'ClusterTriggerAuthentication';
  /** Namespace of a TriggerAuthentication; undefined for the cluster-scoped kind. */
  readonly namespace?: string;
  /** The pod identity provider it uses (`aws`, `azure-workload`, `none`), if any. */
  readonly podIdentityProvider?: string;
}

/** One trigger parameter read from a key of a Secret. */
export interface SecretParameter {
  /** Trigger parameter the value is given to, e.g. `host`, `password`, `bearerToken`. */
  readonly parameter: string;
  /**
   * Name of the Secret. For a TriggerAuthentication it lives in the same namespace; for a
   * ClusterTriggerAuthentication in KEDA's cluster-object namespace (`keda` by default).
   */
  readonly secretName: string;
  /** Key inside the Secret. */
  readonly key: string;
}

/** One trigger parameter read from an environment variable of the scale target's container. */
export interface EnvParameter {
  /** Trigger parameter the value is given to. */
  readonly parameter: string;
  /** Name of the environment variable. */
  readonly envName: string;
  /** Container whose environment is read. @default the first container of the scale target */
  readonly containerName?: string;
}

/** JSON of `spec.podIdentity`, as the KEDA CRDs declare it. */
export interface PodIdentityJson {
  provider: 'aws' | 'azure-workload' | 'none';
  roleArn?: string;
  identityOwner?: 'keda' | 'workload';
  identityId?: string;
  identityTenantId?: string;
  identityAuthorityHost?: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Options of {@link PodIdentity.aws}. */
export interface AwsPodIdentityOptions {
  /**
   * IAM role KEDA assumes for this trigger. Mutually exclusive with `identityOwner: 'workload'`.
   * @default the KEDA operator's own role
   */
  readonly roleArn?: string;
  /**
   * Whose identity KEDA uses: its own (`keda`) or the scale target's service account (`workload`).
   * @default 'keda'
   */
  readonly identityOwner?: 'keda' | 'workload';
}

/** Options of {@link PodIdentity.azureWorkload}. */
export interface AzureWorkloadIdentityOptions {
  /** Client id of the user-assigned managed identity. @default the one annotated on KEDA's service account */
  readonly identityId?: string;
  /** Tenant of that identity. @default the one annotated on KEDA's service account */
  readonly identityTenantId?: string;
  /** Microsoft Entra authority host. @default the public cloud's */
  readonly identityAuthorityHost?: string;
}

/**
 * Cloud identity KEDA uses to read a trigger's source, instead of stored credentials. `aws` covers both
 * IRSA and EKS Pod Identity in KEDA 2.20 (`aws-eks` is the deprecated name).
 */
export class PodIdentity {
  /** AWS IAM (IRSA or EKS Pod Identity). */
  static aws(options: AwsPodIdentityOptions = {}): PodIdentity {
    const json: PodIdentityJson = { provider: 'aws' };
    if (options.identityOwner !== undefined) {
      checkOneOf('podIdentity.identityOwner', options.identityOwner, ['keda', 'workload']);
    }
    if (options.roleArn !== undefined) {
      checkIamRoleArn('podIdentity.roleArn', options.roleArn);
      if (options.identityOwner === 'workload') {
        throw new PropError(
          'podIdentity.identityOwner',
          options.identityOwner,
          'must not be "workload" when roleArn is set (KEDA treats them as mutually exclusive)',
        );
      }
      json.roleArn = options.roleArn;
    }
    if (options.identityOwner !== undefined) json.identityOwner = options.identityOwner;
    return new PodIdentity(json);
  }

  /** Microsoft Entra Workload ID (AKS workload identity). */
  static azureWorkload(options: AzureWorkloadIdentityOptions = {}): PodIdentity {
    const json: PodIdentityJson = { provider: 'azure-workload' };
    if (options.identityId !== undefined) {
      if (!GUID.test(options.identityId)) {
        throw new PropError('podIdentity.identityId', options.identityId, 'must be a client id (GUID)');
      }
      json.identityId = options.identityId;
    }
    if (options.identityTenantId !== undefined) {
      if (!GUID.test(options.identityTenantId)) {
        throw new PropError(
          'podIdentity.identityTenantId',
          options.identityTenantId,
          'must be a tenant id (GUID)',
        );
      }
      json.identityTenantId = options.identityTenantId;
    }
    if (options.identityAuthorityHost !== undefined) {
      if (!/^https:\/\/[^\s/]+\/?$/.test(options.identityAuthorityHost)) {
        throw new PropError(
          'podIdentity.identityAuthorityHost',
          options.identityAuthorityHost,
          'must be an https:// host URL',
        );
      }
      json.identityAuthorityHost = options.identityAuthorityHost;
    }
    return new PodIdentity(json);
  }

  /** Explicitly no pod identity. */
  static none(): PodIdentity {
    return new PodIdentity({ provider: 'none' });
  }

  private constructor(private readonly json: PodIdentityJson) {}

  /** The KEDA provider name. */
  get provider(): PodIdentityJson['provider'] {
    return this.json.provider;
  }

  /** @internal */
  render(): PodIdentityJson {
    return { ...this.json };
  }
}

/** Sources shared by both authentication kinds. Secret values never appear here, only references. */
export interface TriggerAuthenticationSources {
  /** Parameters read from Secrets. @default [] */
  readonly secretTargetRef?: readonly SecretParameter[];
  /** Parameters read from the scale target's environment variables. @default [] */
  readonly env?: readonly EnvParameter[];
  /** Cloud identity. @default none */
  readonly podIdentity?: PodIdentity;
}

/** Props for a {@link TriggerAuthentication}. */
export interface TriggerAuthenticationProps extends TriggerAuthenticationSources {
  /** `metadata.name`. @default the construct id */
  readonly name?: string;
  /** Namespace; must be the namespace of the ScaledObjects/ScaledJobs that use it. */
  readonly namespace: string;
}

/** Props for a {@link ClusterTriggerAuthentication}. */
export interface ClusterTriggerAuthenticationProps extends TriggerAuthenticationSources {
  /** `metadata.name`. @default the construct id */
  readonly name?: string;
}

interface AuthSpecJson {
  secretTargetRef?: { parameter: string; name: string; key: string }[];
  env?: { parameter: string; name: string; containerName?: string }[];
  podIdentity?: PodIdentityJson;
}

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const PARAMETER = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** Validates and renders the sources; errors name the props as the user wrote them. */
function renderSources(sources: TriggerAuthenticationSources): AuthSpecJson {
  const secretRefs = sources.secretTargetRef ?? [];
  const env = sources.env ?? [];
  if (secretRefs.length === 0 && env.length === 0 && sources.podIdentity === undefined) {
    throw new PropError(
      'secretTargetRef',
      secretRefs,
      'at least one of secretTargetRef, env or podIdentity must be set',
    );
  }
  const seen = new Set<string>();
  const checkParameter = (prop: string, parameter: string): void => {
    if (!PARAMETER.test(parameter)) {
      throw new PropError(prop, parameter, 'must be a non-empty trigger parameter name');
    }
    if (seen.has(parameter)) throw new PropError(prop, parameter, 'is given more than once');
    seen.add(parameter);
  };
  const spec: AuthSpecJson = {};
  if (secretRefs.length > 0) {
    spec.secretTargetRef = secretRefs.map((ref, i) => {
      checkParameter(`secretTargetRef[${i}].parameter`, ref.parameter);
      checkDnsSubdomain(`secretTargetRef[${i}].secretName`, ref.secretName);
      if (!SECRET_KEY.test(ref.key)) {
        throw new PropError(
          `secretTargetRef[${i}].key`,
          ref.key,
          'must be a Secret key (a-z, A-Z, 0-9, "-", "_", ".")',
        );
      }
      return { parameter: ref.parameter, name: ref.secretName, key: ref.key };
    });
  }
  if (env.length > 0) {
    spec.env = env.map((e, i) => {
      checkParameter(`env[${i}].parameter`, e.parameter);
      if (!ENV_NAME.test(e.envName)) {
        throw new PropError(`env[${i}].envName`, e.envName, 'must be an environment variable name');
      }
      const out: { parameter: string; name: string; containerName?: string } = {
        parameter: e.parameter,
        name: e.envName,
      };
      if (e.containerName !== undefined) {
        checkDnsLabel(`env[${i}].containerName`, e.containerName);
        out.containerName = e.containerName;
      }
      return out;
    });
  }
  if (sources.podIdentity) spec.podIdentity = sources.podIdentity.render();
  return spec;
}

/**
 * KEDA `TriggerAuthentication`: where a trigger's credentials come from (Secret keys, the target's
 * environment, or a cloud pod identity). It holds references only, never secret values.
 */
export class TriggerAuthentication extends Construct implements ITriggerAuthentication {
  readonly kind = 'TriggerAuthentication' as const;
  readonly name: string;
  readonly namespace: string;
  readonly podIdentityProvider?: string;

  constructor(scope: Construct, id: string, props: TriggerAuthenticationProps) {
    super(scope, id);
    this.name = props.name ?? id;
    this.namespace = props.namespace;
    checkDnsSubdomain('name', this.name);
    checkDnsLabel('namespace', this.namespace);
    const spec = renderSources(props);
    this.podIdentityProvider = props.podIdentity?.provider;
    new ApiObject(this, 'Resource', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'TriggerAuthentication',
      metadata: { name: this.name, namespace: this.namespace },
      spec,
    });
  }
}

/**
 * KEDA `ClusterTriggerAuthentication`: a cluster-wide TriggerAuthentication. Its `secretTargetRef`
 * Secrets are read from KEDA's own namespace, so share it only for credentials meant for every tenant.
 */
export class ClusterTriggerAuthentication extends Construct implements ITriggerAuthentication {
  readonly kind = 'ClusterTriggerAuthentication' as const;
  readonly name: string;
  readonly podIdentityProvider?: string;

  constructor(scope: Construct, id: string, props: ClusterTriggerAuthenticationProps) {
    super(scope, id);
    this.name = props.name ?? id;
    checkDnsSubdomain('name', this.name);
    const spec = renderSources(props);
    this.podIdentityProvider = props.podIdentity?.provider;
    new ApiObject(this, 'Resource', {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ClusterTriggerAuthentication',
      metadata: { name: this.name },
      spec,
    });
  }
}
