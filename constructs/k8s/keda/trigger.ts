import type { Duration } from 'cdk8s';
import type { ScaledResource } from '../scalable-workload.js';
import {
  PropError,
  checkDnsLabel,
  checkInteger,
  checkNonEmpty,
  checkNumber,
  checkOneOf,
} from '../validation.js';
import { AWS_REGION_NAME } from '../aws-regions.js';
import {
  parseSqsEndpoint,
  parseSqsQueueUrl,
  parseSqsVpcEndpointHost,
  parseSqsVpcEndpointQueueUrl,
} from './aws-sqs.js';
import type { ITriggerAuthentication } from './trigger-authentication.js';

/** How the HPA compares a trigger's metric with its target. */
export type MetricTargetType = 'AverageValue' | 'Value';

/** Options every trigger accepts. */
export interface TriggerOptions {
  /**
   * Trigger name, unique within one ScaledObject/ScaledJob. Required to use the trigger's metric in a
   * `scalingModifiers` formula (the formula refers to triggers by name).
   * @default unnamed (KEDA derives a metric name from the trigger type)
   */
  readonly name?: string;
}

/** Options of triggers whose metric feeds the HPA as an external metric. */
export interface MetricTriggerOptions extends TriggerOptions {
  /**
   * `AverageValue`: desired = ceil(metric / target). `Value`: desired = ceil(current × metric / target).
   * @default 'AverageValue'
   */
  readonly metricType?: MetricTargetType;
  /** Serve the HPA's requests from the value read at the last poll instead of querying again. @default false */
  readonly useCachedMetrics?: boolean;
}

/** Options of {@link Trigger.cpu} and {@link Trigger.memory}. */
export interface ResourceTriggerOptions extends TriggerOptions {
  /** Target average utilisation, in percent of the pods' requests (may exceed 100). */
  readonly utilization: number;
  /** Measure one container instead of the whole pod (needs HPA container metrics). @default the whole pod */
  readonly containerName?: string;
}

/** `authModes` of the Prometheus scaler; the credentials themselves come from `authentication`. */
export type PrometheusAuthMode = 'basic' | 'bearer' | 'tls' | 'custom';
const PROMETHEUS_AUTH_MODES: readonly PrometheusAuthMode[] = ['basic', 'bearer', 'tls', 'custom'];

/** Options of {@link Trigger.prometheus}. */
export interface PrometheusTriggerOptions extends MetricTriggerOptions {
  /** Prometheus HTTP API base URL, e.g. `http://prometheus.monitoring:9090` (no credentials in it). */
  readonly serverAddress: string;
  /** PromQL returning a single element. */
  readonly query: string;
  /** Target value per replica (AverageValue) or in total (Value). */
  readonly threshold: number;
  /** Value the query must exceed to wake a workload scaled to zero. @default 0 */
  readonly activationThreshold?: number;
  /** Tenant namespace for multi-tenant Prometheus (Thanos, Cortex). @default none */
  readonly namespace?: string;
  /** Treat an empty result as 0 (`true`) or as an error that triggers fallback (`false`). @default true */
  readonly ignoreNullValues?: boolean;
  /** Skip TLS verification. @default false */
  readonly unsafeSsl?: boolean;
  /** HTTP timeout of this trigger. @default KEDA's global HTTP timeout */
  readonly timeout?: Duration;
  /** Non-credential HTTP headers. Authorization headers are refused: use `authModes` and `authentication`. @default {} */
  readonly customHeaders?: Readonly<Record<string, string>>;
  /** Extra query parameters. @default {} */
  readonly queryParameters?: Readonly<Record<string, string>>;
  /** Which credentials `authentication` supplies. @default none (or the pod identity of `authentication`) */
  readonly authModes?: readonly PrometheusAuthMode[];
  /** Where credentials come from. @default unauthenticated */
  readonly authentication?: ITriggerAuthentication;
}

/** Options of {@link Trigger.rabbitmq}. */
export interface RabbitMqTriggerOptions extends MetricTriggerOptions {
  /** Queue to watch. */
  readonly queueName: string;
  /** `QueueLength`: messages waiting; `MessageRate`: publish rate (needs the HTTP management API). */
  readonly mode: 'QueueLength' | 'MessageRate';
  /** Target messages (or messages/s) per replica. */
  readonly value: number;
  /** Value to exceed to wake from zero. @default 0 */
  readonly activationValue?: number;
  /** Protocol of the host URL. @default 'auto' (from the URL scheme) */
  readonly protocol?: 'auto' | 'amqp' | 'http';
  /** Virtual host, overriding the one in the host URL. @default the host URL's */
  readonly vhostName?: string;
  /** Environment variable of the scale target holding the host URL. @default unset: `authentication` supplies `host` */
  readonly hostFromEnv?: string;
  /** Supplies `host` (and `username`/`password`) from a Secret. @default unset: `hostFromEnv` is required */
  readonly authentication?: ITriggerAuthentication;
}

