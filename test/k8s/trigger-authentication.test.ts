import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ClusterTriggerAuthentication,
  type ITriggerAuthentication,
  PodIdentity,
  TriggerAuthentication,
  type TriggerAuthenticationProps,
} from '../../constructs/k8s/keda/trigger-authentication.js';
import { only, synth, testChart, type Json } from '../support/chart.js';
import { validateAll } from '../support/validate.js';

function throwsProp(build: () => unknown, message: RegExp): void {
  assert.throws(build, (e: Error) => e.name === 'PropError' && message.test(e.message));
}

describe('TriggerAuthentication', () => {
  it('references Secret keys and environment variables, never values', async () => {
    // GIVEN
    const chart = testChart();
    // WHEN
    const auth = new TriggerAuthentication(chart, 'rabbit', {
      namespace: 'shop',
      secretTargetRef: [
        { parameter: 'host', secretName: 'rabbitmq', key: 'url' },
        { parameter: 'password', secretName: 'rabbitmq', key: 'password' },
      ],
      env: [{ parameter: 'username', envName: 'RABBIT_USER', containerName: 'worker' }],
    });
    const objects = synth(chart);
    // THEN
    const obj = only(objects, 'TriggerAuthentication');
    assert.equal(obj.apiVersion, 'keda.sh/v1alpha1');
    assert.deepEqual(obj.metadata, { name: 'rabbit', namespace: 'shop' });
    assert.deepEqual(obj.spec, {
      secretTargetRef: [
        { parameter: 'host', name: 'rabbitmq', key: 'url' },
        { parameter: 'password', name: 'rabbitmq', key: 'password' },
      ],
      env: [{ parameter: 'username', name: 'RABBIT_USER', containerName: 'worker' }],
    });
    assert.equal(auth.kind, 'TriggerAuthentication');
    assert.equal(auth.namespace, 'shop');
    assert.equal(auth.podIdentityProvider, undefined);
    assert.deepEqual(await validateAll(objects), []);
  });

  describe('pod identities', () => {
    const cases: [string, PodIdentity, Json][] = [
      ['PodIdentity.aws()', PodIdentity.aws(), { provider: 'aws' }],
      [
        'PodIdentity.aws({ roleArn })',
        PodIdentity.aws({ roleArn: 'arn:aws:iam::123456789012:role/keda-sqs-reader' }),
        { provider: 'aws', roleArn: 'arn:aws:iam::123456789012:role/keda-sqs-reader' },
      ],
      [
        'PodIdentity.aws({ identityOwner: workload })',
        PodIdentity.aws({ identityOwner: 'workload' }),
        { provider: 'aws', identityOwner: 'workload' },
      ],
      ['PodIdentity.azureWorkload()', PodIdentity.azureWorkload(), { provider: 'azure-workload' }],
      [
        'PodIdentity.azureWorkload({ identityId, identityTenantId })',
        PodIdentity.azureWorkload({
          identityId: '11111111-2222-3333-4444-555555555555',
          identityTenantId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
          identityAuthorityHost: 'https://login.microsoftonline.us/',
        }),
        {
          provider: 'azure-workload',
          identityId: '11111111-2222-3333-4444-555555555555',
          identityTenantId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
          identityAuthorityHost: 'https://login.microsoftonline.us/',
        },
      ],
      ['PodIdentity.none()', PodIdentity.none(), { provider: 'none' }],
    ];
    for (const [what, podIdentity, json] of cases) {
      it(`renders ${what}`, async () => {
        // GIVEN
        const chart = testChart();
        // WHEN
        const auth = new TriggerAuthentication(chart, 'id', { namespace: 'shop', podIdentity });
        const objects = synth(chart);
        // THEN
        assert.deepEqual((only(objects, 'TriggerAuthentication').spec as Json).podIdentity, json);
        assert.equal(auth.podIdentityProvider, json.provider);
        assert.deepEqual(await validateAll(objects), []);
      });
    }

    it('rejects a roleArn together with identityOwner workload (mutually exclusive in KEDA)', () => {
      throwsProp(
        () => PodIdentity.aws({ roleArn: 'arn:aws:iam::123456789012:role/r', identityOwner: 'workload' }),
        /^podIdentity\.identityOwner: must not be "workload" when roleArn is set .*\(got "workload"\)$/,
      );
    });

    it('rejects malformed identity values', () => {
      throwsProp(
        () => PodIdentity.aws({ roleArn: 'keda-role' }),
        /^podIdentity\.roleArn: must be an IAM role ARN .*\(got "keda-role"\)$/,
      );
      throwsProp(
        () => PodIdentity.azureWorkload({ identityId: 'my-identity' }),
        /^podIdentity\.identityId: must be a client id \(GUID\) \(got "my-identity"\)$/,
      );
      throwsProp(
        () => PodIdentity.azureWorkload({ identityTenantId: 'contoso' }),
        /^podIdentity\.identityTenantId: .*\(got "contoso"\)$/,
      );
      throwsProp(
        () => PodIdentity.azureWorkload({ identityAuthorityHost: 'login.microsoftonline.com' }),
        /^podIdentity\.identityAuthorityHost: must be an https:\/\/ host URL \(got "login\.microsoftonline\.com"\)$/,
      );
    });
  });

  describe('validation', () => {
    const base: TriggerAuthenticationProps = { namespace: 'shop', podIdentity: PodIdentity.aws() };
    const cases: [string, TriggerAuthenticationProps, RegExp][] = [
      [
        'no source at all',
        { namespace: 'shop' },
        /^secretTargetRef: at least one of secretTargetRef, env or podIdentity must be set \(got \[\]\)$/,
      ],
      [
        'an empty parameter',
        { ...base, secretTargetRef: [{ parameter: '', secretName: 's', key: 'k' }] },
        /^secretTargetRef\[0\]\.parameter: must be a non-empty trigger parameter name \(got ""\)$/,
      ],
      [
        'an empty env parameter',
        { ...base, env: [{ parameter: ' ', envName: 'X' }] },
        /^env\[0\]\.parameter: .*\(got " "\)$/,
      ],
      [
        'a parameter given twice',
        {
          namespace: 'shop',
          secretTargetRef: [{ parameter: 'host', secretName: 's', key: 'a' }],
          env: [{ parameter: 'host', envName: 'HOST' }],
        },
        /^env\[0\]\.parameter: is given more than once \(got "host"\)$/,
      ],
      [
        'a bad Secret name',
        { namespace: 'shop', secretTargetRef: [{ parameter: 'host', secretName: 'My_Secret', key: 'a' }] },
        /^secretTargetRef\[0\]\.secretName: .*\(got "My_Secret"\)$/,
      ],
      [
        'a bad Secret key',
        { namespace: 'shop', secretTargetRef: [{ parameter: 'host', secretName: 's', key: 'a/b' }] },
        /^secretTargetRef\[0\]\.key: .*\(got "a\/b"\)$/,
      ],
      [
        'a bad env name',
        { namespace: 'shop', env: [{ parameter: 'host', envName: '1HOST' }] },
        /^env\[0\]\.envName: must be an environment variable name \(got "1HOST"\)$/,
      ],
      ['a bad namespace', { ...base, namespace: 'Shop' }, /^namespace: .*\(got "Shop"\)$/],
    ];
    for (const [what, props, message] of cases) {
      it(`rejects ${what}`, () =>
        throwsProp(() => new TriggerAuthentication(testChart(), 'auth', props), message));
    }
  });
});

