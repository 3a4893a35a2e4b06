import { describe, expect, it } from 'vitest';
import { renderReport } from '../../tools/render/sweep-table.js';
import { fail, nodeReport, pass, sweepReport, threeShardTopology } from '../support/reports.js';

const [primary, replica] = threeShardTopology().nodes;

describe('renderReport', () => {
  it('shows a row per node, latencies, the checks and an overall OK', () => {
    // Prepare
    const report = sweepReport([
      nodeReport(primary!, {
        ping: pass(0.41),
        read: pass(0.52),
        pipeline: pass(0.77),
        write: pass(0.6),
      }),
      nodeReport(replica!, {
        ping: pass(0.38),
        read: pass(0.5),
        pipeline: pass(0.7),
        replication: pass(1.25),
      }),
    ]);

    // Act
    const lines = renderReport(report, 'round 1/1').split('\n');

    // Assess
    expect(lines[0]).toBe('round 1/1');
    expect(lines[1]).toMatch(/^NODE\s+ROLE\s+SHARD\s+OK\s+PING\s+READ\s+PIPELINE\s+WRITE\s+REPL$/);
    expect(lines[2]).toMatch(
      /^10\.0\.0\.1:7001\s+primary\s+0-5460\s+ok\s+0\.41ms\s+0\.52ms\s+0\.77ms\s+0\.60ms\s+-$/,
    );
    expect(lines[3]).toMatch(
      /^10\.0\.0\.1:7004\s+replica\s+0-5460\s+ok\s+0\.38ms\s+0\.50ms\s+0\.70ms\s+-\s+1\.25ms$/,
    );
    expect(lines).toContain('crossSlot      ok    2.10ms, 6 keys over 3 shards, 0 redirects');
    expect(lines.at(-1)).toBe(
      'OK   orders-cache: 2/2 nodes healthy, 3 shards, sweep 41.7ms, 0 reconnects',
    );
  });

  it('marks failures with numbered causes and an overall FAIL', () => {
    // Prepare
    const report = sweepReport(
      [
        nodeReport(primary!, {
          ping: fail('timeout after 1000 ms (reply)'),
          read: fail('not attempted: timeout after 1000 ms (reply)'),
        }),
        nodeReport(replica!, {
          ping: pass(0.38),
          replication: {
            ok: false,
            latencyMs: null,
            error: 'not measured: the primary failed',
            skipped: true,
          },
        }),
      ],
      {
        ok: false,
        checks: {
          crossSlot: {
            ok: false,
            latencyMs: null,
            shards: 3,
            error: 'crossSlot: timeout after 1000 ms (reply)',
          },
          slots: { ok: false, covered: 10923, uncovered: '0-5460' },
          clusterState: { ok: false, failing: ['10.0.0.1:7004'] },
          slotMap: { ok: false, disagreeing: ['10.0.0.1:7004'] },
        },
      },
    );

    // Act
    const text = renderReport(report);

    // Assess
    expect(text).toMatch(/^10\.0\.0\.1:7001\s+primary\s+0-5460\s+FAIL\s+FAIL\[1\]\s+FAIL\[2\]/m);
    expect(text).toContain('  [1] 10.0.0.1:7001 ping: timeout after 1000 ms (reply)');
    expect(text).toContain('  [3] 10.0.0.1:7004 replication: not measured: the primary failed');
    expect(text).toMatch(/skip\[3\]$/m);
    expect(text).toContain('crossSlot      FAIL  crossSlot: timeout after 1000 ms (reply)');
    expect(text).toContain(
      'slots          FAIL  10923/16384 served by a reachable primary (uncovered: 0-5460)',
    );
    expect(text).toContain('cluster_state  FAIL  not ok on 10.0.0.1:7004');
    expect(text).toContain('slot map       FAIL  disagreeing: 10.0.0.1:7004');
    expect(text.split('\n').at(-1)).toMatch(/^FAIL orders-cache: 1\/2 nodes healthy/);
  });

  it('names the nodes whose slot map is still settling, as ok', () => {
    // Prepare
    const base = sweepReport([]);
    const report = sweepReport([], {
      checks: {
        ...base.checks,
        slotMap: { ok: true, disagreeing: [], settling: ['10.0.0.1:7004'] },
      },
    });

    // Act
    const text = renderReport(report);

    // Assess
    expect(text).toContain(
      'slot map       ok    settling (slots just moved, not yet known there): 10.0.0.1:7004',
    );
  });

  it('says so when no node is known, with the topology error', () => {
    const text = renderReport(
      sweepReport([], { ok: false, error: 'topology: refused: nothing listens on that port' }),
    );
    expect(text).toContain('(no nodes known)');
    expect(text).toContain('error          topology: refused: nothing listens on that port');
  });
});
