import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  CLUSTER_AUTOSCALER_READ_ACTIONS,
  ClusterAutoscalerRole,
} from '../../constructs/aws/cluster-autoscaler-role.js';
import { checkIamRoleArn } from '../../constructs/aws/aws-checks.js';
import { EksHelmAddons } from '../../constructs/aws/eks-helm-addons.js';
import { DecisionRuntimeRole } from '../../constructs/aws/decision-runtime-role.js';
import { IRSA_ROLE_ANNOTATION, type IrsaRole } from '../../constructs/aws/irsa-role.js';
import { KedaOperatorRole } from '../../constructs/aws/keda-operator-role.js';
import { NodeTerminationHandlerRole } from '../../constructs/aws/node-termination-handler-role.js';
import { DECISION_RUNTIME_NAME, DECISION_RUNTIME_NAMESPACE } from '../../constructs/k8s/decision-runtime.js';
import { PodIdentity } from '../../constructs/k8s/keda/trigger-authentication.js';
import { Trigger } from '../../constructs/k8s/keda/trigger.js';
import { WorkloadIdentity } from '../../constructs/k8s/workload-identity.js';
import { WorkloadScaling } from '../../constructs/k8s/workload-scaling.js';
import { HealthCheck } from '../../constructs/k8s/health-check.js';
import { kedaAwsAccess, sqsQueueArnFromUrl } from '../../stacks/aws-keda-access.js';
import { ENVIRONMENTS } from '../../stacks/environments.js';
import type { ClusterConfig } from '../../stacks/environment-types.js';
import { Cpu } from 'cdk8s-plus-28';
import { Size } from 'cdk8s';
import { testApp, TEST_ENV, type Json } from './support.js';

// GIVEN one stack with an imported OIDC provider and every workload role, synthesized once
const stack = new Stack(testApp(), 'Test', { env: TEST_ENV });
const provider = eks.OidcProviderNative.fromOidcProviderArn(
  stack,
  'Oidc',
  'arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC123',
);
const queue = new sqs.Queue(stack, 'Queue', { encryption: sqs.QueueEncryption.SQS_MANAGED });
const ca = new ClusterAutoscalerRole(stack, 'Ca', {
  openIdConnectProvider: provider,
  clusterName: 'prod-use1',
});
const nth = new NodeTerminationHandlerRole(stack, 'Nth', { openIdConnectProvider: provider, queue });
const keda = new KedaOperatorRole(stack, 'Keda', {
  openIdConnectProvider: provider,
  sqsQueueArns: ['arn:aws:sqs:us-east-1:123456789012:orders', 'arn:aws:sqs:us-east-1:123456789012:orders'],
  assumableRoleArns: ['arn:aws:iam::123456789012:role/prod-order-worker'],
});
const kedaEmpty = new KedaOperatorRole(stack, 'KedaEmpty', { openIdConnectProvider: provider });
const runtime = new DecisionRuntimeRole(stack, 'Runtime', {
  openIdConnectProvider: provider,
  prometheusWorkspaceArn:
    'arn:aws:aps:us-east-1:123456789012:workspace/ws-1234abcd-12ab-34cd-56ef-1234567890ab',
});
const runtimeNoAmp = new DecisionRuntimeRole(stack, 'RuntimeNoAmp', { openIdConnectProvider: provider });
const template = Template.fromStack(stack);

function statementsOf(role: IrsaRole): Json[] {
  const roleId = stack.getLogicalId(role.role.node.defaultChild as never);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: Json) =>
    p.Properties.Roles.some((r: Json) => r.Ref === roleId),
  ) as Json[];
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}
function trustOf(role: IrsaRole): Json {
  const roleId = stack.getLogicalId(role.role.node.defaultChild as never);
  return template.toJSON().Resources[roleId].Properties.AssumeRolePolicyDocument.Statement[0];
}
/** The CfnJson behind the trust policy's StringEquals, parsed (the issuer is literal here). */
function trustConditionsOf(role: IrsaRole): Json {
  const ref = trustOf(role).Condition.StringEquals['Fn::GetAtt'];
  assert.equal(ref[1], 'Value');
  const cfnJson = template.toJSON().Resources[ref[0]];
  assert.equal(cfnJson.Type, 'Custom::AWSCDKCfnJson');
  return JSON.parse(cfnJson.Properties.Value);
}

