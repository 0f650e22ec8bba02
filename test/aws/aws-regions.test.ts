// AWS region names and their partitions (constructs/k8s/aws-regions.ts) against aws-cdk-lib's own
// region table, which agrees with the AWS SDK's partitions: every region it knows is a region name
// here, in the same partition, and its SQS queues parse on that partition's DNS suffix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { awsWorkloadRoleArn } from '../../constructs/aws/workload-role-names.js';
import { AWS_PARTITIONS, AWS_REGION_NAME, awsPartitionOf } from '../../constructs/k8s/aws-regions.js';
import { parseSqsQueueArn, parseSqsQueueUrl } from '../../constructs/k8s/keda/aws-sqs.js';

describe('AWS regions and partitions', () => {
  it("knows every region of aws-cdk-lib's region table, in the partition the table gives", () => {
    // GIVEN every region aws-cdk-lib knows, with its partition and DNS suffix
    const regions = RegionInfo.regions;
    assert.ok(regions.some((r) => r.name === 'eusc-de-east-1'));
    for (const r of regions) {
      // THEN it is a region name, of that partition, and one the IAM role-ARN rule takes
      assert.ok(AWS_REGION_NAME.test(r.name), r.name);
      assert.equal(awsPartitionOf(r.name), r.partition, r.name);
      assert.ok(AWS_PARTITIONS.includes(r.partition as string), r.partition);
      // AND its queue URL on the partition's DNS suffix parses, in that partition, with its ARN
      const url = `https://sqs.${r.name}.${r.domainSuffix}/123456789012/q`;
      const queue = parseSqsQueueUrl(url);
      assert.ok(queue, url);
      assert.equal(queue.hostProblem, undefined, url);
      assert.equal(queue.partition, r.partition, url);
      const arn = `arn:${r.partition}:sqs:${r.name}:123456789012:q`;
      assert.deepEqual(parseSqsQueueArn(arn), {
        partition: r.partition,
        region: r.name,
        account: '123456789012',
        name: 'q',
      });
    }
  });

  it('maps the European Sovereign Cloud region to aws-eusc, and its queues to amazonaws.eu', () => {
    // GIVEN the European Sovereign Cloud's region (partition aws-eusc, DNS suffix amazonaws.eu)
    // THEN it is a region name of partition aws-eusc
    assert.ok(AWS_REGION_NAME.test('eusc-de-east-1'));
    assert.equal(awsPartitionOf('eusc-de-east-1'), 'aws-eusc');
    // AND the GitOps role ARN of a cluster there names that partition
    assert.equal(
      awsWorkloadRoleArn('123456789012', 'eusc-de-east-1', 'c1', 'keda-operator'),
      'arn:aws-eusc:iam::123456789012:role/elasticai-c1-keda-operator',
    );
    // AND its queue URL parses only on amazonaws.eu, not under the commercial domain
    const url = 'https://sqs.eusc-de-east-1.amazonaws.eu/123456789012/q';
    assert.equal(parseSqsQueueUrl(url)?.partition, 'aws-eusc');
    assert.equal(parseSqsQueueUrl(url)?.hostProblem, undefined);
    assert.equal(
      parseSqsQueueUrl('https://sqs.eusc-de-east-1.amazonaws.com/123456789012/q')?.hostProblem,
      'must use the SQS domain of region "eusc-de-east-1"',
    );
    assert.equal(
      parseSqsQueueUrl('https://sqs.eu-central-1.amazonaws.eu/123456789012/q')?.hostProblem,
      'must use the SQS domain of region "eu-central-1"',
    );
    // AND an SQS ARN takes the partition only with a region of it
    assert.equal(parseSqsQueueArn('arn:aws-eusc:sqs:eusc-de-east-1:123456789012:q')?.partition, 'aws-eusc');
    assert.equal(parseSqsQueueArn('arn:aws:sqs:eusc-de-east-1:123456789012:q'), undefined);
    assert.equal(parseSqsQueueArn('arn:aws-eusc:sqs:eu-central-1:123456789012:q'), undefined);
  });

  it('refuses names that mix one partition\'s infix with another\'s prefix, which the SDK would put in "aws"', () => {
    // GIVEN names shaped like GovCloud, ISO or EUSC regions whose prefix is not that partition's
    for (const name of [
      'eu-gov-west-1',
      'eu-iso-west-1',
      'ap-isob-east-1',
      'us-isoe-west-1',
      'eusc-fr-east-1',
      'cn-gov-north-1',
    ]) {
      // THEN none is a region name, and the GitOps role ARN refuses it naming the field
      assert.equal(AWS_REGION_NAME.test(name), false, name);
      assert.throws(
        () => awsWorkloadRoleArn('123456789012', name, 'c1', 'keda-operator'),
        (e: Error) =>
          e.name === 'PropError' && e.message === `region: must be an AWS region name (got "${name}")`,
      );
    }
    // AND the commercial, China and two-digit forms are still region names
    for (const name of ['us-east-1', 'mx-central-1', 'cn-northwest-1', 'ap-southeast-12']) {
      assert.ok(AWS_REGION_NAME.test(name), name);
    }
  });
});