/** Options of {@link Trigger.awsSqsQueue}. */
export interface AwsSqsQueueTriggerOptions extends MetricTriggerOptions {
  /**
   * Queue URL, `https://sqs.<region>.amazonaws.com/<account>/<queue>`, or the form of another partition or
   * endpoint that `parseSqsQueueUrl` (`aws-sqs.ts`) takes: China (`amazonaws.com.cn`), ISO
   * (`c2s.ic.gov`), ISO-B (`sc2s.sgov.gov`), ISO-E (`cloud.adc-e.uk`), ISO-F (`csp.hci.ic.gov`),
   * European Sovereign Cloud (`amazonaws.eu`), commercial FIPS and dual-stack, legacy
   * (`<region>.queue.amazonaws.com`). Such a URL must be on the SQS domain of `awsRegion`'s partition.
   * A URL on an SQS interface VPC endpoint's own DNS name,
   * `https://vpce-<id>.sqs.<region>.vpce.amazonaws.com/<12-digit account>/<queue>`, must name
   * `awsRegion` and have that path. Another https host (a test endpoint such as localstack's) is taken,
   * as KEDA takes it: its scaler checks no host, only that the path is `/<segment>/<queue>` (checked
   * here too), and reads the queue name from it.
   */
  readonly queueUrl: string;
  /** Region of the queue: an AWS region name of any partition (`AWS_REGION_NAME`). */
  readonly awsRegion: string;
  /** Target messages per replica. */
  readonly queueLength: number;
  /** Messages needed to wake from zero. @default 0 */
  readonly activationQueueLength?: number;
  /** Count in-flight (not visible) messages too. @default true */
  readonly scaleOnInFlight?: boolean;
  /** Count delayed messages too. @default false */
  readonly scaleOnDelayed?: boolean;
  /** A TriggerAuthentication with `PodIdentity.aws()` (IRSA or EKS Pod Identity). */
  readonly authentication: ITriggerAuthentication;
}

/** Options of {@link Trigger.kafka}. */
export interface KafkaTriggerOptions extends MetricTriggerOptions {
  /** Brokers, `host:port` each. */
  readonly bootstrapServers: readonly string[];
  /** Consumer group whose lag is measured. */
  readonly consumerGroup: string;
  /** Topic whose lag is measured. */
  readonly topic: string;
  /** Target total lag per replica. */
  readonly lagThreshold: number;
  /** Lag needed to wake from zero. @default 0 */
  readonly activationLagThreshold?: number;
  /** Where a new consumer group starts. @default 'latest' */
  readonly offsetResetPolicy?: 'latest' | 'earliest';
  /** Allow more replicas than partitions. @default false */
  readonly allowIdleConsumers?: boolean;
  /** Never run more replicas than partitions with lag. @default false */
  readonly limitToPartitionsWithLag?: boolean;
  /** Ignore lag of partitions whose offset did not move since the last poll. @default false */
  readonly excludePersistentLag?: boolean;
  /** Scale to zero for partitions without a valid offset. @default false */
  readonly scaleToZeroOnInvalidOffset?: boolean;
  /** SASL mechanism; credentials come from `authentication`. @default 'none' */
  readonly sasl?: 'none' | 'plaintext' | 'scram_sha256' | 'scram_sha512' | 'gssapi' | 'oauthbearer';
  /** Use TLS. @default false */
  readonly tls?: boolean;
  /** Region of an AWS MSK cluster (MSK IAM auth). @default unset */
  readonly awsRegion?: string;
  /** Supplies SASL/TLS material. @default unauthenticated */
  readonly authentication?: ITriggerAuthentication;
}

/** Options of {@link Trigger.azureServiceBus}. Exactly one of `queueName` or `topicName` is required. */
export interface AzureServiceBusTriggerOptions extends MetricTriggerOptions {
  /** Service Bus namespace name (without `.servicebus.windows.net`). */
  readonly namespace: string;
  /** Queue to watch. @default unset (then `topicName` + `subscriptionName`) */
  readonly queueName?: string;
  /** Topic to watch (with `subscriptionName`). @default unset (then `queueName`) */
  readonly topicName?: string;
  /** Subscription of `topicName`. @default unset */
  readonly subscriptionName?: string;
  /** Target active messages per replica. */
  readonly messageCount: number;
  /** Messages needed to wake from zero. @default 0 */
  readonly activationMessageCount?: number;
  /** A TriggerAuthentication with `PodIdentity.azureWorkload()` or a `connection` Secret reference. */
  readonly authentication: ITriggerAuthentication;
}

