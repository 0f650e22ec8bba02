import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration } from 'cdk8s';
import { ScaledObject } from '../../constructs/k8s/keda/scaled-object.js';
import { Trigger, checkCron } from '../../constructs/k8s/keda/trigger.js';
import {
  ClusterTriggerAuthentication,
  PodIdentity,
  TriggerAuthentication,
} from '../../constructs/k8s/keda/trigger-authentication.js';
import type { ClusterChart } from '../../constructs/k8s/cluster-info.js';
import { only, synth, testChart, type Json } from '../support/chart.js';
import { validateAll, type KubeObject } from '../support/validate.js';

/** Synthesizes a ScaledObject in namespace `shop` with the given triggers; returns all objects. */
function synthTriggers(build: (chart: ClusterChart) => Trigger[], minReplicas = 1): KubeObject[] {
  const chart = testChart();
  new ScaledObject(chart, 'so', {
    namespace: 'shop',
    target: { name: 'api' },
    minReplicas,
    maxReplicas: 10,
    triggers: build(chart),
  });
  return synth(chart);
}

const triggersOf = (objects: KubeObject[]): Json[] => (only(objects, 'ScaledObject').spec as Json).triggers;

function secretAuth(chart: ClusterChart, parameter = 'host'): TriggerAuthentication {
  return new TriggerAuthentication(chart, `auth-${parameter.toLowerCase()}`, {
    namespace: 'shop',
    secretTargetRef: [{ parameter, secretName: 'broker', key: parameter }],
  });
}

/** `Trigger.awsSqsQueue` of a queue URL and region (queue length 5), authenticated as an AWS pod identity. */
function sqsWithAwsIdentity(): (queueUrl: string, awsRegion: string) => Trigger {
  const aws = new TriggerAuthentication(testChart(), 'aws', {
    namespace: 'shop',
    podIdentity: PodIdentity.aws(),
  });
  return (queueUrl, awsRegion) =>
    Trigger.awsSqsQueue({ queueUrl, awsRegion, queueLength: 5, authentication: aws });
}

