import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration } from 'cdk8s';
import { parse } from 'yaml';
import {
  AUTOSCALER_PROFILE_FLAGS,
  clusterAutoscalerFlags,
  DEFAULT_AUTOSCALER_PROFILE,
  Expander,
  formatGoDuration,
  renderExpanderPriorities,
  resolveAutoscalerProfile,
  type AutoscalerProfile,
} from '../../constructs/k8s/autoscaler-profile.js';
import { PropError } from '../../constructs/k8s/validation.js';

/** The value of one `--flag=value` entry, or undefined when the flag is absent. */
function flagValue(flags: readonly string[], flag: string): string | undefined {
  const found = flags.filter((f) => f.startsWith(`--${flag}=`));
  assert.ok(found.length <= 1, `--${flag} appears ${found.length} times`);
  return found[0]?.slice(flag.length + 3);
}

/** Asserts that `fn` throws a PropError naming `prop` and whose message contains `value`. */
function assertPropError(fn: () => unknown, prop: string, value: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PropError, `expected PropError, got ${String(e)}`);
    assert.equal(e.prop, prop);
    assert.ok(e.message.startsWith(`${prop}: `), e.message);
    assert.ok(e.message.includes(value), `${e.message} should mention ${value}`);
    return true;
  });
}

describe('formatGoDuration', () => {
  it('renders durations like Go time.Duration.String(), which cluster-autoscaler parses', () => {
    // GIVEN / WHEN / THEN
    assert.equal(formatGoDuration(Duration.seconds(0)), '0s');
    assert.equal(formatGoDuration(Duration.millis(500)), '500ms');
    assert.equal(formatGoDuration(Duration.seconds(10)), '10s');
    assert.equal(formatGoDuration(Duration.millis(1500)), '1.5s');
    assert.equal(formatGoDuration(Duration.minutes(3)), '3m0s');
    assert.equal(formatGoDuration(Duration.seconds(90)), '1m30s');
    assert.equal(formatGoDuration(Duration.minutes(15)), '15m0s');
    assert.equal(formatGoDuration(Duration.hours(1)), '1h0m0s');
    assert.equal(formatGoDuration(Duration.minutes(125)), '2h5m0s');
  });
});

describe('DEFAULT_AUTOSCALER_PROFILE', () => {
  it('holds upstream defaults from DESIGN.md', () => {
    // GIVEN
    const d = DEFAULT_AUTOSCALER_PROFILE;
    // THEN
    assert.equal(d.scanInterval.toSeconds(), 10);
    assert.equal(d.scaleDownUnneededTime.toMinutes(), 10);
    assert.equal(d.scaleDownDelayAfterAdd.toMinutes(), 10);
    assert.equal(d.scaleDownDelayAfterDelete.toSeconds(), 0);
    assert.equal(d.scaleDownDelayAfterFailure.toMinutes(), 3);
    assert.equal(d.scaleDownUnreadyTime.toMinutes(), 20);
    assert.equal(d.scaleDownUtilizationThreshold, 0.5);
    assert.equal(d.maxNodeProvisionTime.toMinutes(), 15);
    assert.equal(d.expander.toString(), 'least-waste');
    assert.equal(d.expendablePodsPriorityCutoff, -10);
    assert.ok(Object.isFrozen(d));
  });

  it('names an upstream flag for every field', () => {
    // GIVEN / WHEN
    const fields = Object.keys(DEFAULT_AUTOSCALER_PROFILE).sort();
    // THEN
    assert.deepEqual(Object.keys(AUTOSCALER_PROFILE_FLAGS).sort(), fields);
    for (const flag of Object.values(AUTOSCALER_PROFILE_FLAGS)) assert.match(flag, /^[a-z]+(-[a-z]+)*$/);
  });
});