/** Options of {@link Trigger.cron}. */
export interface CronTriggerOptions extends TriggerOptions {
  /** IANA time zone, e.g. `Europe/Berlin` or `UTC`. */
  readonly timezone: string;
  /** 5-field cron expression (minute hour day-of-month month day-of-week) opening the window. */
  readonly start: string;
  /** 5-field cron expression closing the window; must differ from `start`. */
  readonly end: string;
  /** Replicas during the window (≥ 1; outside it the ScaledObject's minimum applies). */
  readonly desiredReplicas: number;
}

/** Options of {@link Trigger.external} and {@link Trigger.externalPush}. */
export interface ExternalTriggerOptions extends MetricTriggerOptions {
  /** gRPC address of the external scaler, `host:port`. */
  readonly scalerAddress: string;
  /** Passed to the scaler as `scalerMetadata`. Credential-like keys are refused. @default {} */
  readonly metadata?: Readonly<Record<string, string>>;
  /** TLS material (`caCert`, `tlsClientCert`, `tlsClientKey`) for the gRPC connection. @default plaintext */
  readonly authentication?: ITriggerAuthentication;
  /** Skip TLS verification. @default false */
  readonly unsafeSsl?: boolean;
}

/** JSON of one entry of `spec.triggers`. */
export interface TriggerJson {
  type: string;
  name?: string;
  metricType?: string;
  useCachedMetrics?: boolean;
  metadata: Record<string, string>;
  authenticationRef?: { name: string; kind: 'TriggerAuthentication' | 'ClusterTriggerAuthentication' };
}

interface TriggerSpec {
  readonly type: string;
  readonly metadata: Record<string, string>;
  readonly name?: string;
  readonly metricType?: string;
  readonly useCachedMetrics?: boolean;
  readonly authentication?: ITriggerAuthentication;
  readonly scaledResource?: ScaledResource;
}

/**
 * A KEDA scale trigger. Built only through the typed factories; credentials are never metadata: they
 * come from a {@link ITriggerAuthentication} (rendered as `authenticationRef`).
 */
export class Trigger {
  /** Average CPU utilisation of the pods, in percent of their requests (ScaledObject only). */
  static cpu(options: ResourceTriggerOptions): Trigger {
    return Trigger.resource('cpu', options);
  }

  /** Average memory utilisation of the pods, in percent of their requests (ScaledObject only). */
  static memory(options: ResourceTriggerOptions): Trigger {
    return Trigger.resource('memory', options);
  }

  /** A PromQL query's value. */
  static prometheus(options: PrometheusTriggerOptions): Trigger {
    const p = 'prometheus';
    checkUrl(`${p}.serverAddress`, options.serverAddress, ['http', 'https']);
    if (options.query.trim() === '') throw new PropError(`${p}.query`, options.query, 'must not be empty');
    const metadata: Record<string, string> = {
      serverAddress: options.serverAddress,
      query: options.query,
      threshold: positive(`${p}.threshold`, options.threshold),
    };
    if (options.activationThreshold !== undefined) {
      metadata.activationThreshold = nonNegative(`${p}.activationThreshold`, options.activationThreshold);
    }
    if (options.namespace !== undefined) {
      checkDnsLabel(`${p}.namespace`, options.namespace);
      metadata.namespace = options.namespace;
    }
    if (options.ignoreNullValues !== undefined) metadata.ignoreNullValues = String(options.ignoreNullValues);
    if (options.unsafeSsl !== undefined) metadata.unsafeSsl = String(options.unsafeSsl);
    if (options.timeout !== undefined) {
      const ms = options.timeout.toMilliseconds({ integral: false });
      checkInteger(`${p}.timeout`, ms, 1);
      metadata.timeout = String(ms);
    }
    if (options.customHeaders !== undefined) {
      for (const header of Object.keys(options.customHeaders)) {
        if (CREDENTIAL_HEADER.test(header)) {
          throw new PropError(
            `${p}.customHeaders`,
            header,
            'is a credential header; put it in a Secret and use authModes ["custom"] with authentication',
          );
        }
      }
      metadata.customHeaders = keyValueList(`${p}.customHeaders`, options.customHeaders);
    }
    if (options.queryParameters !== undefined) {
      metadata.queryParameters = keyValueList(`${p}.queryParameters`, options.queryParameters);
    }
    if (options.authModes !== undefined) {
      checkNonEmpty(`${p}.authModes`, options.authModes);
      options.authModes.forEach((m, i) => checkOneOf(`${p}.authModes[${i}]`, m, PROMETHEUS_AUTH_MODES));
      if (options.authentication === undefined) {
        throw new PropError(
          `${p}.authModes`,
          options.authModes,
          'needs authentication to supply the credentials',
        );
      }
      metadata.authModes = [...new Set(options.authModes)].join(',');
    }
    return Trigger.metricTrigger('prometheus', metadata, options, options.authentication);
  }

