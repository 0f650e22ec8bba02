/**
 * Schema validation of synthesized objects: built-in kinds against the official Kubernetes OpenAPI
 * schemas (kubernetes-models), custom resources against the CRD schemas in ../shared/crds (KEDA 2.20.2,
 * VPA, CapacityBuffer) and the Flux / Argo CD models.
 *
 * CRD schemas are applied "closed": an object field the schema does not declare is an error, because
 * the API server would silently prune it (a typo'd KEDA field is a setting that never takes effect).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { SHARED_DIR } from './paths.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

type JsonSchema = Record<string, unknown>;

/** Marks every object schema with declared properties as closed, like the API server's pruning. */
function closeSchema(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && value && typeof value === 'object') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, closeSchema(v)]),
      );
    } else if ((key === 'items' || key === 'additionalProperties') && value && typeof value === 'object') {
      out[key] = closeSchema(value as JsonSchema);
    } else if ((key === 'allOf' || key === 'anyOf' || key === 'oneOf') && Array.isArray(value)) {
      out[key] = value.map((v: JsonSchema) => closeSchema(v));
    } else if (!key.startsWith('x-kubernetes-')) {
      out[key] = value;
    }
  }
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (
    schema.type === 'object' &&
    schema.properties &&
    !preserve &&
    schema.additionalProperties === undefined
  ) {
    out.additionalProperties = false;
  }
  if (schema['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  return out;
}

interface CrdVersionSchema {
  validate: ValidateFunction;
}

function loadCrdValidators(): Map<string, CrdVersionSchema> {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  const validators = new Map<string, CrdVersionSchema>();
  const crdRoot = join(SHARED_DIR, 'crds');
  for (const group of readdirSync(crdRoot)) {
    for (const file of readdirSync(join(crdRoot, group))) {
      if (!/\.ya?ml$/.test(file)) continue;
      for (const doc of parseAllDocuments(readFileSync(join(crdRoot, group, file), 'utf8'))) {
        const crd = doc.toJS() as {
          kind?: string;
          spec?: {
            group: string;
            names: { kind: string };
            versions: { name: string; schema?: { openAPIV3Schema: JsonSchema } }[];
          };
        } | null;
        if (!crd || crd.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
        for (const version of crd.spec.versions) {
          if (!version.schema) continue;
          const schema = closeSchema(version.schema.openAPIV3Schema);
          // apiVersion/kind/metadata are checked by the API machinery, not the CRD schema.
          const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
          props.metadata = { type: 'object' };
          validators.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, {
            validate: ajv.compile(schema),
          });
        }
      }
    }
  }
  return validators;
}

let crdValidators: Map<string, CrdVersionSchema> | undefined;

/** Module path of the kubernetes-models class for a built-in apiVersion, e.g. apps/v1 → kubernetes-models/apps/v1. */
function builtInModule(apiVersion: string): string | undefined {
  if (apiVersion === 'v1') return 'kubernetes-models/v1';
  const [group] = apiVersion.split('/');
  if (group && (!group.includes('.') || group.endsWith('.k8s.io'))) return `kubernetes-models/${apiVersion}`;
  if (group === 'helm.toolkit.fluxcd.io' || group === 'source.toolkit.fluxcd.io') {
    return `@kubernetes-models/flux-cd/${apiVersion}`;
  }
  if (group === 'argoproj.io') return `@kubernetes-models/argo-cd/${apiVersion}`;
  return undefined;
}

/** Model class of a kind from a kubernetes-models style module, or an error message. */
async function modelValidator(
  modulePath: string,
  kind: string,
): Promise<(new (o: unknown) => { validate(): void }) | string> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(modulePath)) as Record<string, unknown>;
  } catch {
    return `no schema module ${modulePath}`;
  }
  const Model = mod[kind] as (new (o: unknown) => { validate(): void }) | undefined;
  return Model ?? `${modulePath} has no kind ${kind}`;
}

/**
 * Validates one object. Custom resources are checked against the CRDs in ../shared/crds, the
 * authority for the versions we target (@kubernetes-models/keda 2.0.0 predates KEDA 2.20 fields such
 * as `fallback.behavior`, so it is not used). Objects no schema covers are errors: nothing passes
 * unchecked.
 */
export async function validateObject(obj: KubeObject): Promise<string[]> {
  const where = `${obj.kind}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? '?'}`;
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  crdValidators ??= loadCrdValidators();
  const crd = crdValidators.get(`${group}/${version}/${obj.kind}`);
  const errors: string[] = [];
  if (crd && !crd.validate(obj)) {
    errors.push(
      ...(crd.validate.errors ?? []).map(
        (e) => `${where}: ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`,
      ),
    );
  }
  const modulePath = builtInModule(obj.apiVersion);
  if (!modulePath) return crd ? errors : [`${where}: no schema known for ${obj.apiVersion}`];
  const Model = await modelValidator(modulePath, obj.kind);
  if (typeof Model === 'string') return crd ? errors : [`${where}: ${Model}`];
  try {
    new Model(obj).validate();
  } catch (e) {
    errors.push(`${where}: ${(e as Error).message}`);
  }
  return errors;
}

/** Validates many objects; resolves to every error found (empty when all are valid). */
export async function validateAll(objects: readonly KubeObject[]): Promise<string[]> {
  const errors: string[] = [];
  for (const obj of objects) errors.push(...(await validateObject(obj)));
  return errors;
}