describe('clusterAutoscalerFlags', () => {
  it('renders DESIGN.md defaults as explicit, sorted flags', () => {
    // GIVEN / WHEN
    const flags = clusterAutoscalerFlags({}, 'aws', 'prod');
    // THEN
    assert.deepEqual(flags, [...flags].sort());
    assert.equal(new Set(flags).size, flags.length);
    assert.equal(flagValue(flags, 'scan-interval'), '10s');
    assert.equal(flagValue(flags, 'scale-down-unneeded-time'), '10m0s');
    assert.equal(flagValue(flags, 'scale-down-delay-after-add'), '10m0s');
    assert.equal(flagValue(flags, 'scale-down-delay-after-delete'), '0s');
    assert.equal(flagValue(flags, 'scale-down-delay-after-failure'), '3m0s');
    assert.equal(flagValue(flags, 'scale-down-unready-time'), '20m0s');
    assert.equal(flagValue(flags, 'scale-down-utilization-threshold'), '0.5');
    assert.equal(flagValue(flags, 'max-node-provision-time'), '15m0s');
    assert.equal(flagValue(flags, 'expander'), 'least-waste');
    assert.equal(flagValue(flags, 'expendable-pods-priority-cutoff'), '-10');
    assert.equal(flagValue(flags, 'balance-similar-node-groups'), 'false');
    assert.equal(flagValue(flags, 'skip-nodes-with-local-storage'), 'true');
    assert.equal(flagValue(flags, 'skip-nodes-with-system-pods'), 'true');
    assert.equal(flagValue(flags, 'max-graceful-termination-sec'), '600');
    assert.equal(flagValue(flags, 'new-pod-scale-up-delay'), '0s');
    assert.equal(flagValue(flags, 'max-scale-down-parallelism'), '10');
    assert.equal(flagValue(flags, 'ok-total-unready-count'), '3');
    assert.equal(flagValue(flags, 'max-total-unready-percentage'), '45');
    assert.equal(flagValue(flags, 'scale-down-enabled'), 'true');
  });

  it('wires AWS auto-discovery to the cluster tags', () => {
    // GIVEN / WHEN
    const flags = clusterAutoscalerFlags({}, 'aws', 'prod-eu');
    // THEN
    assert.equal(flagValue(flags, 'cloud-provider'), 'aws');
    assert.equal(
      flagValue(flags, 'node-group-auto-discovery'),
      'asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/prod-eu',
    );
  });

  it('is deterministic: the same input gives the same list', () => {
    // GIVEN
    const profile = { scanInterval: Duration.seconds(20), balanceSimilarNodeGroups: true };
    // WHEN / THEN
    assert.deepEqual(
      clusterAutoscalerFlags(profile, 'aws', 'a'),
      clusterAutoscalerFlags(profile, 'aws', 'a'),
    );
  });

  it('renders overrides and keeps the other defaults', () => {
    // GIVEN
    const profile: Partial<AutoscalerProfile> = {
      scanInterval: Duration.seconds(30),
      scaleDownUnneededTime: Duration.minutes(5),
      scaleDownDelayAfterAdd: Duration.seconds(90),
      scaleDownUtilizationThreshold: 0.65,
      balanceSimilarNodeGroups: true,
      skipNodesWithLocalStorage: false,
      maxScaleDownParallelism: 3,
      expander: Expander.mostPods(),
    };
    // WHEN
    const flags = clusterAutoscalerFlags(profile, 'aws', 'prod');
    // THEN
    assert.equal(flagValue(flags, 'scan-interval'), '30s');
    assert.equal(flagValue(flags, 'scale-down-unneeded-time'), '5m0s');
    assert.equal(flagValue(flags, 'scale-down-delay-after-add'), '1m30s');
    assert.equal(flagValue(flags, 'scale-down-utilization-threshold'), '0.65');
    assert.equal(flagValue(flags, 'balance-similar-node-groups'), 'true');
    assert.equal(flagValue(flags, 'skip-nodes-with-local-storage'), 'false');
    assert.equal(flagValue(flags, 'max-scale-down-parallelism'), '3');
    assert.equal(flagValue(flags, 'expander'), 'most-pods');
    assert.equal(flagValue(flags, 'scale-down-unready-time'), '20m0s');
  });

  it('ignores fields explicitly set to undefined', () => {
    // GIVEN / WHEN
    const flags = clusterAutoscalerFlags({ scanInterval: undefined }, 'aws', 'prod');
    // THEN
    assert.equal(flagValue(flags, 'scan-interval'), '10s');
  });

  it('refuses AKS, whose managed autoscaler takes the profile as autoScalerProfile', () => {
    // GIVEN / WHEN / THEN
    assertPropError(() => clusterAutoscalerFlags({}, 'azure', 'prod'), 'cloud', '"azure"');
  });

  it('refuses a cluster name that cannot be an ASG tag suffix', () => {
    // GIVEN / WHEN / THEN
    assertPropError(() => clusterAutoscalerFlags({}, 'aws', 'bad name'), 'clusterName', '"bad name"');
  });
});