  /** A RabbitMQ queue's length or publish rate. */
  static rabbitmq(options: RabbitMqTriggerOptions): Trigger {
    const p = 'rabbitmq';
    nonBlank(`${p}.queueName`, options.queueName);
    checkOneOf(`${p}.mode`, options.mode, ['QueueLength', 'MessageRate']);
    if (options.protocol !== undefined)
      checkOneOf(`${p}.protocol`, options.protocol, ['auto', 'amqp', 'http']);
    if (options.hostFromEnv === undefined && options.authentication === undefined) {
      throw new PropError(
        `${p}.authentication`,
        undefined,
        'is required unless hostFromEnv is set (the host URL carries credentials, so it is never inline metadata)',
      );
    }
    if (options.mode === 'MessageRate' && options.protocol === 'amqp') {
      throw new PropError(
        `${p}.protocol`,
        options.protocol,
        'must be "http" or "auto" for mode "MessageRate"',
      );
    }
    const metadata: Record<string, string> = {
      queueName: options.queueName,
      mode: options.mode,
      value: positive(`${p}.value`, options.value),
    };
    if (options.activationValue !== undefined) {
      metadata.activationValue = nonNegative(`${p}.activationValue`, options.activationValue);
    }
    if (options.protocol !== undefined) metadata.protocol = options.protocol;
    if (options.vhostName !== undefined) metadata.vhostName = nonBlank(`${p}.vhostName`, options.vhostName);
    if (options.hostFromEnv !== undefined)
      metadata.hostFromEnv = envName(`${p}.hostFromEnv`, options.hostFromEnv);
    return Trigger.metricTrigger('rabbitmq', metadata, options, options.authentication);
  }

  /** An AWS SQS queue's approximate message count, read with an AWS pod identity. */
  static awsSqsQueue(options: AwsSqsQueueTriggerOptions): Trigger {
    const p = 'awsSqsQueue';
    const url = checkUrl(`${p}.queueUrl`, options.queueUrl, ['https']);
    if (!AWS_REGION_NAME.test(options.awsRegion)) {
      throw new PropError(`${p}.awsRegion`, options.awsRegion, 'must be an AWS region like "eu-west-1"');
    }
    // A URL on an SQS endpoint host is checked as the AWS constructs check one (the shared parser), a
    // URL on an SQS VPC endpoint's own DNS name for its region and path; any other https host (a test
    // endpoint such as localstack's) only by the path KEDA needs (see AwsSqsQueueTriggerOptions.queueUrl).
    if (parseSqsEndpoint(url.host) !== undefined) {
      const queue = parseSqsQueueUrl(options.queueUrl);
      if (!queue) {
        throw new PropError(
          `${p}.queueUrl`,
          options.queueUrl,
          'must be an SQS queue URL like "https://sqs.eu-west-1.amazonaws.com/123456789012/<queue>"',
        );
      }
      if (queue.region !== options.awsRegion) {
        throw new PropError(
          `${p}.awsRegion`,
          options.awsRegion,
          `must match the queue URL's region (${queue.region})`,
        );
      }
      if (queue.hostProblem !== undefined) {
        throw new PropError(`${p}.queueUrl`, options.queueUrl, queue.hostProblem);
      }
    } else if (parseSqsVpcEndpointHost(url.host) !== undefined) {
      // The path must be all of it: a query or a fragment fails it too.
      const vpce = parseSqsVpcEndpointQueueUrl(options.queueUrl);
      if (vpce?.queue === undefined) {
        throw new PropError(
          `${p}.queueUrl`,
          options.queueUrl,
          'must be a queue URL on the VPC endpoint like ' +
            '"https://vpce-<id>.sqs.eu-west-1.vpce.amazonaws.com/123456789012/<queue>"',
        );
      }
      if (vpce.region !== options.awsRegion) {
        throw new PropError(
          `${p}.awsRegion`,
          options.awsRegion,
          `must match the queue URL's region (${vpce.region})`,
        );
      }
      if (vpce.hostProblem !== undefined) {
        throw new PropError(`${p}.queueUrl`, options.queueUrl, vpce.hostProblem);
      }
    } else {
      const segments = url.pathname.split('/');
      if (segments.length !== 3 || segments[2] === '') {
        throw new PropError(
          `${p}.queueUrl`,
          options.queueUrl,
          'must have the path /<account>/<queue>: KEDA takes the queue name from its second segment',
        );
      }
    }
    const provider = options.authentication.podIdentityProvider;
    if (provider !== undefined && provider !== 'aws') {
      throw new PropError(
        `${p}.authentication`,
        options.authentication.name,
        `must use PodIdentity.aws() (it uses "${provider}")`,
      );
    }
    const metadata: Record<string, string> = {
      queueURL: options.queueUrl,
      awsRegion: options.awsRegion,
      queueLength: integer(`${p}.queueLength`, options.queueLength, 1),
    };
    if (options.activationQueueLength !== undefined) {
      metadata.activationQueueLength = integer(
        `${p}.activationQueueLength`,
        options.activationQueueLength,
        0,
      );
    }
    if (options.scaleOnInFlight !== undefined) metadata.scaleOnInFlight = String(options.scaleOnInFlight);
    if (options.scaleOnDelayed !== undefined) metadata.scaleOnDelayed = String(options.scaleOnDelayed);
    return Trigger.metricTrigger('aws-sqs-queue', metadata, options, options.authentication);
  }