describe('IRSA trust', () => {
  it('lets only the one ServiceAccount (audience sts) assume each role', () => {
    for (const [role, sub] of [
      [ca, 'system:serviceaccount:kube-system:cluster-autoscaler'],
      [nth, 'system:serviceaccount:kube-system:aws-node-termination-handler'],
      [keda, 'system:serviceaccount:keda:keda-operator'],
      // The DecisionRuntime's own ServiceAccount and namespace (defaults of both constructs).
      [runtime, `system:serviceaccount:${DECISION_RUNTIME_NAMESPACE}:${DECISION_RUNTIME_NAME}`],
    ] as const) {
      const trust = trustOf(role);
      assert.equal(trust.Action, 'sts:AssumeRoleWithWebIdentity');
      assert.equal(
        trust.Principal.Federated,
        'arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC123',
      );
      assert.deepEqual(trustConditionsOf(role), {
        'oidc.eks.us-east-1.amazonaws.com/id/ABC123:aud': 'sts.amazonaws.com',
        'oidc.eks.us-east-1.amazonaws.com/id/ABC123:sub': sub,
      });
    }
  });

  it("trusts exactly the DecisionRuntime's ServiceAccount: elasticai-system/elasticai-runtime", () => {
    assert.equal(DECISION_RUNTIME_NAMESPACE, 'elasticai-system');
    assert.equal(DECISION_RUNTIME_NAME, 'elasticai-runtime');
    assert.equal(runtime.namespace, DECISION_RUNTIME_NAMESPACE);
    assert.equal(runtime.serviceAccount, DECISION_RUNTIME_NAME);
  });

  it('annotates ServiceAccounts with the key WorkloadIdentity.awsIrsa uses', () => {
    const typed = WorkloadIdentity.awsIrsa('arn:aws:iam::123456789012:role/x').serviceAccountAnnotations;
    assert.deepEqual(Object.keys(typed), [IRSA_ROLE_ANNOTATION]);
    assert.deepEqual(Object.keys(ca.serviceAccountAnnotations), [IRSA_ROLE_ANNOTATION]);
  });
});