describe('Expander', () => {
  it('renders each upstream strategy', () => {
    // GIVEN / WHEN / THEN
    assert.equal(Expander.leastWaste().toString(), 'least-waste');
    assert.equal(Expander.mostPods().toString(), 'most-pods');
    assert.equal(Expander.random().toString(), 'random');
    assert.equal(Expander.priority({ 10: ['.*'] }).toString(), 'priority');
  });

  it('chains strategies in order and keeps the priority tiers', () => {
    // GIVEN
    const priorities = { 10: ['.*spot.*'] };
    // WHEN
    const chain = Expander.priority(priorities).then(Expander.leastWaste()).then(Expander.random());
    // THEN
    assert.equal(chain.toString(), 'priority,least-waste,random');
    assert.equal(chain.usesPriority, true);
    assert.deepEqual(chain.priorities, priorities);
    assert.equal(Expander.leastWaste().usesPriority, false);
  });

  it('refuses two priority expanders in one chain', () => {
    // GIVEN / WHEN / THEN
    assertPropError(
      () => Expander.priority({ 1: ['a'] }).then(Expander.priority({ 2: ['b'] })),
      'expander',
      'priority',
    );
  });

  it('refuses a strategy repeated in a chain', () => {
    // GIVEN
    const chain = Expander.leastWaste().then(Expander.leastWaste());
    // WHEN / THEN
    assertPropError(() => resolveAutoscalerProfile({ expander: chain }), 'profile.expander', 'least-waste');
  });
});

describe('resolveAutoscalerProfile validation', () => {
  it('returns the defaults for an empty profile', () => {
    // GIVEN / WHEN
    const resolved = resolveAutoscalerProfile({});
    // THEN
    assert.deepEqual(
      clusterAutoscalerFlags(resolved, 'aws', 'x'),
      clusterAutoscalerFlags(DEFAULT_AUTOSCALER_PROFILE, 'aws', 'x'),
    );
  });

  for (const threshold of [0, -0.1, 1.01, Number.NaN]) {
    it(`refuses utilization threshold ${threshold} outside (0, 1]`, () => {
      // GIVEN / WHEN / THEN
      assertPropError(
        () => resolveAutoscalerProfile({ scaleDownUtilizationThreshold: threshold }),
        'profile.scaleDownUtilizationThreshold',
        String(threshold),
      );
    });
  }

  it('accepts a utilization threshold of exactly 1', () => {
    // GIVEN / WHEN / THEN
    assert.equal(
      resolveAutoscalerProfile({ scaleDownUtilizationThreshold: 1 }).scaleDownUtilizationThreshold,
      1,
    );
  });

  it('names the duration, not "[object Object]", when it is not whole milliseconds', () => {
    assert.throws(
      () => resolveAutoscalerProfile({ scanInterval: Duration.millis(0.5) }),
      /^PropError: profile\.scanInterval: must be a whole number of milliseconds .*\(got "0\.5 millis"\)$/,
    );
  });

  it('refuses a zero scan interval and a zero provision time', () => {
    // GIVEN / WHEN / THEN
    assertPropError(
      () => resolveAutoscalerProfile({ scanInterval: Duration.seconds(0) }),
      'profile.scanInterval',
      '"0s"',
    );
    assertPropError(
      () => resolveAutoscalerProfile({ maxNodeProvisionTime: Duration.seconds(0) }),
      'profile.maxNodeProvisionTime',
      '"0s"',
    );
  });

  it('refuses negative durations (cdk8s cannot build one; a forged one is caught)', () => {
    // GIVEN: cdk8s itself refuses negative amounts
    assert.throws(() => Duration.seconds(-1), /cannot be negative/);
    // WHEN: something duration-like with a negative value slips through
    const forged = Object.create(Duration.prototype, {
      toMilliseconds: { value: () => -5000 },
    }) as Duration;
    // THEN
    assertPropError(
      () => resolveAutoscalerProfile({ scaleDownDelayAfterAdd: forged }),
      'profile.scaleDownDelayAfterAdd',
      '-5000ms',
    );
  });

  it('refuses a value that is not a Duration', () => {
    // GIVEN / WHEN / THEN
    assertPropError(
      () => resolveAutoscalerProfile({ scanInterval: '10s' as unknown as Duration }),
      'profile.scanInterval',
      '"10s"',
    );
  });

  it('refuses bad integer fields, naming field and value', () => {
    // GIVEN / WHEN / THEN
    assertPropError(
      () => resolveAutoscalerProfile({ maxGracefulTerminationSec: -1 }),
      'profile.maxGracefulTerminationSec',
      '-1',
    );
    assertPropError(
      () => resolveAutoscalerProfile({ maxScaleDownParallelism: 0 }),
      'profile.maxScaleDownParallelism',
      '0',
    );
    assertPropError(
      () => resolveAutoscalerProfile({ expendablePodsPriorityCutoff: 1.5 }),
      'profile.expendablePodsPriorityCutoff',
      '1.5',
    );
    assertPropError(
      () => resolveAutoscalerProfile({ maxTotalUnreadyPercentage: 101 }),
      'profile.maxTotalUnreadyPercentage',
      '101',
    );
  });

  it('refuses a non-boolean switch', () => {
    // GIVEN / WHEN / THEN
    assertPropError(
      () => resolveAutoscalerProfile({ balanceSimilarNodeGroups: 'yes' as unknown as boolean }),
      'profile.balanceSimilarNodeGroups',
      '"yes"',
    );
  });

  it('refuses an unknown field', () => {
    // GIVEN
    const typo = { scanIntervall: Duration.seconds(5) } as unknown as Partial<AutoscalerProfile>;
    // WHEN / THEN
    assertPropError(() => resolveAutoscalerProfile(typo), 'profile.scanIntervall', 'profile field');
  });

  it('uses the caller-given prop prefix in errors', () => {
    // GIVEN / WHEN / THEN
    assertPropError(
      () => resolveAutoscalerProfile({ scaleDownUtilizationThreshold: 2 }, 'environments.prod.autoscaler'),
      'environments.prod.autoscaler.scaleDownUtilizationThreshold',
      '2',
    );
  });
});