  /** Consumer-group lag of a Kafka topic. */
  static kafka(options: KafkaTriggerOptions): Trigger {
    const p = 'kafka';
    checkNonEmpty(`${p}.bootstrapServers`, options.bootstrapServers);
    options.bootstrapServers.forEach((server, i) => {
      if (!HOST_PORT.test(server)) {
        throw new PropError(`${p}.bootstrapServers[${i}]`, server, 'must be "host:port" (no credentials)');
      }
    });
    nonBlank(`${p}.consumerGroup`, options.consumerGroup);
    nonBlank(`${p}.topic`, options.topic);
    if (options.limitToPartitionsWithLag && options.allowIdleConsumers) {
      throw new PropError(
        `${p}.limitToPartitionsWithLag`,
        true,
        'cannot be combined with allowIdleConsumers (KEDA refuses both)',
      );
    }
    if (options.offsetResetPolicy !== undefined) {
      checkOneOf(`${p}.offsetResetPolicy`, options.offsetResetPolicy, ['latest', 'earliest']);
    }
    if (options.sasl !== undefined) {
      checkOneOf(`${p}.sasl`, options.sasl, [
        'none',
        'plaintext',
        'scram_sha256',
        'scram_sha512',
        'gssapi',
        'oauthbearer',
      ]);
    }
    if (options.sasl !== undefined && options.sasl !== 'none' && options.authentication === undefined) {
      throw new PropError(`${p}.sasl`, options.sasl, 'needs authentication to supply the SASL credentials');
    }
    const metadata: Record<string, string> = {
      bootstrapServers: options.bootstrapServers.join(','),
      consumerGroup: options.consumerGroup,
      topic: options.topic,
      lagThreshold: integer(`${p}.lagThreshold`, options.lagThreshold, 1),
    };
    if (options.activationLagThreshold !== undefined) {
      metadata.activationLagThreshold = integer(
        `${p}.activationLagThreshold`,
        options.activationLagThreshold,
        0,
      );
    }
    if (options.offsetResetPolicy !== undefined) metadata.offsetResetPolicy = options.offsetResetPolicy;
    if (options.allowIdleConsumers !== undefined)
      metadata.allowIdleConsumers = String(options.allowIdleConsumers);
    if (options.limitToPartitionsWithLag !== undefined) {
      metadata.limitToPartitionsWithLag = String(options.limitToPartitionsWithLag);
    }
    if (options.excludePersistentLag !== undefined) {
      metadata.excludePersistentLag = String(options.excludePersistentLag);
    }
    if (options.scaleToZeroOnInvalidOffset !== undefined) {
      metadata.scaleToZeroOnInvalidOffset = String(options.scaleToZeroOnInvalidOffset);
    }
    if (options.sasl !== undefined) metadata.sasl = options.sasl;
    if (options.tls !== undefined) metadata.tls = options.tls ? 'enable' : 'disable';
    if (options.awsRegion !== undefined) {
      if (!AWS_REGION_NAME.test(options.awsRegion)) {
        throw new PropError(`${p}.awsRegion`, options.awsRegion, 'must be an AWS region like "eu-west-1"');
      }
      metadata.awsRegion = options.awsRegion;
    }
    return Trigger.metricTrigger('kafka', metadata, options, options.authentication);
  }

