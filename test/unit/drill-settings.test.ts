import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lambda/errors.js';
import { loadDrillSettings, type DrillFlags } from '../../lambda/drill/settings.js';

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadDrillSettings defaults', () => {
  it('applies the defaults, with the caller choosing the trigger', () => {
    // Act
    const cli = loadDrillSettings({});
    const lambda = loadDrillSettings(
      { ELASTICACHE_REPLICATION_GROUP_ID: 'orders' },
      {},
      'elasticache',
    );

    // Assess
    expect(cli).toEqual({
      trigger: 'cluster-failover',
      timeLimitMs: 120_000,
      writeIntervalMs: 50,
      readIntervalMs: 100,
    });
    expect(lambda).toMatchObject({ trigger: 'elasticache', replicationGroupId: 'orders' });
  });

  it('reads every variable, trimmed', () => {
    // Act
    const settings = loadDrillSettings({
      DRILL_TRIGGER: ' pause-primary ',
      DRILL_SHARD: '0-5460',
      DRILL_TIME_LIMIT_MS: '30000',
      DRILL_WRITE_INTERVAL_MS: '100',
      DRILL_READ_INTERVAL_MS: '250',
      ELASTICACHE_REPLICATION_GROUP_ID: 'orders-cache',
    });

    // Assess
    expect(settings).toEqual({
      trigger: 'pause-primary',
      shard: '0-5460',
      timeLimitMs: 30_000,
      writeIntervalMs: 100,
      readIntervalMs: 250,
      replicationGroupId: 'orders-cache',
    });
  });

  it('lets a flag override its variable, and treats an empty variable as unset', () => {
    // Prepare
    const flags: DrillFlags = {
      DRILL_TRIGGER: { value: 'pause-primary', flag: '--trigger' },
      DRILL_SHARD: { value: '5461-10922', flag: '--shard' },
    };

    // Act
    const settings = loadDrillSettings(
      { DRILL_TRIGGER: 'elasticache', DRILL_SHARD: '0-5460', DRILL_TIME_LIMIT_MS: '  ' },
      flags,
    );

    // Assess
    expect(settings).toMatchObject({
      trigger: 'pause-primary',
      shard: '5461-10922',
      timeLimitMs: 120_000,
    });
  });
});

describe('loadDrillSettings rejects bad values, naming the variable and the value', () => {
  const cases: [string, Record<string, string>, string, RegExp][] = [
    [
      'an unknown trigger',
      { DRILL_TRIGGER: 'kill-9' },
      'DRILL_TRIGGER',
      /one of cluster-failover, pause-primary, elasticache, got "kill-9"/,
    ],
    [
      'a trigger in capitals',
      { DRILL_TRIGGER: 'Pause-Primary' },
      'DRILL_TRIGGER',
      /got "Pause-Primary"/,
    ],
    [
      'elasticache without a group',
      { DRILL_TRIGGER: 'elasticache' },
      'ELASTICACHE_REPLICATION_GROUP_ID',
      /ELASTICACHE_REPLICATION_GROUP_ID is required for the elasticache trigger/,
    ],
    [
      'a group id with a space',
      { ELASTICACHE_REPLICATION_GROUP_ID: 'my group' },
      'ELASTICACHE_REPLICATION_GROUP_ID',
      /got "my group"/,
    ],
    [
      'a group id starting with a digit',
      { ELASTICACHE_REPLICATION_GROUP_ID: '1orders' },
      'ELASTICACHE_REPLICATION_GROUP_ID',
      /got "1orders"/,
    ],
    [
      'a group id with two hyphens in a row',
      { ELASTICACHE_REPLICATION_GROUP_ID: 'a--b' },
      'ELASTICACHE_REPLICATION_GROUP_ID',
      /got "a--b"/,
    ],
    [
      'a group id ending in a hyphen',
      { ELASTICACHE_REPLICATION_GROUP_ID: 'orders-' },
      'ELASTICACHE_REPLICATION_GROUP_ID',
      /got "orders-"/,
    ],
    [
      'a group id of 41 characters',
      { ELASTICACHE_REPLICATION_GROUP_ID: `a${'b'.repeat(40)}` },
      'ELASTICACHE_REPLICATION_GROUP_ID',
      /1 to 40/,
    ],
    ['a shard id with a space', { DRILL_SHARD: '0 5460' }, 'DRILL_SHARD', /got "0 5460"/],
    [
      'a non-numeric time limit',
      { DRILL_TIME_LIMIT_MS: '2m' },
      'DRILL_TIME_LIMIT_MS',
      /between 1000 and 900000, got "2m"/,
    ],
    [
      'a time limit below a second',
      { DRILL_TIME_LIMIT_MS: '999' },
      'DRILL_TIME_LIMIT_MS',
      /got "999"/,
    ],
    [
      'a time limit above 15 minutes',
      { DRILL_TIME_LIMIT_MS: '900001' },
      'DRILL_TIME_LIMIT_MS',
      /got "900001"/,
    ],
    ['a negative time limit', { DRILL_TIME_LIMIT_MS: '-5' }, 'DRILL_TIME_LIMIT_MS', /got "-5"/],
    [
      'a write interval above 100 ms',
      { DRILL_WRITE_INTERVAL_MS: '101' },
      'DRILL_WRITE_INTERVAL_MS',
      /between 10 and 100, got "101"/,
    ],
    [
      'a write interval of zero',
      { DRILL_WRITE_INTERVAL_MS: '0' },
      'DRILL_WRITE_INTERVAL_MS',
      /got "0"/,
    ],
    [
      'a fractional write interval',
      { DRILL_WRITE_INTERVAL_MS: '50.5' },
      'DRILL_WRITE_INTERVAL_MS',
      /got "50.5"/,
    ],
    [
      'a read interval in seconds',
      { DRILL_READ_INTERVAL_MS: '1s' },
      'DRILL_READ_INTERVAL_MS',
      /between 10 and 10000, got "1s"/,
    ],
    [
      'a read interval above 10 s',
      { DRILL_READ_INTERVAL_MS: '10001' },
      'DRILL_READ_INTERVAL_MS',
      /got "10001"/,
    ],
  ];

  it.each(cases)('%s', (_name, env, setting, message) => {
    // Act
    const error = configError(() => loadDrillSettings(env));

    // Assess
    expect(error.setting).toBe(setting);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(setting)).toBe(true);
  });

  it('names the flag when the bad value came from one', () => {
    // Act
    const error = configError(() =>
      loadDrillSettings({}, { DRILL_TRIGGER: { value: 'nope', flag: '--trigger' } }),
    );

    // Assess
    expect(error.setting).toBe('--trigger');
    expect(error.message).toBe(
      '--trigger must be one of cluster-failover, pause-primary, elasticache, got "nope"',
    );
  });
});
