import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PropError } from '../k8s/validation.js';

/** One EventBridge pattern the termination handler consumes, spelled exactly as AWS emits it. */
export interface InterruptionEvent {
  /** Construct id of the rule. */
  readonly id: string;
  readonly source: string;
  readonly detailType: string;
  /** Extra `detail` filter. @default none */
  readonly detail?: Record<string, unknown>;
}

/**
 * The events AWS Node Termination Handler handles in queue mode (its README, "Queue Processor":
 * the EventBridge rules to create). ASG termination lifecycle actions reach the queue directly from
 * the groups' lifecycle hooks instead of through a rule.
 */
export const INTERRUPTION_EVENTS: readonly InterruptionEvent[] = [
  { id: 'SpotInterruption', source: 'aws.ec2', detailType: 'EC2 Spot Instance Interruption Warning' },
  { id: 'Rebalance', source: 'aws.ec2', detailType: 'EC2 Instance Rebalance Recommendation' },
  { id: 'StateChange', source: 'aws.ec2', detailType: 'EC2 Instance State-change Notification' },
  {
    id: 'ScheduledChange',
    source: 'aws.health',
    detailType: 'AWS Health Event',
    detail: { service: ['EC2'], eventTypeCategory: ['scheduledChange'] },
  },
];

/** EventBridge rule names: 1-64 letters, digits, ".", "-" and "_". */
const MAX_RULE_NAME = 64;
/**
 * Longest `namePrefix`: rules are named `<prefix>-<event id>`, and the longest id
 * (`SpotInterruption`) must still fit EventBridge's 64 characters, so every rule keeps a distinct name.
 */
export const MAX_RULE_NAME_PREFIX =
  MAX_RULE_NAME - 1 - Math.max(...INTERRUPTION_EVENTS.map((e) => e.id.length));

/** Props for a {@link SpotInterruptionQueue}. */
export interface SpotInterruptionQueueProps {
  /**
   * Prefix of the rule names (e.g. the cluster name): 1 to {@link MAX_RULE_NAME_PREFIX} (47) letters,
   * digits, ".", "-" and "_".
   */
  readonly namePrefix: string;
}

/**
 * The SQS queue AWS Node Termination Handler reads in queue mode, and the EventBridge rules that feed
 * it: spot interruption warnings, rebalance recommendations, instance state changes and AWS Health
 * scheduled changes for EC2. The queue is encrypted (SQS-managed SSE, which EventBridge can write to
 * without a key policy), refuses non-TLS requests, keeps messages 5 minutes (a stale interruption
 * notice is useless) and moves messages that fail five receives to a dead-letter queue.
 */
export class SpotInterruptionQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly rules: readonly events.Rule[];

  constructor(scope: Construct, id: string, props: SpotInterruptionQueueProps) {
    super(scope, id);
    if (
      typeof props.namePrefix !== 'string' ||
      props.namePrefix.length > MAX_RULE_NAME_PREFIX ||
      !/^[A-Za-z0-9._-]+$/.test(props.namePrefix)
    ) {
      throw new PropError(
        'namePrefix',
        props.namePrefix,
        `must be 1-${MAX_RULE_NAME_PREFIX} letters, digits, ".", "-" or "_" (rule names "<prefix>-<event>" must stay distinct within EventBridge's ${MAX_RULE_NAME} characters)`,
      );
    }
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.minutes(5),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.rules = INTERRUPTION_EVENTS.map(
      (e) =>
        new events.Rule(this, e.id, {
          ruleName: `${props.namePrefix}-${e.id}`,
          description: `${e.detailType} -> node termination handler queue`,
          eventPattern: {
            source: [e.source],
            detailType: [e.detailType],
            ...(e.detail ? { detail: e.detail } : {}),
          },
          targets: [new targets.SqsQueue(this.queue)],
        }),
    );
  }
}