  /** Active messages of an Azure Service Bus queue or topic subscription. */
  static azureServiceBus(options: AzureServiceBusTriggerOptions): Trigger {
    const p = 'azureServiceBus';
    if (!SERVICE_BUS_NAMESPACE.test(options.namespace)) {
      throw new PropError(
        `${p}.namespace`,
        options.namespace,
        'must be a Service Bus namespace name (6-50 letters, digits, "-"; no ".servicebus.windows.net")',
      );
    }
    const metadata: Record<string, string> = { namespace: options.namespace };
    if (options.queueName !== undefined) {
      if (options.topicName !== undefined || options.subscriptionName !== undefined) {
        throw new PropError(
          `${p}.topicName`,
          options.topicName ?? options.subscriptionName,
          'must not be set with queueName',
        );
      }
      metadata.queueName = nonBlank(`${p}.queueName`, options.queueName);
    } else if (options.topicName !== undefined) {
      if (options.subscriptionName === undefined) {
        throw new PropError(`${p}.subscriptionName`, undefined, 'is required with topicName');
      }
      metadata.topicName = nonBlank(`${p}.topicName`, options.topicName);
      metadata.subscriptionName = nonBlank(`${p}.subscriptionName`, options.subscriptionName);
    } else {
      throw new PropError(
        `${p}.queueName`,
        undefined,
        'either queueName or topicName + subscriptionName is required',
      );
    }
    metadata.messageCount = integer(`${p}.messageCount`, options.messageCount, 1);
    if (options.activationMessageCount !== undefined) {
      metadata.activationMessageCount = integer(
        `${p}.activationMessageCount`,
        options.activationMessageCount,
        0,
      );
    }
    return Trigger.metricTrigger('azure-servicebus', metadata, options, options.authentication);
  }

  /** A fixed replica count inside a recurring time window. */
  static cron(options: CronTriggerOptions): Trigger {
    const p = 'cron';
    checkTimezone(`${p}.timezone`, options.timezone);
    checkCron(`${p}.start`, options.start);
    checkCron(`${p}.end`, options.end);
    if (options.start.trim() === options.end.trim()) {
      throw new PropError(`${p}.end`, options.end, 'must differ from start (KEDA refuses an empty window)');
    }
    const metadata: Record<string, string> = {
      timezone: options.timezone,
      start: options.start.trim(),
      end: options.end.trim(),
      desiredReplicas: integer(`${p}.desiredReplicas`, options.desiredReplicas, 1),
    };
    return new Trigger({ type: 'cron', metadata, name: triggerName(p, options.name) });
  }

  /** An external gRPC scaler that KEDA polls (ElasticAI's decision runtime). */
  static external(options: ExternalTriggerOptions): Trigger {
    return Trigger.externalTrigger('external', options);
  }

  /**
   * An external gRPC scaler that also streams activity (`StreamIsActive`), so KEDA wakes a workload from
   * zero as soon as the scaler says so, without waiting for the next poll.
   */
  static externalPush(options: ExternalTriggerOptions): Trigger {
    return Trigger.externalTrigger('external-push', options);
  }

  private static resource(type: ScaledResource, options: ResourceTriggerOptions): Trigger {
    checkInteger(`${type}.utilization`, options.utilization, 1, 1000);
    const metadata: Record<string, string> = { value: String(options.utilization) };
    if (options.containerName !== undefined) {
      checkDnsLabel(`${type}.containerName`, options.containerName);
      metadata.containerName = options.containerName;
    }
    return new Trigger({
      type,
      metadata,
      name: triggerName(type, options.name),
      metricType: 'Utilization',
      scaledResource: type,
    });
  }

  private static externalTrigger(
    type: 'external' | 'external-push',
    options: ExternalTriggerOptions,
  ): Trigger {
    const p = type === 'external' ? 'external' : 'externalPush';
    if (!HOST_PORT.test(options.scalerAddress)) {
      throw new PropError(`${p}.scalerAddress`, options.scalerAddress, 'must be "host:port"');
    }
    const user = options.metadata ?? {};
    for (const key of Object.keys(user)) {
      if (key === 'scalerAddress' || key === 'unsafeSsl') {
        throw new PropError(`${p}.metadata`, key, `is reserved; use the ${key} option`);
      }
      if (!METADATA_KEY.test(key))
        throw new PropError(`${p}.metadata`, key, 'must be a metadata key (letters, digits, "_", "-", ".")');
    }
    checkNoInlineCredentials(`${p}.metadata`, user);
    const metadata: Record<string, string> = { scalerAddress: options.scalerAddress, ...user };
    if (options.unsafeSsl !== undefined) metadata.unsafeSsl = String(options.unsafeSsl);
    return Trigger.metricTrigger(type, metadata, options, options.authentication);
  }

  private static metricTrigger(
    type: string,
    metadata: Record<string, string>,
    options: MetricTriggerOptions,
    authentication: ITriggerAuthentication | undefined,
  ): Trigger {
    const prop = FACTORY_NAME[type] ?? type;
    if (
      options.metricType !== undefined &&
      options.metricType !== 'AverageValue' &&
      options.metricType !== 'Value'
    ) {
      throw new PropError(`${prop}.metricType`, options.metricType, 'must be "AverageValue" or "Value"');
    }
    for (const [key, value] of Object.entries(metadata)) checkNoCredentialUrl(`${prop}.${key}`, value);
    return new Trigger({
      type,
      metadata,
      name: triggerName(prop, options.name),
      metricType: options.metricType,
      useCachedMetrics: options.useCachedMetrics,
      authentication,
    });
  }