describe('priority expander tiers', () => {
  it('refuses empty tiers, empty lists, non-integer keys and bad regexes', () => {
    // GIVEN / WHEN / THEN
    assertPropError(
      () => resolveAutoscalerProfile({ expander: Expander.priority({}) }),
      'profile.expander.priorities',
      '{}',
    );
    assertPropError(
      () => resolveAutoscalerProfile({ expander: Expander.priority({ 10: [] }) }),
      'profile.expander.priorities[10]',
      '[]',
    );
    assertPropError(
      () =>
        resolveAutoscalerProfile({
          expander: Expander.priority({ '1.5': ['a'] } as unknown as Record<number, string[]>),
        }),
      'profile.expander.priorities',
      '"1.5"',
    );
    assertPropError(
      () => resolveAutoscalerProfile({ expander: Expander.priority({ 10: ['ok', '(unclosed'] }) }),
      'profile.expander.priorities[10][1]',
      '"(unclosed"',
    );
    assertPropError(
      () => resolveAutoscalerProfile({ expander: Expander.priority({ 10: [''] }) }),
      'profile.expander.priorities[10][0]',
      '""',
    );
    assertPropError(
      () => resolveAutoscalerProfile({ expander: Expander.priority({ 10: ['a\nb'] }) }),
      'profile.expander.priorities[10][0]',
      'control characters',
    );
  });

  it('renders YAML that parses back to integer priority → regex list', () => {
    // GIVEN
    const priorities = { 50: ['.*on-demand.*'], 10: ['.*spot.*', "it's: #odd"], [-5]: ['fallback'] };
    // WHEN
    const rendered = renderExpanderPriorities(priorities);
    // THEN: tiers ascending, and the YAML means exactly the input
    assert.equal(rendered.indexOf('-5:') < rendered.indexOf('10:'), true);
    assert.equal(rendered.indexOf('10:') < rendered.indexOf('50:'), true);
    assert.deepEqual(parse(rendered), {
      [-5]: ['fallback'],
      10: ['.*spot.*', "it's: #odd"],
      50: ['.*on-demand.*'],
    });
  });
});
