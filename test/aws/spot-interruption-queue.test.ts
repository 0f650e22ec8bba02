import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MAX_RULE_NAME_PREFIX, SpotInterruptionQueue } from '../../constructs/aws/spot-interruption-queue.js';
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

  it('names each rule <prefix>-<event>, and refuses a prefix that would make names collide or invalid', () => {
    assert.deepEqual(rules.map((r: Json) => r.Name).sort(), [
      'prod-use1-Rebalance',
      'prod-use1-ScheduledChange',
      'prod-use1-SpotInterruption',
      'prod-use1-StateChange',
    ]);
    // GIVEN the longest prefix taken  THEN four distinct names of at most 64 characters
    const scratch = new Stack(testApp(), 'Scratch', { env: TEST_ENV });
    const longest = new SpotInterruptionQueue(scratch, 'Longest', {
      namePrefix: 'x'.repeat(MAX_RULE_NAME_PREFIX),
    });
    const names = longest.rules.map((r) => (r.node.defaultChild as Json).name as string);
    assert.equal(new Set(names).size, 4);
    assert.ok(names.every((n) => n.length <= 64));
    // a 64-character prefix made all four names the same 64 characters; an empty one is no prefix
    for (const bad of ['x'.repeat(MAX_RULE_NAME_PREFIX + 1), '', 'a b/c']) {
      assert.throws(
        () => new SpotInterruptionQueue(scratch, `Q${bad.length}${bad.charCodeAt(1)}`, { namePrefix: bad }),
        new RegExp(
          `^PropError: namePrefix: must be 1-${MAX_RULE_NAME_PREFIX} letters, digits, .* \\(got "${bad.replace('/', '\\/')}"\\)$`,
        ),
      );
    }
  });
});