  /** KEDA trigger type, e.g. `prometheus`, `external-push`. */
  readonly type: string;
  /** Trigger name, if given. */
  readonly name?: string;
  /** Metric type, if set (`Utilization` for cpu/memory). */
  readonly metricType?: string;
  /** The resource a cpu/memory trigger scales on; undefined for every other trigger. */
  readonly scaledResource?: ScaledResource;
  /** The authentication object the trigger references, if any. */
  readonly authentication?: ITriggerAuthentication;
  /** Trigger metadata as KEDA receives it (all strings). */
  readonly metadata: Readonly<Record<string, string>>;
  private readonly useCachedMetrics?: boolean;

  private constructor(spec: TriggerSpec) {
    this.type = spec.type;
    this.name = spec.name;
    this.metricType = spec.metricType;
    this.scaledResource = spec.scaledResource;
    this.authentication = spec.authentication;
    this.metadata = Object.freeze({ ...spec.metadata });
    this.useCachedMetrics = spec.useCachedMetrics;
  }

  /** @internal JSON of this trigger as one entry of `spec.triggers`. */
  render(): TriggerJson {
    const json: TriggerJson = {
      type: this.type,
      ...(this.name !== undefined ? { name: this.name } : {}),
      ...(this.metricType !== undefined ? { metricType: this.metricType } : {}),
      ...(this.useCachedMetrics !== undefined ? { useCachedMetrics: this.useCachedMetrics } : {}),
      metadata: { ...this.metadata },
    };
    if (this.authentication) {
      checkOneOf('authentication.kind', this.authentication.kind, [
        'TriggerAuthentication',
        'ClusterTriggerAuthentication',
      ]);
      json.authenticationRef = { name: this.authentication.name, kind: this.authentication.kind };
    }
    return json;
  }
}

/**
 * Validates a trigger list of one ScaledObject/ScaledJob and renders it: non-empty, unique names,
 * TriggerAuthentications in the same namespace.
 */
export function renderTriggers(prop: string, triggers: readonly Trigger[], namespace: string): TriggerJson[] {
  checkNonEmpty(prop, triggers);
  const names = new Set<string>();
  return triggers.map((trigger, i) => {
    if (trigger.name !== undefined) {
      if (names.has(trigger.name)) {
        throw new PropError(`${prop}[${i}].name`, trigger.name, 'must be unique among the triggers');
      }
      names.add(trigger.name);
    }
    const auth = trigger.authentication;
    if (auth && auth.kind === 'TriggerAuthentication' && auth.namespace !== namespace) {
      throw new PropError(
        `${prop}[${i}].authentication`,
        auth.name,
        `is in namespace "${auth.namespace}"; a TriggerAuthentication must be in the same namespace ("${namespace}")`,
      );
    }
    return trigger.render();
  });
}

// ---- validation helpers -------------------------------------------------------------------------

/** Factory name of each trigger type, used as the prop prefix in error messages. */
const FACTORY_NAME: Readonly<Record<string, string>> = {
  'aws-sqs-queue': 'awsSqsQueue',
  'azure-servicebus': 'azureServiceBus',
  'external-push': 'externalPush',
};

const HOST_PORT = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:\d{1,5}$/;
const SERVICE_BUS_NAMESPACE = /^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]$/;
const METADATA_KEY = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TRIGGER_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;
const CREDENTIAL_HEADER = /^(authorization|proxy-authorization|cookie)$|token|api[-_]?key|secret|password/i;

/**
 * Metadata keys KEDA scalers read as inline credentials (or private key material). Keys ending in
 * `FromEnv` name an environment variable instead and are allowed.
 */
const CREDENTIAL_KEY =
  /password|passwd|secret|token|api[-_]?key|accesskey|connection|credential|private[-_]?key|clientkey|bearer|sharedaccess|^key$|^auth$/i;

/** Refuses metadata entries that would put a credential in the manifest. */
export function checkNoInlineCredentials(prop: string, metadata: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(metadata)) {
    if (!key.endsWith('FromEnv') && CREDENTIAL_KEY.test(key)) {
      throw new PropError(
        prop,
        key,
        'is a credential parameter and must not be inline metadata; supply it through authentication ' +
          '(a TriggerAuthentication referencing a Secret, or a pod identity)',
      );
    }
    checkNoCredentialUrl(`${prop}.${key}`, value);
  }
}

function checkNoCredentialUrl(prop: string, value: string): void {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/i.exec(value);
  if (match) {
    throw new PropError(
      prop,
      `${match[1]}***@${value.slice(match[0].length)}`,
      'must not embed credentials in a URL; supply them through authentication',
    );
  }
}