describe('ClusterAutoscalerRole', () => {
  const statements = statementsOf(ca);
  const sid = (s: string) => statements.find((x) => x.Sid === s);

  it('writes only to groups tagged for this cluster', () => {
    const write = sid('ScaleOwnedGroupsOnly');
    assert.deepEqual(write.Action, [
      'autoscaling:SetDesiredCapacity',
      'autoscaling:TerminateInstanceInAutoScalingGroup',
    ]);
    assert.deepEqual(write.Condition, {
      StringEquals: {
        'aws:ResourceTag/k8s.io/cluster-autoscaler/prod-use1': 'owned',
        'aws:ResourceTag/k8s.io/cluster-autoscaler/enabled': 'true',
      },
    });
    assert.deepEqual(write.Resource, {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/*',
        ],
      ],
    });
    // no other statement grants a write
    const writes = statements
      .flatMap((s) => [s.Action].flat())
      .filter((a: string) => !/:(Describe|Get)/.test(a));
    assert.deepEqual(writes.sort(), [
      'autoscaling:SetDesiredCapacity',
      'autoscaling:TerminateInstanceInAutoScalingGroup',
    ]);
  });

  it('has the reads upstream needs, including scaling activities, images and attribute-based types', () => {
    const read = sid('DiscoverGroupsAndInstanceTypes');
    assert.deepEqual(read.Action, CLUSTER_AUTOSCALER_READ_ACTIONS);
    for (const a of [
      'autoscaling:DescribeScalingActivities',
      'ec2:DescribeImages',
      'ec2:GetInstanceTypesFromInstanceRequirements',
      'ec2:DescribeLaunchTemplateVersions',
      'ec2:DescribeInstanceTypes',
    ]) {
      assert.ok(read.Action.includes(a), a);
    }
    const ng = sid('ReadOwnManagedNodegroups');
    assert.equal(ng.Action, 'eks:DescribeNodegroup');
    assert.match(JSON.stringify(ng.Resource), /:eks:us-east-1:123456789012:nodegroup\/prod-use1\/\*\/\*/);
  });
});

describe('NodeTerminationHandlerRole', () => {
  const statements = statementsOf(nth);
  it('consumes its own queue only, completes lifecycle actions of managed groups only', () => {
    const consume = statements.find((s) => s.Sid === 'ConsumeOwnQueue');
    assert.deepEqual(consume.Action, ['sqs:ReceiveMessage', 'sqs:DeleteMessage']);
    assert.deepEqual(consume.Resource, {
      'Fn::GetAtt': [stack.getLogicalId(queue.node.defaultChild as never), 'Arn'],
    });
    const complete = statements.find((s) => s.Sid === 'CompleteLifecycleOfManagedGroups');
    assert.equal(complete.Action, 'autoscaling:CompleteLifecycleAction');
    assert.deepEqual(complete.Condition, {
      StringEquals: { 'aws:ResourceTag/aws-node-termination-handler/managed': 'true' },
    });
    const describe_ = statements.find((s) => s.Sid === 'MapInstancesToNodes');
    assert.deepEqual(describe_.Action, [
      'autoscaling:DescribeAutoScalingInstances',
      'autoscaling:DescribeTags',
      'ec2:DescribeInstances',
    ]);
    assert.equal(statements.length, 3);
  });
});

describe('KedaOperatorRole', () => {
  it('reads only the named queues and assumes only the named roles, never a managed policy', () => {
    const statements = statementsOf(keda);
    assert.deepEqual(statements, [
      {
        Sid: 'ReadTriggerQueues',
        Effect: 'Allow',
        Action: 'sqs:GetQueueAttributes',
        Resource: 'arn:aws:sqs:us-east-1:123456789012:orders',
      },
      {
        Sid: 'AssumeWorkloadRoles',
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Resource: 'arn:aws:iam::123456789012:role/prod-order-worker',
      },
    ]);
    const roleId = stack.getLogicalId(keda.role.node.defaultChild as never);
    assert.equal(template.toJSON().Resources[roleId].Properties.ManagedPolicyArns, undefined);
    assert.deepEqual(statementsOf(kedaEmpty), [], 'no triggers, no permissions');
  });

  it('takes an explicitly empty list as none: no statement with an empty Resource, no policy at all', () => {
    // GIVEN an operator role given empty lists, and one given queues but an empty role list
    const s = new Stack(testApp(), 'Empty', { env: TEST_ENV });
    new KedaOperatorRole(s, 'Neither', {
      openIdConnectProvider: provider,
      sqsQueueArns: [],
      assumableRoleArns: [],
    });
    const t = Template.fromStack(s);
    // THEN the role exists (GitOps manifests name it) but carries no policy
    t.resourceCountIs('AWS::IAM::Role', 2); // the operator's, and CfnJson's provider
    t.resourceCountIs('AWS::IAM::Policy', 0);
    const q = new Stack(testApp(), 'QueuesOnly', { env: TEST_ENV });
    new KedaOperatorRole(q, 'K', {
      openIdConnectProvider: provider,
      sqsQueueArns: ['arn:aws:sqs:us-east-1:123456789012:orders'],
      assumableRoleArns: [],
    });
    const statements = Object.values(Template.fromStack(q).findResources('AWS::IAM::Policy')).flatMap(
      (p: Json) => p.Properties.PolicyDocument.Statement,
    );
    assert.deepEqual(
      statements.map((st: Json) => [st.Sid, st.Resource]),
      [['ReadTriggerQueues', 'arn:aws:sqs:us-east-1:123456789012:orders']],
    );
  });

  it('refuses anything but queue and role ARNs', () => {
    const s = new Stack(testApp(), 'Bad', { env: TEST_ENV });
    assert.throws(
      () =>
        new KedaOperatorRole(s, 'K', {
          openIdConnectProvider: provider,
          sqsQueueArns: ['arn:aws:sqs:us-east-1:123456789012:*'],
        }),
      /sqsQueueArns: must be an SQS queue ARN \(got "arn:aws:sqs:us-east-1:123456789012:\*"\)/,
    );
  });

  it('reads queues of every partition, and refuses an ARN in another partition than its region', () => {
    // GIVEN queue ARNs of the commercial, China, GovCloud, ISO, ISO-B, ISO-E, ISO-F and EUSC partitions
    const arns = [
      'arn:aws:sqs:eu-west-1:123456789012:a.fifo',
      'arn:aws-cn:sqs:cn-northwest-1:123456789012:a',
      'arn:aws-iso:sqs:us-iso-east-1:123456789012:a',
      'arn:aws-iso-b:sqs:us-isob-east-1:123456789012:a',
      'arn:aws-us-gov:sqs:us-gov-west-1:123456789012:a',
      'arn:aws-iso-e:sqs:eu-isoe-west-1:123456789012:a',
      'arn:aws-iso-f:sqs:us-isof-south-1:123456789012:a',
      'arn:aws-eusc:sqs:eusc-de-east-1:123456789012:a',
    ];
    // WHEN the operator role names them  THEN one statement reads exactly those queues (sorted)
    const s = new Stack(testApp(), 'Partitions', { env: TEST_ENV });
    new KedaOperatorRole(s, 'K', { openIdConnectProvider: provider, sqsQueueArns: arns });
    Template.fromStack(s).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          { Sid: 'ReadTriggerQueues', Action: 'sqs:GetQueueAttributes', Resource: [...arns].sort() },
        ],
      },
    });
    // WHEN a partition is not the region's, or not a partition at all  THEN refused by value
    for (const [i, arn] of [
      'arn:aws:sqs:cn-north-1:123456789012:a',
      'arn:aws-iso:sqs:us-isob-east-1:123456789012:a',
      'arn:aws-foo:sqs:us-east-1:123456789012:a',
      'arn:aws-iso-f:sqs:eu-isoe-west-1:123456789012:a',
      'arn:aws:sqs:eusc-de-east-1:123456789012:a',
      'arn:aws-eusc:sqs:eu-central-1:123456789012:a',
    ].entries()) {
      assert.throws(
        () => new KedaOperatorRole(s, `Bad${i}`, { openIdConnectProvider: provider, sqsQueueArns: [arn] }),
        (e: Error) =>
          e.name === 'PropError' && e.message === `sqsQueueArns: must be an SQS queue ARN (got "${arn}")`,
      );
    }
  });
});

