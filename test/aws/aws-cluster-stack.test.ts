// One AwsClusterStack built in-process from a table cluster with every AWS-only setting: a concrete
// account, a public endpoint, an admin role and the decision-runtime hook.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { awsWorkloadRoleName } from '../../constructs/aws/workload-role-names.js';
import { RuntimeHistory } from '../../constructs/k8s/runtime-history.js';
import { AwsClusterStack, runtimeImageAssetProps } from '../../stacks/aws-environment-stack.js';
import { ENVIRONMENTS } from '../../stacks/environments.js';
import type { ClusterConfig, EnvironmentConfig } from '../../stacks/environment-types.js';
import { REPO_ROOT } from '../support/paths.js';
import { readViolations, testApp, type Json } from './support.js';

const prod = ENVIRONMENTS.find((e) => e.name === 'prod') as EnvironmentConfig;
const prodEks = prod.clusters.find((c) => c.cloud === 'aws') as ClusterConfig;
const runtimeDir = mkdtempSync(join(tmpdir(), 'elasticai-runtime-'));
mkdirSync(runtimeDir, { recursive: true });
writeFileSync(join(runtimeDir, 'Dockerfile'), 'FROM scratch\n');
const WORKSPACE = 'arn:aws:aps:us-east-1:111122223333:workspace/ws-abcd1234-ab12-cd34-ef56-abcdef123456';

