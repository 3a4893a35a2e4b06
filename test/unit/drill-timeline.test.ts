import { describe, expect, it } from 'vitest';
import { renderEvent, renderSummary, renderTimeline } from '../../tools/render/drill-timeline.js';
import type { DrillReport } from '../../lambda/drill/types.js';

const recovered: DrillReport = {
  cluster: 'orders-cache',
  shard: '0-5460',
  trigger: 'pause-primary',
  oldPrimary: '127.0.0.1:7001',
  newPrimary: '127.0.0.1:7004',
  startedAt: '2026-11-22T10:00:00.000Z',
  recovered: true,
  writeOutageMs: 2624,
  readOutageMs: 969,
  primaryReadOutageMs: 2620,
  replicaReadOutageMs: 1002,
  ackedWrites: 24,
  lostWrites: 0,
  durationMs: 4020,
  timeline: [
    { t: 0, event: 'drill started', detail: 'pause-primary on orders-cache' },
    { t: 1222, event: 'trigger', detail: 'SIGSTOP pid 42 (primary 127.0.0.1:7001)' },
    // Out of order on purpose: a failure is known only when it times out.
    { t: 3814, event: 'new primary observed', detail: '127.0.0.1:7004' },
    { t: 1225, event: 'first failed write', detail: '#19: timeout after 500 ms (reply)' },
    { t: 4015, event: 'cluster ok' },
    { t: 4015, event: 'recovered', detail: '2.79 s after the trigger' },
  ],
};

describe('renderTimeline', () => {
  it('lists the events in time order with t in seconds, then the figures', () => {
    // Act
    const text = renderTimeline(recovered);

    // Assess
    expect(text.split('\n')).toEqual([
      'failover drill of shard 0-5460 on orders-cache, trigger pause-primary, started 2026-11-22T10:00:00.000Z',
      '',
      '   t (s)  event                         detail',
      '   0.000  drill started                 pause-primary on orders-cache',
      '   1.222  trigger                       SIGSTOP pid 42 (primary 127.0.0.1:7001)',
      '   1.225  first failed write            #19: timeout after 500 ms (reply)',
      '   3.814  new primary observed          127.0.0.1:7004',
      '   4.015  cluster ok',
      '   4.015  recovered                     2.79 s after the trigger',
      '',
      'outcome       recovered 2.79 s after the trigger',
      'primary       127.0.0.1:7001 -> 127.0.0.1:7004',
      'write outage  2.62 s',
      'read outage   0.97 s (any node of the shard), 2.62 s via the primary, 1.00 s via the replicas',
      'writes        24 acknowledged, 0 lost',
      'duration      4.02 s',
    ]);
  });

  it('says plainly when the shard did not recover, and what was not verified', () => {
    // Prepare
    const report: DrillReport = {
      ...recovered,
      recovered: false,
      newPrimary: '',
      lostWrites: 3,
      unverifiedWrites: 7,
      timeline: [{ t: 120_000, event: 'time limit reached' }],
    };

    // Act
    const text = renderTimeline(report);

    // Assess
    expect(text).toContain('outcome       NOT RECOVERED within the time limit');
    expect(text).toContain('primary       127.0.0.1:7001 -> (none observed)');
    expect(text).toContain('writes        24 acknowledged, 3 lost, 7 not verified');
    expect(text).toContain(' 120.000  time limit reached');
  });

  it('gives the reason of an aborted drill', () => {
    // Prepare
    const report: DrillReport = {
      ...recovered,
      recovered: false,
      shard: '',
      oldPrimary: '',
      newPrimary: '',
      aborted: 'another drill is running on this cluster',
      timeline: [
        { t: 0, event: 'drill started' },
        { t: 5, event: 'aborted', detail: 'another drill is running on this cluster' },
      ],
    };

    // Act
    const text = renderTimeline(report);

    // Assess
    expect(text).toContain('shard (none)');
    expect(text).toContain('outcome       ABORTED before the trigger: another drill is running');
    expect(text).toContain('primary       (unknown) -> (none observed)');
  });
});

describe('renderEvent', () => {
  it('prints an event without a detail without trailing spaces', () => {
    expect(renderEvent({ t: 12_345, event: 'cluster ok' })).toBe('  12.345  cluster ok');
  });
});

describe('renderSummary', () => {
  it('gives the heading and the figures without the events already shown live', () => {
    // Act
    const text = renderSummary(recovered);

    // Assess
    expect(text.split('\n')).toEqual([
      'failover drill of shard 0-5460 on orders-cache, trigger pause-primary, started 2026-11-22T10:00:00.000Z',
      '',
      'outcome       recovered 2.79 s after the trigger',
      'primary       127.0.0.1:7001 -> 127.0.0.1:7004',
      'write outage  2.62 s',
      'read outage   0.97 s (any node of the shard), 2.62 s via the primary, 1.00 s via the replicas',
      'writes        24 acknowledged, 0 lost',
      'duration      4.02 s',
    ]);
  });
});