describe('role ARNs on the AWS side', () => {
  it('KedaOperatorRole and aws-checks (EksHelmAddons, ElasticEksCluster) take role ARNs by the one IAM rule', () => {
    // GIVEN a scratch stack
    const s = new Stack(testApp(), 'RoleArns', { env: TEST_ENV });
    const entryPoints: [string, (arn: string, i: number) => unknown][] = [
      [
        'assumableRoleArns',
        (arn, i) =>
          new KedaOperatorRole(s, `K${i}`, { openIdConnectProvider: provider, assumableRoleArns: [arn] }),
      ],
      ['adminRoleArn', (arn) => checkIamRoleArn('adminRoleArn', arn)],
    ];
    let i = 0;
    for (const [prop, build] of entryPoints) {
      // WHEN the role name is 65 characters, the path has a space, or the partition is not AWS's
      // THEN refused, naming the prop, the fault and the value (KedaOperatorRole took the first
      // and the last before, aws-checks the last)
      for (const [arn, fault] of [
        [`arn:aws:iam::123456789012:role/${'r'.repeat(65)}`, 'its role name is 65 characters long (1-64)'],
        ['arn:aws:iam::123456789012:role/my team/worker', 'its role path "/my team/" is not'],
        ['arn:aws-foo:iam::123456789012:role/worker', 'its partition "aws-foo" is not one of'],
      ] as const) {
        assert.throws(
          () => build(arn, i++),
          (e: Error) =>
            e.name === 'PropError' &&
            e.message.startsWith(`${prop}: must be an IAM role ARN: ${fault}`) &&
            e.message.endsWith(`(got ${JSON.stringify(arn)})`),
          arn,
        );
      }
      // WHEN the role is in the ISO-F partition or under a path of printable ASCII  THEN taken
      build('arn:aws-iso-f:iam::123456789012:role/worker', i++);
      build('arn:aws:iam::123456789012:role/team/a!b~c/worker', i++);
      // WHEN it is another role's ARN by reference (a CDK token)  THEN left to CloudFormation
      build(new iam.Role(s, `R${i}`, { assumedBy: new iam.AccountRootPrincipal() }).roleArn, i++);
    }
  });

  it('KedaOperatorRole refuses a role path with a wildcard, which IAM would match against many roles', () => {
    const s = new Stack(testApp(), 'Wildcard', { env: TEST_ENV });
    for (const [i, arn] of [
      'arn:aws:iam::123456789012:role/team*/worker',
      'arn:aws:iam::123456789012:role/team?/worker',
    ].entries()) {
      assert.throws(
        () => new KedaOperatorRole(s, `K${i}`, { openIdConnectProvider: provider, assumableRoleArns: [arn] }),
        (e: Error) =>
          e.name === 'PropError' &&
          e.message ===
            `assumableRoleArns: must name one role, without "*" or "?" (got ${JSON.stringify(arn)})`,
      );
    }
  });
});