describe('Trigger', () => {
  it('renders cpu and memory triggers as Utilization and reports the scaled resource', async () => {
    // GIVEN
    const cpu = Trigger.cpu({ utilization: 60 });
    const memory = Trigger.memory({ utilization: 75, containerName: 'app', name: 'mem' });
    // WHEN
    const objects = synthTriggers(() => [cpu, memory]);
    // THEN
    assert.equal(cpu.scaledResource, 'cpu');
    assert.equal(memory.scaledResource, 'memory');
    assert.deepEqual(triggersOf(objects), [
      { type: 'cpu', metricType: 'Utilization', metadata: { value: '60' } },
      {
        type: 'memory',
        name: 'mem',
        metricType: 'Utilization',
        metadata: { value: '75', containerName: 'app' },
      },
    ]);
    assert.deepEqual(await validateAll(objects), []);
  });

  it('renders a prometheus trigger with numbers as strings and an authenticationRef', async () => {
    // GIVEN / WHEN
    const objects = synthTriggers((chart) => [
      Trigger.prometheus({
        name: 'rps',
        serverAddress: 'http://prometheus.monitoring:9090',
        query: 'sum(rate(http_requests_total{app="api"}[2m]))',
        threshold: 100.5,
        activationThreshold: 5,
        namespace: 'shop',
        ignoreNullValues: false,
        unsafeSsl: false,
        timeout: Duration.seconds(3),
        customHeaders: { 'X-Scope-OrgID': 'shop' },
        queryParameters: { dedup: 'true' },
        authModes: ['bearer'],
        authentication: secretAuth(chart, 'bearerToken'),
        metricType: 'Value',
        useCachedMetrics: true,
      }),
    ]);
    // THEN
    assert.deepEqual(triggersOf(objects), [
      {
        type: 'prometheus',
        name: 'rps',
        metricType: 'Value',
        useCachedMetrics: true,
        metadata: {
          serverAddress: 'http://prometheus.monitoring:9090',
          query: 'sum(rate(http_requests_total{app="api"}[2m]))',
          threshold: '100.5',
          activationThreshold: '5',
          namespace: 'shop',
          ignoreNullValues: 'false',
          unsafeSsl: 'false',
          timeout: '3000',
          customHeaders: 'X-Scope-OrgID=shop',
          queryParameters: 'dedup=true',
          authModes: 'bearer',
        },
        authenticationRef: { name: 'auth-bearertoken', kind: 'TriggerAuthentication' },
      },
    ]);
    assert.deepEqual(await validateAll(objects), []);
  });

  it('renders rabbitmq, SQS, Kafka and Service Bus triggers with their KEDA metadata keys', async () => {
    // GIVEN / WHEN
    const objects = synthTriggers((chart) => {
      const aws = new TriggerAuthentication(chart, 'aws', {
        namespace: 'shop',
        podIdentity: PodIdentity.aws(),
      });
      const azure = new ClusterTriggerAuthentication(chart, 'azure', {
        podIdentity: PodIdentity.azureWorkload(),
      });
      return [
        Trigger.rabbitmq({
          queueName: 'orders',
          mode: 'QueueLength',
          value: 20,
          activationValue: 1,
          protocol: 'amqp',
          authentication: secretAuth(chart),
        }),
        Trigger.rabbitmq({
          queueName: 'events',
          mode: 'MessageRate',
          value: 50,
          hostFromEnv: 'RABBIT_URL',
          vhostName: '/',
        }),
        Trigger.awsSqsQueue({
          queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders',
          awsRegion: 'eu-west-1',
          queueLength: 5,
          activationQueueLength: 1,
          scaleOnInFlight: false,
          scaleOnDelayed: true,
          authentication: aws,
        }),
        Trigger.kafka({
          bootstrapServers: ['kafka-0.kafka:9092', 'kafka-1.kafka:9092'],
          consumerGroup: 'billing',
          topic: 'invoices',
          lagThreshold: 50,
          activationLagThreshold: 3,
          offsetResetPolicy: 'earliest',
          limitToPartitionsWithLag: true,
          excludePersistentLag: true,
          scaleToZeroOnInvalidOffset: false,
          allowIdleConsumers: false,
          sasl: 'scram_sha512',
          tls: true,
          authentication: secretAuth(chart, 'password'),
        }),
        Trigger.azureServiceBus({
          namespace: 'shop-bus',
          queueName: 'orders',
          messageCount: 10,
          activationMessageCount: 2,
          authentication: azure,
        }),
        Trigger.azureServiceBus({
          namespace: 'shop-bus',
          topicName: 'events',
          subscriptionName: 'audit',
          messageCount: 4,
          authentication: azure,
        }),
      ];
    });
    // THEN
    const [rabbit, rabbitEnv, sqs, kafka, busQueue, busTopic] = triggersOf(objects);
    assert.deepEqual(rabbit, {
      type: 'rabbitmq',
      metadata: {
        queueName: 'orders',
        mode: 'QueueLength',
        value: '20',
        activationValue: '1',
        protocol: 'amqp',
      },
      authenticationRef: { name: 'auth-host', kind: 'TriggerAuthentication' },
    });
    assert.deepEqual(rabbitEnv.metadata, {
      queueName: 'events',
      mode: 'MessageRate',
      value: '50',
      vhostName: '/',
      hostFromEnv: 'RABBIT_URL',
    });
    assert.equal(rabbitEnv.authenticationRef, undefined);
    assert.deepEqual(sqs, {
      type: 'aws-sqs-queue',
      metadata: {
        queueURL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders',
        awsRegion: 'eu-west-1',
        queueLength: '5',
        activationQueueLength: '1',
        scaleOnInFlight: 'false',
        scaleOnDelayed: 'true',
      },
      authenticationRef: { name: 'aws', kind: 'TriggerAuthentication' },
    });
    assert.deepEqual(kafka.metadata, {
      bootstrapServers: 'kafka-0.kafka:9092,kafka-1.kafka:9092',
      consumerGroup: 'billing',
      topic: 'invoices',
      lagThreshold: '50',
      activationLagThreshold: '3',
      offsetResetPolicy: 'earliest',
      allowIdleConsumers: 'false',
      limitToPartitionsWithLag: 'true',
      excludePersistentLag: 'true',
      scaleToZeroOnInvalidOffset: 'false',
      sasl: 'scram_sha512',
      tls: 'enable',
    });
    assert.equal(kafka.type, 'kafka');
    assert.deepEqual(busQueue, {
      type: 'azure-servicebus',
      metadata: {
        namespace: 'shop-bus',
        queueName: 'orders',
        messageCount: '10',
        activationMessageCount: '2',
      },
      authenticationRef: { name: 'azure', kind: 'ClusterTriggerAuthentication' },
    });
    assert.deepEqual(busTopic.metadata, {
      namespace: 'shop-bus',
      topicName: 'events',
      subscriptionName: 'audit',
      messageCount: '4',
    });
    assert.deepEqual(await validateAll(objects), []);
  });

  it('renders cron, external and external-push triggers', async () => {
    // GIVEN / WHEN
    const objects = synthTriggers(
      () => [
        Trigger.cron({
          timezone: 'Europe/Berlin',
          start: '0 8 * * MON-FRI',
          end: '0 20 * * MON-FRI',
          desiredReplicas: 6,
          name: 'office',
        }),
        Trigger.external({
          name: 'predicted',
          scalerAddress: 'elasticai-runtime.elasticai:9090',
          metadata: { workload: 'api', horizon: '300' },
        }),
        Trigger.externalPush({
          scalerAddress: 'elasticai-runtime.elasticai:9090',
          metadata: { workload: 'api' },
          unsafeSsl: false,
        }),
      ],
      0,
    );
    // THEN
    assert.deepEqual(triggersOf(objects), [
      {
        type: 'cron',
        name: 'office',
        metadata: {
          timezone: 'Europe/Berlin',
          start: '0 8 * * MON-FRI',
          end: '0 20 * * MON-FRI',
          desiredReplicas: '6',
        },
      },
      {
        type: 'external',
        name: 'predicted',
        metadata: { scalerAddress: 'elasticai-runtime.elasticai:9090', workload: 'api', horizon: '300' },
      },
      {
        type: 'external-push',
        metadata: { scalerAddress: 'elasticai-runtime.elasticai:9090', workload: 'api', unsafeSsl: 'false' },
      },
    ]);
    assert.deepEqual(await validateAll(objects), []);
  });

  it('has no scaled resource for non-resource triggers', () => {
    assert.equal(Trigger.external({ scalerAddress: 'r:9090' }).scaledResource, undefined);
    assert.equal(
      Trigger.cron({ timezone: 'UTC', start: '0 8 * * *', end: '0 9 * * *', desiredReplicas: 1 })
        .scaledResource,
      undefined,
    );
  });

  describe('refuses inline credentials', () => {
    for (const key of [
      'password',
      'connectionString',
      'awsSecretAccessKey',
      'apiKey',
      'tlsClientKey',
      'bearerToken',
    ]) {
      it(`refuses metadata key "${key}"`, () => {
        assert.throws(
          () => Trigger.external({ scalerAddress: 'r:9090', metadata: { [key]: 'hunter2' } }),
          (e: Error) =>
            e.name === 'PropError' &&
            e.message.includes('external.metadata') &&
            e.message.includes(`"${key}"`) &&
            e.message.includes('authentication') &&
            !e.message.includes('hunter2'),
        );
      });
    }

    it('allows *FromEnv keys, which name an environment variable', () => {
      const t = Trigger.external({
        scalerAddress: 'r:9090',
        metadata: { passwordFromEnv: 'REDIS_PASSWORD' },
      });
      assert.equal(t.metadata.passwordFromEnv, 'REDIS_PASSWORD');
    });

    it('refuses a host URL with embedded credentials without echoing the password', () => {
      assert.throws(
        () =>
          Trigger.external({
            scalerAddress: 'r:9090',
            metadata: { host: 'amqp://user:hunter2@rabbit:5672/' },
          }),
        (e: Error) =>
          /external\.metadata\.host/.test(e.message) &&
          e.message.includes('amqp://***@rabbit:5672/') &&
          !e.message.includes('hunter2'),
      );
      assert.throws(
        () => Trigger.prometheus({ serverAddress: 'https://u:p@prom:9090', query: 'up', threshold: 1 }),
        /prometheus\.serverAddress: must not embed credentials/,
      );
    });

    it('refuses credential headers in prometheus customHeaders', () => {
      assert.throws(
        () =>
          Trigger.prometheus({
            serverAddress: 'http://p:9090',
            query: 'up',
            threshold: 1,
            customHeaders: { Authorization: 'Bearer x' },
          }),
        /prometheus\.customHeaders: is a credential header.*\(got "Authorization"\)/,
      );
    });

    it('requires authentication (or hostFromEnv) for rabbitmq, whose host carries credentials', () => {
      assert.throws(
        () => Trigger.rabbitmq({ queueName: 'q', mode: 'QueueLength', value: 5 }),
        /rabbitmq\.authentication: is required unless hostFromEnv is set/,
      );
    });

    it('reserves scalerAddress in external metadata', () => {
      assert.throws(
        () => Trigger.externalPush({ scalerAddress: 'r:9090', metadata: { scalerAddress: 'other:1' } }),
        /externalPush\.metadata: is reserved; use the scalerAddress option \(got "scalerAddress"\)/,
      );
    });
  });

  describe('validates props', () => {
    const cases: [string, () => unknown, RegExp][] = [
      [
        'cpu utilization',
        () => Trigger.cpu({ utilization: 0 }),
        /cpu\.utilization: must be between 1 and 1000 \(got 0\)/,
      ],
      [
        'memory utilization',
        () => Trigger.memory({ utilization: 50.5 }),
        /memory\.utilization: must be an integer \(got 50\.5\)/,
      ],
      [
        'trigger name',
        () => Trigger.cpu({ utilization: 50, name: 'has space' }),
        /cpu\.name: .* \(got "has space"\)/,
      ],
      [
        'prometheus threshold',
        () => Trigger.prometheus({ serverAddress: 'http://p:9090', query: 'up', threshold: 0 }),
        /prometheus\.threshold: must be > 0 \(got 0\)/,
      ],
      [
        'prometheus query',
        () => Trigger.prometheus({ serverAddress: 'http://p:9090', query: ' ', threshold: 1 }),
        /prometheus\.query: must not be empty \(got " "\)/,
      ],
      [
        'prometheus serverAddress',
        () => Trigger.prometheus({ serverAddress: 'prom:9090', query: 'up', threshold: 1 }),
        /prometheus\.serverAddress: must be a http or https URL \(got "prom:9090"\)/,
      ],
      [
        'prometheus authModes',
        () =>
          Trigger.prometheus({
            serverAddress: 'http://p:9090',
            query: 'up',
            threshold: 1,
            authModes: ['basic'],
          }),
        /prometheus\.authModes: needs authentication .*\(got \["basic"\]\)/,
      ],
      [
        'prometheus metricType',
        () =>
          Trigger.prometheus({
            serverAddress: 'http://p:9090',
            query: 'up',
            threshold: 1,
            metricType: 'Utilization' as never,
          }),
        /prometheus\.metricType: must be "AverageValue" or "Value" \(got "Utilization"\)/,
      ],
      [
        'rabbitmq value',
        () => Trigger.rabbitmq({ queueName: 'q', mode: 'QueueLength', value: -1, hostFromEnv: 'H' }),
        /rabbitmq\.value: must be >= 0 \(got -1\)/,
      ],
      [
        'rabbitmq protocol',
        () =>
          Trigger.rabbitmq({
            queueName: 'q',
            mode: 'MessageRate',
            value: 1,
            protocol: 'amqp',
            hostFromEnv: 'H',
          }),
        /rabbitmq\.protocol: must be "http" or "auto" for mode "MessageRate" \(got "amqp"\)/,
      ],
      [
        'rabbitmq hostFromEnv',
        () => Trigger.rabbitmq({ queueName: 'q', mode: 'QueueLength', value: 1, hostFromEnv: 'amqp://x' }),
        /rabbitmq\.hostFromEnv: must be an environment variable name \(got "amqp:\/\/x"\)/,
      ],
      [
        'kafka lagThreshold',
        () =>
          Trigger.kafka({ bootstrapServers: ['k:9092'], consumerGroup: 'g', topic: 't', lagThreshold: 0 }),
        /kafka\.lagThreshold: must be >= 1 \(got 0\)/,
      ],
      [
        'kafka bootstrapServers',
        () => Trigger.kafka({ bootstrapServers: ['k'], consumerGroup: 'g', topic: 't', lagThreshold: 5 }),
        /kafka\.bootstrapServers\[0\]: must be "host:port" .*\(got "k"\)/,
      ],
      [
        'kafka idle + lag',
        () =>
          Trigger.kafka({
            bootstrapServers: ['k:9092'],
            consumerGroup: 'g',
            topic: 't',
            lagThreshold: 5,
            allowIdleConsumers: true,
            limitToPartitionsWithLag: true,
          }),
        /kafka\.limitToPartitionsWithLag: cannot be combined with allowIdleConsumers/,
      ],
      [
        'kafka sasl',
        () =>
          Trigger.kafka({
            bootstrapServers: ['k:9092'],
            consumerGroup: 'g',
            topic: 't',
            lagThreshold: 5,
            sasl: 'plaintext',
          }),
        /kafka\.sasl: needs authentication .*\(got "plaintext"\)/,
      ],
      [
        'servicebus namespace',
        () =>
          Trigger.azureServiceBus({
            namespace: 'bus.servicebus.windows.net',
            queueName: 'q',
            messageCount: 5,
            authentication: { name: 'a', kind: 'ClusterTriggerAuthentication' },
          }),
        /azureServiceBus\.namespace: .*\(got "bus\.servicebus\.windows\.net"\)/,
      ],
      [
        'servicebus entity',
        () =>
          Trigger.azureServiceBus({
            namespace: 'shop-bus',
            messageCount: 5,
            authentication: { name: 'a', kind: 'ClusterTriggerAuthentication' },
          }),
        /azureServiceBus\.queueName: either queueName or topicName \+ subscriptionName is required/,
      ],
      [
        'servicebus subscription',
        () =>
          Trigger.azureServiceBus({
            namespace: 'shop-bus',
            topicName: 't',
            messageCount: 5,
            authentication: { name: 'a', kind: 'ClusterTriggerAuthentication' },
          }),
        /azureServiceBus\.subscriptionName: is required with topicName/,
      ],
      [
        'cron timezone',
        () =>
          Trigger.cron({
            timezone: 'Mars/Olympus',
            start: '0 8 * * *',
            end: '0 9 * * *',
            desiredReplicas: 1,
          }),
        /cron\.timezone: must be an IANA time zone .*\(got "Mars\/Olympus"\)/,
      ],
      [
        'cron timezone abbreviation',
        () => Trigger.cron({ timezone: 'CEST', start: '0 8 * * *', end: '0 9 * * *', desiredReplicas: 1 }),
        /cron\.timezone: .*\(got "CEST"\)/,
      ],
      [
        'cron start fields',
        () => Trigger.cron({ timezone: 'UTC', start: '0 8 * *', end: '0 9 * * *', desiredReplicas: 1 }),
        /cron\.start: must be a 5-field cron expression .*has 4 fields \(got "0 8 \* \*"\)/,
      ],
      [
        'cron end range',
        () => Trigger.cron({ timezone: 'UTC', start: '0 8 * * *', end: '0 24 * * *', desiredReplicas: 1 }),
        /cron\.end: .*hour "24" is outside 0-23 \(got "0 24 \* \* \*"\)/,
      ],
      [
        'cron equal window',
        () => Trigger.cron({ timezone: 'UTC', start: '0 8 * * *', end: '0 8 * * *', desiredReplicas: 1 }),
        /cron\.end: must differ from start .*\(got "0 8 \* \* \*"\)/,
      ],
      [
        'cron desiredReplicas',
        () => Trigger.cron({ timezone: 'UTC', start: '0 8 * * *', end: '0 9 * * *', desiredReplicas: 0 }),
        /cron\.desiredReplicas: must be >= 1 \(got 0\)/,
      ],
      [
        'external scalerAddress',
        () => Trigger.external({ scalerAddress: 'http://runtime:9090' }),
        /external\.scalerAddress: must be "host:port" \(got "http:\/\/runtime:9090"\)/,
      ],
    ];
    for (const [what, build, message] of cases) {
      it(`rejects a bad ${what}`, () => {
        assert.throws(build, (e: Error) => e.name === 'PropError' && message.test(e.message));
      });
    }

    it('checks the SQS region against the queue URL and the identity provider', () => {
      const chart = testChart();
      const azure = new TriggerAuthentication(chart, 'az', {
        namespace: 'shop',
        podIdentity: PodIdentity.azureWorkload(),
      });
      const aws = new TriggerAuthentication(chart, 'aws', {
        namespace: 'shop',
        podIdentity: PodIdentity.aws(),
      });
      const base = {
        queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q',
        awsRegion: 'eu-west-1',
        queueLength: 5,
      };
      assert.throws(
        () => Trigger.awsSqsQueue({ ...base, awsRegion: 'us-east-1', authentication: aws }),
        /awsSqsQueue\.awsRegion: must match the queue URL's region \(eu-west-1\) \(got "us-east-1"\)/,
      );
      // the region of a China, ISO, ISO-B/E/F, FIPS, dual-stack or legacy queue URL is checked as well
      for (const [queueUrl, region] of [
        ['https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q', 'cn-north-1'],
        ['https://sqs.us-iso-east-1.c2s.ic.gov/123456789012/q', 'us-iso-east-1'],
        ['https://sqs.us-isob-east-1.sc2s.sgov.gov/123456789012/q', 'us-isob-east-1'],
        ['https://eu-west-1.queue.amazonaws.com/123456789012/q', 'eu-west-1'],
        ['https://sqs.eu-isoe-west-1.cloud.adc-e.uk/123456789012/q', 'eu-isoe-west-1'],
        ['https://sqs.us-isof-south-1.csp.hci.ic.gov/123456789012/q', 'us-isof-south-1'],
        ['https://sqs-fips.us-east-1.amazonaws.com/123456789012/q', 'us-east-1'],
        ['https://sqs.eu-west-1.api.aws/123456789012/q', 'eu-west-1'],
        ['https://sqs-fips.us-east-1.api.aws/123456789012/q', 'us-east-1'],
      ] as const) {
        const ok = Trigger.awsSqsQueue({
          ...base,
          queueUrl,
          awsRegion: region,
          authentication: aws,
        });
        assert.equal(ok.metadata.queueURL, queueUrl);
        assert.throws(
          () => Trigger.awsSqsQueue({ ...base, queueUrl, awsRegion: 'us-west-2', authentication: aws }),
          new RegExp(
            `awsSqsQueue\\.awsRegion: must match the queue URL's region \\(${region}\\) \\(got "us-west-2"\\)`,
          ),
        );
      }
      assert.throws(
        () => Trigger.awsSqsQueue({ ...base, awsRegion: 'Ireland', authentication: aws }),
        /awsSqsQueue\.awsRegion: .*\(got "Ireland"\)/,
      );
      assert.throws(
        () => Trigger.awsSqsQueue({ ...base, authentication: azure }),
        /awsSqsQueue\.authentication: must use PodIdentity\.aws\(\) \(it uses "azure-workload"\) \(got "az"\)/,
      );
      assert.throws(
        () => Trigger.awsSqsQueue({ ...base, queueLength: 2.5, authentication: aws }),
        /awsSqsQueue\.queueLength: must be an integer \(got 2\.5\)/,
      );
    });

    it("checks the partition of an SQS queue URL's domain, and its path, with the shared parser", () => {
      // GIVEN an AWS TriggerAuthentication
      const sqs = sqsWithAwsIdentity();
      // WHEN the host is an SQS endpoint of the region but not of its partition's domain
      for (const [queueUrl, region] of [
        ['https://sqs.cn-north-1.amazonaws.com/123456789012/q', 'cn-north-1'],
        ['https://sqs.us-iso-east-1.sc2s.sgov.gov/123456789012/q', 'us-iso-east-1'],
        ['https://cn-north-1.queue.amazonaws.com/123456789012/q', 'cn-north-1'],
        ['https://sqs.eusc-de-east-1.amazonaws.com/123456789012/q', 'eusc-de-east-1'],
        ['https://sqs.eu-central-1.amazonaws.eu/123456789012/q', 'eu-central-1'],
      ] as const) {
        // THEN refused, naming queueUrl and the URL
        assert.throws(
          () => sqs(queueUrl, region),
          (e: Error) =>
            e.name === 'PropError' &&
            e.message.startsWith('awsSqsQueue.queueUrl: must use the SQS domain of region') &&
            e.message.endsWith(`(got ${JSON.stringify(queueUrl)})`),
        );
      }
      // WHEN the domain is the partition's but the prefix is not one of its endpoints there
      // THEN refused saying which prefix, and the hosts the partition has on that domain
      const fipsCn = 'https://sqs-fips.cn-north-1.amazonaws.com.cn/123456789012/q';
      assert.throws(
        () => sqs(fipsCn, 'cn-north-1'),
        (e: Error) =>
          e.name === 'PropError' &&
          e.message ===
            'awsSqsQueue.queueUrl: must use an SQS endpoint of region "cn-north-1": the domain is right but ' +
              `the prefix "sqs-fips" is not one of partition aws-cn's (sqs.cn-north-1.amazonaws.com.cn) (got "${fipsCn}")`,
      );
      // WHEN an SQS endpoint's URL has no 12-digit account and queue name  THEN refused, naming queueUrl
      for (const queueUrl of [
        'https://sqs.eu-west-1.amazonaws.com/q',
        'https://sqs.eu-west-1.amazonaws.com/12345/q',
        'https://sqs.eu-west-1.amazonaws.com/123456789012/q/',
        'https://sqs.eu-west-1.amazonaws.com/123456789012/a*b',
      ]) {
        assert.throws(
          () => sqs(queueUrl, 'eu-west-1'),
          (e: Error) =>
            e.name === 'PropError' &&
            e.message.startsWith('awsSqsQueue.queueUrl: must be an SQS queue URL like') &&
            e.message.endsWith(`(got ${JSON.stringify(queueUrl)})`),
        );
      }
      // WHEN the queue is in the European Sovereign Cloud  THEN taken, on amazonaws.eu
      const eusc = 'https://sqs.eusc-de-east-1.amazonaws.eu/123456789012/q';
      assert.equal(sqs(eusc, 'eusc-de-east-1').metadata.awsRegion, 'eusc-de-east-1');
      // WHEN the URL is a VPC endpoint's of awsRegion, with account and queue  THEN taken as is
      const vpce = 'https://vpce-0a1b2c3d4e5f67890-abcdefgh.sqs.eu-west-1.vpce.amazonaws.com/123456789012/q';
      assert.equal(sqs(vpce, 'eu-west-1').metadata.queueURL, vpce);
    });

    it("checks a VPC endpoint's queue URL for its region and its /<account>/<queue> path", () => {
      // GIVEN an AWS TriggerAuthentication
      const sqs = sqsWithAwsIdentity();
      const host = 'vpce-0a1b2c3d4e5f67890-abcdefgh.sqs.eu-west-1.vpce.amazonaws.com';
      // WHEN the endpoint's region is not awsRegion  THEN refused, naming awsRegion and the URL's region
      assert.throws(
        () => sqs(`https://${host}/123456789012/q`, 'us-east-1'),
        (e: Error) =>
          e.name === 'PropError' &&
          e.message ===
            `awsSqsQueue.awsRegion: must match the queue URL's region (eu-west-1) (got "us-east-1")`,
      );
      // WHEN the endpoint is zonal  THEN its region is still the one checked
      const zonal =
        'https://vpce-0a1b2c3d4e5f67890-abcdefgh-eu-west-1a.sqs.eu-west-1.vpce.amazonaws.com/123456789012/q';
      assert.equal(sqs(zonal, 'eu-west-1').metadata.queueURL, zonal);
      assert.throws(
        () => sqs(zonal, 'eu-west-2'),
        /awsSqsQueue\.awsRegion: must match the queue URL's region \(eu-west-1\)/,
      );
      // WHEN the path is not /<12-digit account>/<queue name>  THEN refused, naming queueUrl and the URL
      for (const path of ['/q', '/12345/q', '/123456789012/q/', '/123456789012/a*b', '/123456789012/q?x=1']) {
        const queueUrl = `https://${host}${path}`;
        assert.throws(
          () => sqs(queueUrl, 'eu-west-1'),
          (e: Error) =>
            e.name === 'PropError' &&
            e.message.startsWith('awsSqsQueue.queueUrl: must be a queue URL on the VPC endpoint like') &&
            e.message.endsWith(`(got ${JSON.stringify(queueUrl)})`),
        );
      }
      // WHEN the endpoint names a GovCloud region (its VPC endpoint domain is not confirmed)  THEN refused
      // as kedaAwsAccess refuses it, so the trigger and the operator's IAM policy agree
      const gov =
        'https://vpce-0a1b2c3d4e5f67890-abcdefgh.sqs.us-gov-west-1.vpce.amazonaws.com/123456789012/q';
      assert.throws(
        () => sqs(gov, 'us-gov-west-1'),
        /^PropError: awsSqsQueue\.queueUrl: must be on a VPC endpoint of the commercial partition: region "us-gov-west-1" is in aws-us-gov/,
      );
    });

    it('takes another https host as KEDA does, refusing a path KEDA cannot read a queue name from', () => {
      // GIVEN an AWS TriggerAuthentication and a test endpoint (localstack)
      const withIdentity = sqsWithAwsIdentity();
      const sqs = (queueUrl: string): Trigger => withIdentity(queueUrl, 'us-east-1');
      // WHEN the path is /<account>/<queue>  THEN taken as is
      const ok = 'https://localstack.test:4566/000000000000/orders';
      assert.equal(sqs(ok).metadata.queueURL, ok);
      // WHEN the path has not exactly two segments, the second non-empty (KEDA: "cannot get queueName
      // from queueURL")  THEN refused at synth, naming queueUrl and the URL
      for (const path of ['/orders', '/000000000000/orders/', '/a/b/orders', '']) {
        const queueUrl = `https://localstack.test:4566${path}`;
        assert.throws(
          () => sqs(queueUrl),
          (e: Error) =>
            e.name === 'PropError' &&
            e.message ===
              'awsSqsQueue.queueUrl: must have the path /<account>/<queue>: KEDA takes the queue name ' +
                `from its second segment (got ${JSON.stringify(queueUrl)})`,
        );
      }
    });

    it('checks awsRegion (SQS and Kafka) by the shared AWS region names', () => {
      const chart = testChart();
      const aws = new TriggerAuthentication(chart, 'aws', {
        namespace: 'shop',
        podIdentity: PodIdentity.aws(),
      });
      // a custom host (no region in it), so that only awsRegion's own check applies
      const custom = 'https://localstack.test:4566/000000000000/q';
      const kafka = (awsRegion: string): Trigger =>
        Trigger.kafka({
          bootstrapServers: ['k:9092'],
          consumerGroup: 'g',
          topic: 't',
          lagThreshold: 5,
          awsRegion,
        });
      // GIVEN names shaped like GovCloud or ISO regions under another prefix (no partition has them)
      for (const region of ['eu-gov-west-1', 'eu-iso-west-1']) {
        // THEN refused by both, naming the prop and the value
        assert.throws(
          () =>
            Trigger.awsSqsQueue({ queueUrl: custom, awsRegion: region, queueLength: 5, authentication: aws }),
          (e: Error) =>
            e.name === 'PropError' &&
            e.message.startsWith('awsSqsQueue.awsRegion: ') &&
            e.message.endsWith(`(got "${region}")`),
        );
        assert.throws(
          () => kafka(region),
          (e: Error) =>
            e.name === 'PropError' &&
            e.message.startsWith('kafka.awsRegion: ') &&
            e.message.endsWith(`(got "${region}")`),
        );
      }
      // GIVEN the European Sovereign Cloud's region  THEN taken by both
      assert.equal(kafka('eusc-de-east-1').metadata.awsRegion, 'eusc-de-east-1');
      assert.equal(
        Trigger.awsSqsQueue({
          queueUrl: custom,
          awsRegion: 'eusc-de-east-1',
          queueLength: 5,
          authentication: aws,
        }).metadata.awsRegion,
        'eusc-de-east-1',
      );
    });
  });

  describe('cron expressions', () => {
    for (const ok of [
      '*/15 * * * *',
      '0 0 1 JAN,jul ?',
      '30 6-18/2 * * 1-5',
      '0 0 * * 7',
      '5,10,15 0 1-15 * SUN-SAT',
    ]) {
      it(`accepts "${ok}"`, () => assert.doesNotThrow(() => checkCron('cron.start', ok)));
    }
    for (const bad of [
      '* * * * * *',
      '60 * * * *',
      '0 0 0 * *',
      '0 0 * 13 *',
      '*/0 * * * *',
      '0 5-2 * * *',
      'a b c d e',
      '0 0 * * FUNDAY',
    ]) {
      it(`rejects "${bad}"`, () =>
        assert.throws(() => checkCron('cron.start', bad), /cron\.start: must be a 5-field cron expression/));
    }
  });
});
