// One IAM role-ARN rule for every construct that takes a role ARN: IAM's own limits (role name 1-64 of
// [\w+=,.@-], role path "/" or "/.../" of printable ASCII up to 512 characters, the eight partitions).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkIamRoleArn } from '../../constructs/k8s/aws-arns.js';
import { GitOpsAddons, GitOpsEngine, KedaPodIdentity } from '../../constructs/k8s/gitops-addons.js';
import { PodIdentity } from '../../constructs/k8s/keda/trigger-authentication.js';
import { WorkloadIdentity } from '../../constructs/k8s/workload-identity.js';
import { testChart } from '../support/chart.js';

const NAME_64 = 'r'.repeat(64);
const NAME_65 = 'r'.repeat(65);
/** A role path of exactly 512 characters, slashes included: "/" + 510 + "/". */
const PATH_512 = `/${'p'.repeat(510)}/`;

/** Role ARNs IAM accepts, each one of them within a limit. */
const GOOD = [
  'arn:aws:iam::123456789012:role/worker',
  `arn:aws:iam::123456789012:role/${NAME_64}`,
  'arn:aws:iam::123456789012:role/a+b=c,d.e@f_g-h',
  'arn:aws:iam::123456789012:role/ops/platform-admin',
  'arn:aws:iam::123456789012:role/team/a!b~c/x(y)/worker',
  `arn:aws:iam::123456789012:role${PATH_512}worker`,
  'arn:aws-cn:iam::123456789012:role/worker',
  'arn:aws-us-gov:iam::123456789012:role/worker',
  'arn:aws-iso:iam::123456789012:role/worker',
  'arn:aws-iso-b:iam::123456789012:role/worker',
  'arn:aws-iso-e:iam::123456789012:role/worker',
  'arn:aws-iso-f:iam::123456789012:role/worker',
  'arn:aws-eusc:iam::123456789012:role/worker',
];

/** Role ARNs IAM refuses, with the reason the checker gives. */
const BAD: [string, RegExp][] = [
  ['worker', /^must be an IAM role ARN like "arn:aws:iam::123456789012:role\/<name>"$/],
  ['arn:aws:iam::123456789012:user/alice', /^must be an IAM role ARN like /],
  ['arn:aws:iam:us-east-1:123456789012:role/worker', /^must be an IAM role ARN like /],
  [`arn:aws:iam::123456789012:role/${NAME_65}`, /: its role name is 65 characters long \(1-64\)$/],
  ['arn:aws:iam::123456789012:role/ops/', /: its role name is 0 characters long \(1-64\)$/],
  ['arn:aws:iam::123456789012:role/my role', /: its role name "my role" has characters other than/],
  [
    'arn:aws:iam::123456789012:role/my team/worker',
    /: its role path "\/my team\/" is not "\/" or "\/<path>\/"/,
  ],
  ['arn:aws:iam::123456789012:role//worker', /: its role path "\/\/" is not /],
  [
    `arn:aws:iam::123456789012:role${PATH_512}p/worker`,
    /: its role path is 514 characters long \(at most 512\)$/,
  ],
  ['arn:aws-foo:iam::123456789012:role/worker', /: its partition "aws-foo" is not one of aws, aws-cn, /],
  ['arn:aws-iso-x:iam::123456789012:role/worker', /: its partition "aws-iso-x" is not one of /],
  ['arn:aws:iam::12345678901:role/worker', /: its account "12345678901" is not 12 digits$/],
];

describe('checkIamRoleArn', () => {
  it('takes role ARNs of every partition, with and without a path, up to IAM limits', () => {
    for (const arn of GOOD) checkIamRoleArn('roleArn', arn);
  });

  it('refuses anything else, naming the prop, what is wrong and the value', () => {
    for (const [arn, reason] of BAD) {
      assert.throws(
        () => checkIamRoleArn('roleArn', arn),
        (e: Error) =>
          e.name === 'PropError' &&
          e.message.startsWith('roleArn: must be an IAM role ARN') &&
          e.message.endsWith(` (got ${JSON.stringify(arn)})`) &&
          reason.test(e.message.slice('roleArn: '.length, -` (got ${JSON.stringify(arn)})`.length)),
        arn,
      );
    }
  });
});

describe('the cloud-neutral constructs take role ARNs by that one rule', () => {
  // GIVEN each construct entry point that takes a role ARN, with the prop it names
  const entryPoints: [string, (arn: string) => unknown][] = [
    ['identity.roleArn', (arn) => WorkloadIdentity.awsIrsa(arn)],
    ['podIdentity.roleArn', (arn) => PodIdentity.aws({ roleArn: arn })],
    [
      'keda.podIdentity.roleArn',
      (arn) =>
        new GitOpsAddons(testChart(), 'addons', {
          engine: GitOpsEngine.flux(),
          keda: { podIdentity: KedaPodIdentity.awsIrsa(arn) },
        }),
    ],
  ];

  for (const [prop, build] of entryPoints) {
    it(`${prop}: a 65-character role name, a path with a space and an unknown partition are refused`, () => {
      // WHEN the role name is one character over IAM's 64, the path has a space, or the partition
      // is none of AWS's  THEN refused, naming the prop and the value (all three passed before)
      for (const arn of [
        `arn:aws:iam::123456789012:role/${NAME_65}`,
        'arn:aws:iam::123456789012:role/my team/worker',
        'arn:aws-foo:iam::123456789012:role/worker',
      ]) {
        assert.throws(
          () => build(arn),
          (e: Error) =>
            e.name === 'PropError' &&
            e.message.startsWith(`${prop}: must be an IAM role ARN: its `) &&
            e.message.endsWith(`(got ${JSON.stringify(arn)})`),
          arn,
        );
      }
    });

    it(`${prop}: a path of printable ASCII and an ISO-F or EUSC role are taken`, () => {
      // WHEN the path has characters IAM allows beyond [\w+=,.@-] (refused before)  THEN taken
      for (const arn of [
        'arn:aws:iam::123456789012:role/team/a!b~c/worker',
        'arn:aws-iso-f:iam::123456789012:role/worker',
        'arn:aws-eusc:iam::123456789012:role/worker',
      ]) {
        build(arn);
      }
    });
  }
});
