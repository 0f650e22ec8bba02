import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SpotInterruptionQueue } from '../../constructs/aws/spot-interruption-queue.js';
import { testApp, TEST_ENV, type Json } from './support.js';

// GIVEN the interruption queue of one cluster, synthesized once
const stack = new Stack(testApp(), 'Test', { env: TEST_ENV });
const interruption = new SpotInterruptionQueue(stack, 'Interruption', { namePrefix: 'prod-use1' });
const template = Template.fromStack(stack);
const queueId = stack.getLogicalId(interruption.queue.node.defaultChild as never);
const dlqId = stack.getLogicalId(interruption.deadLetterQueue.node.defaultChild as never);
const rules = Object.values(template.findResources('AWS::Events::Rule')).map((r: Json) => r.Properties);

describe('SpotInterruptionQueue', () => {
  it('has one rule per event, with source and detail-type spelled exactly as AWS emits them', () => {
    const patterns = rules
      .map((r: Json) => r.EventPattern)
      .sort((a: Json, b: Json) => a['detail-type'][0].localeCompare(b['detail-type'][0]));
    assert.deepEqual(patterns, [
      {
        source: ['aws.health'],
        'detail-type': ['AWS Health Event'],
        detail: { service: ['EC2'], eventTypeCategory: ['scheduledChange'] },
      },
      { source: ['aws.ec2'], 'detail-type': ['EC2 Instance Rebalance Recommendation'] },
      { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] },
      { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] },
    ]);
  });

  it('sends every rule to the queue', () => {
    for (const r of rules) {
      assert.equal(r.State, 'ENABLED');
      assert.deepEqual(
        r.Targets.map((t: Json) => t.Arn),
        [{ 'Fn::GetAtt': [queueId, 'Arn'] }],
      );
      assert.match(r.Name, /^prod-use1-/);
    }
  });

  it('encrypts both queues, keeps notices 5 minutes and dead-letters poison messages', () => {
    const queues = template.findResources('AWS::SQS::Queue') as Record<string, Json>;
    const q = queues[queueId].Properties;
    assert.equal(q.SqsManagedSseEnabled, true);
    assert.equal(q.MessageRetentionPeriod, 300);
    assert.deepEqual(q.RedrivePolicy, {
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: 5,
    });
    assert.equal(queues[dlqId].Properties.SqsManagedSseEnabled, true);
  });

  it('denies non-TLS access and lets only these EventBridge rules send', () => {
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')) as Json[];
    const main = policies.find((p) => p.Properties.Queues.some((q: Json) => q.Ref === queueId));
    const statements: Json[] = main.Properties.PolicyDocument.Statement;
    const deny = statements.find((s) => s.Effect === 'Deny');
    assert.deepEqual(deny.Condition, { Bool: { 'aws:SecureTransport': 'false' } });
    assert.equal(deny.Principal.AWS, '*');
    const allows = statements.filter((s) => s.Effect === 'Allow');
    assert.equal(allows.length, 4);
    for (const s of allows) {
      assert.deepEqual(s.Principal, { Service: 'events.amazonaws.com' });
      assert.ok(s.Condition.ArnEquals['aws:SourceArn'], 'scoped to one rule');
    }
    const dlqPolicy = policies.find((p) => p.Properties.Queues.some((q: Json) => q.Ref === dlqId));
    assert.ok(dlqPolicy.Properties.PolicyDocument.Statement.some((s: Json) => s.Effect === 'Deny'));
  });
});