// GIVEN prod's EKS cluster with all AWS settings, checked by cdk-nag, synthesized once
const app = testApp({ cloudFormationValidation: true });
const stack = new AwsClusterStack(app, 'elasticai-prod-use1', {
  environment: prod,
  cluster: {
    ...prodEks,
    aws: {
      account: '111122223333',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      publicEndpointCidrs: ['198.51.100.0/24'],
      adminRoleArn: 'arn:aws:iam::111122223333:role/platform-admin',
      runtime: { imageAssetDirectory: runtimeDir, prometheusWorkspaceArn: WORKSPACE },
    },
    runtime: {
      ...(prodEks.runtime as NonNullable<ClusterConfig['runtime']>),
      history: RuntimeHistory.amazonManagedPrometheus({ workspaceArn: WORKSPACE }),
    },
  },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
const assembly = app.synth();
const template = Template.fromJSON(assembly.getStackByName(stack.stackName).template);

describe('AwsClusterStack with every AWS setting', () => {
  it('deploys to the table account and region', () => {
    assert.equal(stack.account, '111122223333');
    assert.equal(stack.region, 'us-east-1');
  });

  it('still has zero unacknowledged cdk-nag findings (acknowledgements follow the concrete account)', () => {
    assert.deepEqual(readViolations(assembly.directory), []);
  });

  it('opens the public endpoint to the given range only and grants the admin role through an access entry', () => {
    const c = (Object.values(template.findResources('AWS::EKS::Cluster'))[0] as Json).Properties;
    assert.deepEqual(c.ResourcesVpcConfig.PublicAccessCidrs, ['198.51.100.0/24']);
    const entry = Object.values(template.findResources('AWS::EKS::AccessEntry')).find(
      (r: Json) => r.Properties.PrincipalArn === 'arn:aws:iam::111122223333:role/platform-admin',
    ) as Json;
    assert.equal(entry.Properties.AccessPolicies.length, 1);
    assert.deepEqual(entry.Properties.AccessPolicies[0].AccessScope, { Type: 'cluster' });
    assert.match(
      JSON.stringify(entry.Properties.AccessPolicies[0].PolicyArn),
      /:eks::aws:cluster-access-policy\/AmazonEKSClusterAdminPolicy/,
    );
  });

  it('stages the runtime image as a Docker asset (not built at synth) and gives the runtime a read-only role', () => {
    const assets = JSON.parse(
      readFileSync(join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'),
    );
    const images = Object.values(assets.dockerImages) as Json[];
    assert.equal(images.length, 1);
    assert.equal(images[0].source.platform, 'linux/amd64');
    assert.ok(images[0].source.directory, 'a build context, built only at deploy');
    const runtimeRole = Object.keys(template.findResources('AWS::IAM::Role')).find((id) =>
      id.startsWith('DecisionRuntimeRole'),
    );
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p: Json) =>
      p.Properties.Roles.some((r: Json) => r.Ref === runtimeRole),
    ) as Json;
    assert.deepEqual(policy.Properties.PolicyDocument.Statement, [
      {
        Sid: 'QueryMetricHistory',
        Effect: 'Allow',
        Action: ['aps:GetLabels', 'aps:GetMetricMetadata', 'aps:GetSeries', 'aps:QueryMetrics'],
        Resource: WORKSPACE,
      },
    ]);
    assert.ok(Object.keys(template.toJSON().Outputs).includes('DecisionRuntimeImageUri'));
  });

  it('runs the decision runtime from the staged image, bound to its IRSA role, in the chart the stack applies', () => {
    // GIVEN the staged image's hash and the runtime role's logical id
    const assets = JSON.parse(
      readFileSync(join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'),
    );
    const [hash] = Object.keys(assets.dockerImages);
    const roleId = Object.keys(template.findResources('AWS::IAM::Role')).find((id) =>
      id.startsWith('DecisionRuntimeRole'),
    );
    // WHEN reading the applied manifest that holds the runtime Deployment
    const applied = Object.values(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'))
      .map((r: Json) => JSON.stringify(r.Properties.Manifest))
      .filter((m) => m.includes('ELASTICAI_PROMETHEUS_URL'));
    assert.equal(applied.length, 1, 'the runtime is applied once');
    const manifest = applied[0] as string;
    // THEN the container image is the stack's ECR image at the asset's hash, not the registry image
    assert.ok(manifest.includes(`container-assets`) && manifest.includes(`:${hash}`), manifest.slice(0, 400));
    assert.ok(!manifest.includes(prodEks.runtime?.image as string), 'the table image was replaced');
    // AND the ServiceAccount names the role this stack creates (deploy-time ARN)
    assert.ok(manifest.includes(`role-arn\\":\\"",{"Fn::GetAtt":["${roleId}","Arn"]}`), 'IRSA annotation');
    // AND the runtime reads the workspace its role may query
    assert.ok(manifest.includes(`/workspaces/ws-abcd1234-ab12-cd34-ef56-abcdef123456`));
  });

  it('refuses a runtime history workspace its role may not query, naming the field', () => {
    assert.throws(
      () =>
        new AwsClusterStack(testApp(), 'x', {
          environment: prod,
          cluster: { ...prodEks, aws: { ...prodEks.aws, runtime: { prometheusWorkspaceArn: WORKSPACE } } },
        }),
      /prod-use1\.aws\.runtime\.prometheusWorkspaceArn: must be the workspace the runtime's history reads \(ws-00000000-0000-4000-8000-000000000003 in us-east-1\), so its role may query it/,
    );
  });

  it('names the cluster-autoscaler, KEDA and decision-runtime roles as the GitOps manifests reference them', () => {
    // GIVEN the synthesized roles WHEN looking for the fixed names THEN each exists, once
    const names = Object.values(template.findResources('AWS::IAM::Role')).map(
      (r: Json) => r.Properties.RoleName,
    );
    for (const component of ['cluster-autoscaler', 'keda-operator', 'decision-runtime'] as const) {
      const expected = awsWorkloadRoleName(prodEks.name, component);
      assert.equal(names.filter((n) => n === expected).length, 1, `no role named ${expected}`);
    }
  });

  it('places the VPC in the configured zones', () => {
    const zones = Object.values(template.findResources('AWS::EC2::Subnet')).map(
      (s: Json) => s.Properties.AvailabilityZone,
    );
    assert.deepEqual([...new Set(zones)].sort(), ['us-east-1a', 'us-east-1b']);
  });

  it('refuses an AKS cluster', () => {
    const azure = prod.clusters.find((c) => c.cloud === 'azure') as ClusterConfig;
    assert.throws(
      () => new AwsClusterStack(testApp(), 'x', { environment: prod, cluster: azure }),
      /cluster.cloud: must be "aws" for an EKS stack \(cluster prod-weu\) \(got "azure"\)/,
    );
  });
});

describe('runtime image asset', () => {
  /** Files staged for the image build (the asset's directory in the cloud assembly), relative paths. */
  function stagedFiles(directory: string): string[] {
    // GIVEN an app that really stages assets (the unit-test app references them in place)
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'elasticai-asset-')) });
    const assetStack = new Stack(app, 'Assets', { env: { account: '111122223333', region: 'us-east-1' } });
    new ecrAssets.DockerImageAsset(assetStack, 'Runtime', runtimeImageAssetProps(directory));
    // WHEN synthesized
    const out = app.synth().directory;
    const assets = JSON.parse(readFileSync(join(out, 'Assets.assets.json'), 'utf8'));
    const [image] = Object.values(assets.dockerImages) as Json[];
    const staged = join(out, image.source.directory);
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else files.push(relative(staged, path));
      }
    };
    walk(staged);
    return files.sort();
  }

  it('never stages node_modules, even without a .dockerignore', () => {
    // GIVEN a build context with local dependencies and no .dockerignore
    const dir = mkdtempSync(join(tmpdir(), 'elasticai-ctx-'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
    writeFileSync(join(dir, 'main.ts'), 'export {};\n');
    mkdirSync(join(dir, 'node_modules', 'left-pad'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'left-pad', 'index.js'), '');
    mkdirSync(join(dir, 'service', 'node_modules'), { recursive: true });
    writeFileSync(join(dir, 'service', 'node_modules', 'x.js'), '');
    // THEN only the sources reach the build
    assert.deepEqual(stagedFiles(dir), ['Dockerfile', 'main.ts']);
  });

  it("reads runtime/.dockerignore with Docker's rules (root-only `build`, `**/name` at any depth)", () => {
    // GIVEN a context shaped like runtime/ after a local install, build and test run, with its .dockerignore
    const dir = mkdtempSync(join(tmpdir(), 'elasticai-ctx-'));
    writeFileSync(join(dir, '.dockerignore'), readFileSync(join(REPO_ROOT, 'runtime', '.dockerignore')));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
    writeFileSync(join(dir, 'README.md'), '# runtime\n');
    for (const file of [
      'service/main.ts',
      'service/build/keep.ts',
      'build/service/main.js',
      'node_modules/x/index.js',
    ]) {
      mkdirSync(join(dir, file, '..'), { recursive: true });
      writeFileSync(join(dir, file), '');
    }
    // THEN sources stay (even a nested folder named build), compiled output and dependencies do not
    const files = stagedFiles(dir);
    assert.deepEqual(
      files.filter((f) => f !== '.dockerignore'),
      ['Dockerfile', 'service/build/keep.ts', 'service/main.ts'],
    );
  });

  it("stages runtime/ with Docker's .dockerignore rules: no dependencies, build output or tests", () => {
    // GIVEN the repository's runtime folder, the table's build context for prod
    const prodRuntime = prodEks.aws?.runtime?.imageAssetDirectory as string;
    assert.equal(prodRuntime, join(REPO_ROOT, 'runtime'));
    // WHEN staged
    const files = stagedFiles(prodRuntime);
    // THEN what the Dockerfile copies is there, and nothing it installs or compiles itself
    for (const needed of ['Dockerfile', 'package.json', 'service/config.ts'])
      assert.ok(files.includes(needed), needed);
    assert.deepEqual(
      files.filter((f) => /(^|\/)(node_modules|build)\//.test(f) || f.endsWith('.md')),
      [],
    );
  });
});