describe('KedaOperatorRole with CDK references', () => {
  it("takes a queue's and a role's ARN from the same app (tokens), and still refuses a bad literal", () => {
    // GIVEN a queue and a workload role defined in the same stack
    const s = new Stack(testApp(), 'Tokens', { env: TEST_ENV });
    const queue = new sqs.Queue(s, 'Orders', { enforceSSL: true });
    const worker = new iam.Role(s, 'Worker', { assumedBy: new iam.AccountRootPrincipal() });
    // WHEN the operator role names them by reference
    new KedaOperatorRole(s, 'K', {
      openIdConnectProvider: provider,
      sqsQueueArns: [queue.queueArn],
      assumableRoleArns: [worker.roleArn],
    });
    // THEN the statements point at them (resolved by CloudFormation at deploy)
    const t = Template.fromStack(s);
    const queueId = s.getLogicalId(queue.node.defaultChild as sqs.CfnQueue);
    const workerId = s.getLogicalId(worker.node.defaultChild as iam.CfnRole);
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          { Sid: 'ReadTriggerQueues', Resource: { 'Fn::GetAtt': [queueId, 'Arn'] } },
          { Sid: 'AssumeWorkloadRoles', Resource: { 'Fn::GetAtt': [workerId, 'Arn'] } },
        ],
      },
    });
    // AND a literal that is no ARN is still refused, naming the prop
    assert.throws(
      () =>
        new KedaOperatorRole(s, 'Bad', { openIdConnectProvider: provider, assumableRoleArns: ['worker'] }),
      /assumableRoleArns: must be an IAM role ARN like "arn:aws:iam::123456789012:role\/<name>" \(got "worker"\)/,
    );
  });
});

describe('DecisionRuntimeRole', () => {
  it('may only query its Managed Prometheus workspace, and has nothing without one', () => {
    const [statement] = statementsOf(runtime);
    assert.deepEqual(statement.Action, [
      'aps:GetLabels',
      'aps:GetMetricMetadata',
      'aps:GetSeries',
      'aps:QueryMetrics',
    ]);
    assert.match(statement.Resource, /:workspace\/ws-/);
    assert.deepEqual(statementsOf(runtimeNoAmp), []);
  });

  it("takes a workspace ARN only with a partition of AWS's that is its region's", () => {
    const s = new Stack(testApp(), 'AmpArns', { env: TEST_ENV });
    const ws = 'ws-1234abcd-12ab-34cd-56ef-1234567890ab';
    const role = (id: string, prometheusWorkspaceArn: string): DecisionRuntimeRole =>
      new DecisionRuntimeRole(s, id, { openIdConnectProvider: provider, prometheusWorkspaceArn });
    // GIVEN ARNs with an unknown partition, another partition than the region's, or no region name
    for (const [i, arn] of [
      `arn:aws-moon:aps:us-east-1:123456789012:workspace/${ws}`,
      `arn:aws:aps:cn-north-1:123456789012:workspace/${ws}`,
      `arn:aws-us-gov:aps:us-east-1:123456789012:workspace/${ws}`,
      `arn:aws:aps:useast1:123456789012:workspace/${ws}`,
    ].entries()) {
      // THEN refused, naming the prop and the value
      assert.throws(
        () => role(`Bad${i}`, arn),
        (e: Error) =>
          e.name === 'PropError' &&
          e.message.startsWith('prometheusWorkspaceArn: must be an Amazon Managed Service for Prometheus') &&
          e.message.endsWith(`(got "${arn}")`),
      );
    }
    // GIVEN a well-formed ARN of another partition  THEN the role may query it (its form is right;
    // whether the runtime can reach AMP there is RuntimeHistory's check)
    const gov = `arn:aws-us-gov:aps:us-gov-west-1:123456789012:workspace/${ws}`;
    const ok = new Stack(testApp(), 'AmpGov', { env: TEST_ENV });
    new DecisionRuntimeRole(ok, 'Gov', { openIdConnectProvider: provider, prometheusWorkspaceArn: gov });
    const resources = Object.values(Template.fromStack(ok).findResources('AWS::IAM::Policy')).flatMap(
      (p: Json) => p.Properties.PolicyDocument.Statement.map((st: Json) => st.Resource),
    );
    assert.deepEqual(resources, [gov]);
  });
});

