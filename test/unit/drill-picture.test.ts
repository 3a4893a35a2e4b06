import { describe, expect, it } from 'vitest';
import { renderDrillHtml } from '../../tools/render/drill-picture.js';
import type { DrillReport, Sample } from '../../lambda/drill/types.js';

function report(samples: Sample[]): DrillReport {
  return {
    cluster: 'orders',
    shard: '0-5460',
    trigger: 'pause-primary',
    oldPrimary: '127.0.0.1:7001',
    newPrimary: '127.0.0.1:7004',
    startedAt: '2026-11-22T10:00:00.000Z',
    recovered: true,
    writeOutageMs: 2300,
    readOutageMs: 0,
    primaryReadOutageMs: 2400,
    replicaReadOutageMs: 0,
    ackedWrites: 120,
    lostWrites: 0,
    durationMs: 6000,
    timeline: [
      { t: 0, event: 'drill started' },
      { t: 1000, event: 'trigger', detail: 'SIGSTOP <pid 42>' },
      { t: 3300, event: 'new primary observed', detail: '127.0.0.1:7004' },
    ],
    samples,
  };
}

describe('renderDrillHtml', () => {
  it('draws a row per stream with a tick per sample, coloured by success, and the events', () => {
    // Prepare
    const samples: Sample[] = [
      { t: 100, ok: true, stream: 'write' },
      { t: 1200, ok: false, stream: 'write', error: 'timeout after 1000 ms (reply)' },
      { t: 150, ok: true, stream: 'read:127.0.0.1:7004' },
      { t: 160, ok: true, stream: 'read:primary' },
    ];

    // Act
    const html = renderDrillHtml(report(samples));

    // Assess
    const labels = [...html.matchAll(/class="label">([^<]+)</g)].map((m) => m[1]);
    expect(labels).toEqual(['writes (primary)', 'reads via primary', 'reads 127.0.0.1:7004']);
    expect(html.match(/<rect /g)).toHaveLength(4);
    expect(html.match(/fill="#d64545"/g)).toHaveLength(1);
    expect(html).toContain('failed: timeout after 1000 ms (reply)');
    expect([...html.matchAll(/class="event-label">([^<]+)</g)].map((m) => m[1])).toEqual([
      'drill started',
      'trigger',
      'new primary observed',
    ]);
    expect(html).toContain('<td>2.30 s</td>');
    expect(html).toContain('127.0.0.1:7001 → 127.0.0.1:7004');
  });

  it('escapes text from the cluster, and needs nothing outside the page', () => {
    const html = renderDrillHtml(
      report([{ t: 1, ok: false, stream: 'write', error: '<script>alert(1)</script>' }]),
    );
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('SIGSTOP &lt;pid 42&gt;');
    expect(html).not.toMatch(/(src|href)=/);
  });

  it('says plainly when the shard did not recover', () => {
    const html = renderDrillHtml({ ...report([]), recovered: false, newPrimary: '' });
    expect(html).toContain('NOT recovered within the time limit');
    expect(html).toContain('(none observed)');
  });
});