describe('ClusterTriggerAuthentication', () => {
  it('is cluster-scoped and usable by triggers in any namespace', async () => {
    // GIVEN
    const chart = testChart();
    // WHEN
    const auth: ITriggerAuthentication = new ClusterTriggerAuthentication(chart, 'shared-sqs', {
      podIdentity: PodIdentity.aws({ roleArn: 'arn:aws:iam::123456789012:role/keda-shared' }),
      secretTargetRef: [{ parameter: 'ca', secretName: 'internal-ca', key: 'ca.crt' }],
    });
    const objects = synth(chart);
    // THEN
    const obj = only(objects, 'ClusterTriggerAuthentication');
    assert.deepEqual(obj.metadata, { name: 'shared-sqs' });
    assert.deepEqual(obj.spec, {
      secretTargetRef: [{ parameter: 'ca', name: 'internal-ca', key: 'ca.crt' }],
      podIdentity: { provider: 'aws', roleArn: 'arn:aws:iam::123456789012:role/keda-shared' },
    });
    assert.equal(auth.kind, 'ClusterTriggerAuthentication');
    assert.equal(auth.namespace, undefined);
    assert.deepEqual(await validateAll(objects), []);
  });

  it('requires at least one source', () => {
    throwsProp(
      () => new ClusterTriggerAuthentication(testChart(), 'empty', {}),
      /^secretTargetRef: at least one of/,
    );
  });
});