describe('KEDA permissions derived from the table', () => {
  it('assumes each workload role of the table triggers that authenticate as the workload', () => {
    // GIVEN the table's EKS clusters, whose order-worker reads SQS as itself (identityOwner workload)
    for (const env of ENVIRONMENTS) {
      for (const cluster of env.clusters.filter((c) => c.cloud === 'aws')) {
        assert.deepEqual(kedaAwsAccess(cluster), {
          sqsQueueArns: [],
          assumableRoleArns: [`arn:aws:iam::123456789012:role/${env.name}-order-worker`],
        });
      }
    }
  });

  it('grants queue reads for operator-owned triggers and refuses workload-owned ones without a role', () => {
    const prod = ENVIRONMENTS.find((e) => e.name === 'prod')?.clusters.find(
      (c) => c.cloud === 'aws',
    ) as ClusterConfig;
    const worker = (
      identity?: WorkloadIdentity,
      queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs',
    ) => ({
      name: 'w',
      image: 'ghcr.io/x/w:1.0.0',
      resources: { cpu: { request: Cpu.millis(100) }, memory: { request: Size.mebibytes(128) } },
      replicas: { min: 0, max: 3 },
      readiness: HealthCheck.exec(['true']),
      ...(identity ? { identity } : {}),
      scaling: WorkloadScaling.keda({
        triggers: [
          Trigger.awsSqsQueue({
            queueUrl,
            awsRegion: 'us-east-1',
            queueLength: 5,
            authentication: { name: 'op', kind: 'TriggerAuthentication', namespace: 't' },
          }),
        ],
      }),
    });
    const cluster = (
      owner: 'keda' | 'workload',
      identity?: WorkloadIdentity,
      queueUrl?: string,
    ): ClusterConfig => ({
      ...prod,
      tenants: [
        {
          name: 't',
          groups: [],
          triggerAuthentications: [{ name: 'op', podIdentity: PodIdentity.aws({ identityOwner: owner }) }],
          workloads: [worker(identity, queueUrl)],
        },
      ],
    });
    assert.deepEqual(kedaAwsAccess(cluster('keda')), {
      sqsQueueArns: ['arn:aws:sqs:us-east-1:123456789012:jobs'],
      assumableRoleArns: [],
    });
    // WHEN the operator-owned trigger reads the queue through a VPC endpoint  THEN the same queue read
    const vpce = 'https://vpce-0a1b2c3d4e5f67890-abcdefgh.sqs.us-east-1.vpce.amazonaws.com/123456789012/jobs';
    assert.deepEqual(kedaAwsAccess(cluster('keda', undefined, vpce)), {
      sqsQueueArns: ['arn:aws:sqs:us-east-1:123456789012:jobs'],
      assumableRoleArns: [],
    });
    assert.throws(
      () => kedaAwsAccess(cluster('workload')),
      /tenants.t.workloads.w.scaling.triggers\[0\].authentication: uses identityOwner "workload" but workload w has no IRSA identity \(got "op"\)/,
    );
  });

  it('maps queue URLs to ARNs per partition', () => {
    assert.equal(
      sqsQueueArnFromUrl('q', 'https://sqs.eu-west-1.amazonaws.com/123456789012/a.fifo'),
      'arn:aws:sqs:eu-west-1:123456789012:a.fifo',
    );
    assert.equal(
      sqsQueueArnFromUrl('q', 'https://sqs.us-gov-west-1.amazonaws.com/123456789012/a'),
      'arn:aws-us-gov:sqs:us-gov-west-1:123456789012:a',
    );
    assert.throws(() => sqsQueueArnFromUrl('q', 'https://example.com/q'), /q: must be an SQS queue URL/);
  });

  it('maps the China, ISO, ISO-B/E/F, FIPS, dual-stack and legacy endpoints to ARNs of their partitions', () => {
    // GIVEN a queue URL of each endpoint form  WHEN mapped  THEN the ARN in the region's partition
    for (const [url, arn] of [
      ['https://sqs.cn-north-1.amazonaws.com.cn/123456789012/a', 'arn:aws-cn:sqs:cn-north-1:123456789012:a'],
      ['https://sqs.us-iso-east-1.c2s.ic.gov/123456789012/a', 'arn:aws-iso:sqs:us-iso-east-1:123456789012:a'],
      [
        'https://sqs.us-isob-east-1.sc2s.sgov.gov/123456789012/a_b-c',
        'arn:aws-iso-b:sqs:us-isob-east-1:123456789012:a_b-c',
      ],
      [
        'https://eu-west-1.queue.amazonaws.com/123456789012/a.fifo',
        'arn:aws:sqs:eu-west-1:123456789012:a.fifo',
      ],
      [
        'https://us-gov-east-1.queue.amazonaws.com/123456789012/a',
        'arn:aws-us-gov:sqs:us-gov-east-1:123456789012:a',
      ],
      // ISO-E, ISO-F and the commercial FIPS, dual-stack and FIPS dual-stack endpoints
      [
        'https://sqs.eu-isoe-west-1.cloud.adc-e.uk/123456789012/a',
        'arn:aws-iso-e:sqs:eu-isoe-west-1:123456789012:a',
      ],
      [
        'https://sqs.us-isof-south-1.csp.hci.ic.gov/123456789012/a',
        'arn:aws-iso-f:sqs:us-isof-south-1:123456789012:a',
      ],
      ['https://sqs-fips.us-east-1.amazonaws.com/123456789012/a', 'arn:aws:sqs:us-east-1:123456789012:a'],
      ['https://sqs.eu-west-1.api.aws/123456789012/a', 'arn:aws:sqs:eu-west-1:123456789012:a'],
      ['https://sqs-fips.us-east-2.api.aws/123456789012/a', 'arn:aws:sqs:us-east-2:123456789012:a'],
      [
        'https://sqs.eusc-de-east-1.amazonaws.eu/123456789012/a',
        'arn:aws-eusc:sqs:eusc-de-east-1:123456789012:a',
      ],
    ]) {
      assert.equal(sqsQueueArnFromUrl('q', url as string), arn);
    }
    // WHEN the domain is not the region's partition's (China's queues are under amazonaws.com.cn)
    // THEN refused rather than mapped to an ARN of the wrong partition
    assert.throws(
      () => sqsQueueArnFromUrl('q', 'https://sqs.cn-north-1.amazonaws.com/123456789012/a'),
      /^PropError: q: must use the SQS domain of region "cn-north-1" \(got "https:\/\/sqs\.cn-north-1\.amazonaws\.com\/123456789012\/a"\)$/,
    );
    // WHEN an ISO-E region's queue is under ISO-F's domain, or a China queue under the commercial
    // dual-stack domain  THEN refused the same way
    for (const [url, region] of [
      ['https://sqs.eu-isoe-west-1.csp.hci.ic.gov/123456789012/a', 'eu-isoe-west-1'],
      ['https://sqs.cn-north-1.api.aws/123456789012/a', 'cn-north-1'],
    ] as const) {
      assert.throws(
        () => sqsQueueArnFromUrl('q', url),
        (e: Error) =>
          e.name === 'PropError' &&
          e.message === `q: must use the SQS domain of region "${region}" (got ${JSON.stringify(url)})`,
      );
    }
    // WHEN a China queue is under its own domain with a FIPS prefix  THEN refused naming the prefix
    assert.throws(
      () => sqsQueueArnFromUrl('q', 'https://sqs-fips.cn-north-1.amazonaws.com.cn/123456789012/a'),
      (e: Error) =>
        e.name === 'PropError' &&
        e.message ===
          'q: must use an SQS endpoint of region "cn-north-1": the domain is right but the prefix "sqs-fips" ' +
            "is not one of partition aws-cn's (sqs.cn-north-1.amazonaws.com.cn) " +
            '(got "https://sqs-fips.cn-north-1.amazonaws.com.cn/123456789012/a")',
    );
    assert.throws(
      () => sqsQueueArnFromUrl('q', `https://sqs.us-east-1.amazonaws.com/123456789012/${'a'.repeat(81)}`),
      /q: must be an SQS queue URL/,
    );
  });

  it("maps a queue URL on an SQS VPC endpoint's DNS name to the queue's ARN, refusing a bad path", () => {
    // GIVEN a regional and a zonal VPC endpoint's queue URL  WHEN mapped  THEN the queue's ARN in the
    // region's partition, as for the queue's own endpoint
    const host = 'vpce-0a1b2c3d4e5f67890-abcdefgh.sqs.eu-west-1.vpce.amazonaws.com';
    assert.equal(
      sqsQueueArnFromUrl('q', `https://${host}/123456789012/jobs`),
      'arn:aws:sqs:eu-west-1:123456789012:jobs',
    );
    assert.equal(
      sqsQueueArnFromUrl(
        'q',
        'https://vpce-0a1b2c3d4e5f67890-abcdefgh-us-east-1a.sqs.us-east-1.vpce.amazonaws.com/123456789012/a.fifo',
      ),
      'arn:aws:sqs:us-east-1:123456789012:a.fifo',
    );
    // WHEN the path is not /<12-digit account>/<queue name>  THEN refused, naming the prop and the URL
    for (const path of [
      '/q',
      '/12345/q',
      '/123456789012/q/',
      '/123456789012/a*b',
      '/123456789012/q?x=1',
      '',
    ]) {
      const url = `https://${host}${path}`;
      assert.throws(
        () => sqsQueueArnFromUrl('q', url),
        (e: Error) =>
          e.name === 'PropError' &&
          e.message ===
            'q: must be a queue URL on the VPC endpoint ' +
              `https://vpce-<id>.sqs.<region>.vpce.amazonaws.com/<account>/<queue> (got ${JSON.stringify(url)})`,
      );
    }
    // WHEN the endpoint's region is not a region name, or is outside the commercial partition (whose
    // VPC endpoint domain is the only one confirmed)  THEN refused rather than mapped to a guessed ARN
    for (const [url, reason] of [
      [
        'https://vpce-0a1b2c3d4e5f67890-abcdefgh.sqs.eu-nowhere.vpce.amazonaws.com/123456789012/q',
        `must name an AWS region in the VPC endpoint's host (it names "eu-nowhere")`,
      ],
      [
        'https://vpce-0a1b2c3d4e5f67890-abcdefgh.sqs.cn-north-1.vpce.amazonaws.com/123456789012/q',
        'must be on a VPC endpoint of the commercial partition: region "cn-north-1" is in aws-cn, ' +
          'whose SQS VPC endpoint domain is not confirmed here',
      ],
      [
        'https://vpce-0a1b2c3d4e5f67890-abcdefgh.sqs.us-gov-west-1.vpce.amazonaws.com/123456789012/q',
        'must be on a VPC endpoint of the commercial partition: region "us-gov-west-1" is in aws-us-gov, ' +
          'whose SQS VPC endpoint domain is not confirmed here',
      ],
    ] as const) {
      assert.throws(
        () => sqsQueueArnFromUrl('q', url),
        (e: Error) => e.name === 'PropError' && e.message === `q: ${reason} (got ${JSON.stringify(url)})`,
      );
    }
    // WHEN the VPC endpoint domain is another partition's  THEN not taken as a VPC endpoint at all
    assert.throws(
      () =>
        sqsQueueArnFromUrl(
          'q',
          'https://vpce-0a1b2c3d4e5f67890-abcdefgh.sqs.cn-north-1.vpce.amazonaws.com.cn/123456789012/q',
        ),
      /^PropError: q: must be an SQS queue URL /,
    );
  });
});

describe('role and add-on props', () => {
  it('refuses a cluster name EKS would not take, and a KEDA role that is not an IAM role ARN', () => {
    // GIVEN a scratch stack  WHEN the autoscaler role names a bad cluster  THEN refused by value
    const scratch = new Stack(testApp(), 'ScratchProps', { env: TEST_ENV });
    assert.throws(
      () =>
        new ClusterAutoscalerRole(scratch, 'BadCa', {
          openIdConnectProvider: provider,
          clusterName: 'bad name!',
        }),
      /^PropError: clusterName: must be an EKS cluster name .*\(got "bad name!"\)$/,
    );
    const cluster = eks.Cluster.fromClusterAttributes(scratch, 'Imported', { clusterName: 'prod-use1' });
    assert.throws(
      () => new EksHelmAddons(scratch, 'Addons', { cluster, kedaRoleArn: 'nope' }),
      /^PropError: kedaRoleArn: must be an IAM role ARN .*\(got "nope"\)$/,
    );
  });
});