function checkUrl(prop: string, value: string, schemes: readonly string[]): URL {
  checkNoCredentialUrl(prop, value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new PropError(prop, value, `must be a ${schemes.join(' or ')} URL`);
  }
  if (!schemes.includes(url.protocol.slice(0, -1))) {
    throw new PropError(prop, value, `must be a ${schemes.join(' or ')} URL`);
  }
  return url;
}

/** Checks an optional trigger name; errors name `${prop}.name`. */
export function triggerName(prop: string, name: string | undefined): string | undefined {
  if (name !== undefined && !TRIGGER_NAME.test(name)) {
    throw new PropError(
      `${prop}.name`,
      name,
      'must start with a letter or "_" and contain only letters, digits, "_" and "-" (at most 63)',
    );
  }
  return name;
}

function nonBlank(prop: string, value: string): string {
  if (value.trim() === '') throw new PropError(prop, value, 'must not be empty');
  return value;
}

function envName(prop: string, value: string): string {
  if (!ENV_NAME.test(value)) throw new PropError(prop, value, 'must be an environment variable name');
  return value;
}

function positive(prop: string, value: number): string {
  checkNumber(prop, value, 0);
  if (value <= 0) throw new PropError(prop, value, 'must be > 0');
  return String(value);
}

function nonNegative(prop: string, value: number): string {
  checkNumber(prop, value, 0);
  return String(value);
}

function integer(prop: string, value: number, min: number): string {
  checkInteger(prop, value, min);
  return String(value);
}

function keyValueList(prop: string, entries: Readonly<Record<string, string>>): string {
  return Object.entries(entries)
    .map(([key, value]) => {
      if (!/^[A-Za-z0-9_.-]+$/.test(key))
        throw new PropError(prop, key, 'keys must be letters, digits, "_", "-", "."');
      if (/[,=]/.test(value)) throw new PropError(`${prop}.${key}`, value, 'must not contain "," or "="');
      return `${key}=${value}`;
    })
    .join(',');
}

/** Throws unless `timezone` is an IANA zone name the runtime knows (e.g. `Europe/Berlin`, `UTC`). */
export function checkTimezone(prop: string, timezone: string): void {
  const looksIana = timezone === 'UTC' || /^[A-Z][A-Za-z_+-]*(\/[A-Za-z0-9_+-]+)+$/.test(timezone);
  let known = false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    known = true;
  } catch {
    known = false;
  }
  if (!looksIana || !known) {
    throw new PropError(prop, timezone, 'must be an IANA time zone such as "Europe/Berlin" or "UTC"');
  }
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const CRON_FIELDS: readonly { name: string; min: number; max: number; names?: readonly string[] }[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 0, max: 7, names: DAYS },
];

/**
 * Throws unless `expression` is a standard 5-field cron expression (minute hour day-of-month month
 * day-of-week) with `*`, `?` (day fields), lists, ranges, steps and JAN-DEC / SUN-SAT names.
 */
export function checkCron(prop: string, expression: string): void {
  const fields = expression.trim().split(/\s+/);
  const fail = (why: string): never => {
    throw new PropError(
      prop,
      expression,
      `must be a 5-field cron expression (minute hour day-of-month month day-of-week): ${why}`,
    );
  };
  if (fields.length !== 5 || fields[0] === '') fail(`has ${fields[0] === '' ? 0 : fields.length} fields`);
  fields.forEach((field, i) => {
    const spec = CRON_FIELDS[i] as (typeof CRON_FIELDS)[number];
    const value = (token: string): number => {
      const named = spec.names?.indexOf(token.toUpperCase()) ?? -1;
      if (named >= 0) return spec.name === 'month' ? named + 1 : named;
      if (!/^\d+$/.test(token)) fail(`${spec.name} "${field}" has an invalid value "${token}"`);
      const n = Number(token);
      if (n < spec.min || n > spec.max) fail(`${spec.name} "${field}" is outside ${spec.min}-${spec.max}`);
      return n;
    };
    for (const part of field.split(',')) {
      const [range, step, extra] = part.split('/');
      if (extra !== undefined || range === undefined || range === '')
        fail(`${spec.name} "${field}" is malformed`);
      if (step !== undefined && !(/^\d+$/.test(step) && Number(step) >= 1)) {
        fail(`${spec.name} "${field}" has an invalid step "${step}"`);
      }
      if (range === '*' || (range === '?' && (spec.name === 'day-of-month' || spec.name === 'day-of-week')))
        continue;
      const bounds = (range as string).split('-');
      if (bounds.length > 2) fail(`${spec.name} "${field}" is malformed`);
      const low = value(bounds[0] as string);
      if (bounds.length === 2) {
        const high = value(bounds[1] as string);
        if (high < low) fail(`${spec.name} "${field}" has a descending range`);
      }
    }
  });
}
