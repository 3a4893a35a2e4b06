import { describe, expect, it } from 'vitest';
import { outageFigures, outageMs, outageWindows, STREAMS } from '../../lambda/drill/outage.js';
import type { Sample } from '../../lambda/drill/types.js';

const ok = (stream: string, t: number, latencyMs = 0): Sample => ({
  t,
  ok: true,
  stream,
  latencyMs,
});
const fail = (stream: string, t: number, latencyMs = 500): Sample => ({
  t,
  ok: false,
  stream,
  latencyMs,
  error: 'timeout after 500 ms (reply)',
});

describe('outageWindows and outageMs for one stream', () => {
  it('is zero when nothing failed', () => {
    // Prepare
    const samples = [ok('write', 0, 1), ok('write', 50, 1), ok('write', 100, 1)];

    // Act
    const windows = outageWindows(samples, STREAMS.write);

    // Assess
    expect(windows).toEqual([]);
    expect(outageMs(samples, STREAMS.write, 1000)).toBe(0);
  });

  it('is zero without any sample of the stream', () => {
    expect(outageMs([ok('read:primary', 0)], STREAMS.write, 1000)).toBe(0);
  });

  it('runs from the first failure sent to the first success answered after it', () => {
    // Prepare: failures sent at 100, 600, 1100; the success sent at 1600 answers 2 ms later.
    const samples = [
      ok('write', 50, 1),
      fail('write', 100),
      fail('write', 600),
      fail('write', 1100),
      ok('write', 1600, 2),
      ok('write', 1650, 1),
    ];

    // Act
    const windows = outageWindows(samples, STREAMS.write);

    // Assess
    expect(windows).toEqual([{ start: 100, end: 1602 }]);
    expect(outageMs(samples, STREAMS.write, 5000)).toBe(1502);
  });

  it('counts a failure never recovered until the end of the drill', () => {
    // Prepare
    const samples = [ok('write', 0, 1), fail('write', 200), fail('write', 700)];

    // Act
    const windows = outageWindows(samples, STREAMS.write);

    // Assess
    expect(windows).toEqual([{ start: 200 }]);
    expect(outageMs(samples, STREAMS.write, 3000)).toBe(2800);
  });

  it('adds up several gaps', () => {
    // Prepare
    const samples = [
      fail('write', 100),
      ok('write', 600, 0),
      ok('write', 650, 0),
      fail('write', 1000, 100),
      fail('write', 1100, 100),
      ok('write', 1300, 0),
    ];

    // Act
    const windows = outageWindows(samples, STREAMS.write);

    // Assess
    expect(windows).toEqual([
      { start: 100, end: 600 },
      { start: 1000, end: 1300 },
    ]);
    expect(outageMs(samples, STREAMS.write, 5000)).toBe(800);
  });

  it('gives the same answer whatever order the samples come in', () => {
    // Prepare
    const ordered = [
      ok('write', 0, 1),
      fail('write', 100),
      fail('write', 600),
      ok('write', 1100, 3),
    ];
    const shuffled = [ordered[3], ordered[1], ordered[0], ordered[2]].filter(
      (sample): sample is Sample => sample !== undefined,
    );

    // Act
    const fromShuffled = outageMs(shuffled, STREAMS.write, 5000);

    // Assess
    expect(fromShuffled).toBe(outageMs(ordered, STREAMS.write, 5000));
    expect(fromShuffled).toBe(1003);
  });

  it('rounds to whole milliseconds', () => {
    expect(outageMs([fail('write', 10.4), ok('write', 20, 0.3)], STREAMS.write, 100)).toBe(10);
  });
});

describe('outages of several streams together', () => {
  it('is an outage only while every stream fails', () => {
    // Prepare: the primary fails from 100; the replica fails from 300 to 900; the primary is back at 2000.
    const samples = [
      ok('read:a', 0, 1),
      ok('read:b', 0, 1),
      fail('read:a', 100),
      fail('read:b', 300),
      fail('read:a', 600),
      ok('read:b', 900, 1),
      fail('read:a', 1100),
      ok('read:a', 2000, 1),
    ];

    // Act
    const windows = outageWindows(samples, STREAMS.anyRead);

    // Assess: from the moment b joined a in failing, to b's first answer.
    expect(windows).toEqual([{ start: 300, end: 901 }]);
  });

  it('counts a stream not heard from yet as up', () => {
    // Prepare: b's first sample comes after a has failed.
    const samples = [fail('read:a', 0), fail('read:b', 400), ok('read:a', 1000, 0)];

    // Act
    const windows = outageWindows(samples, STREAMS.anyRead);

    // Assess
    expect(windows).toEqual([{ start: 400, end: 1000 }]);
  });

  it('leaves no gap when one stream recovers at the instant the other fails', () => {
    const samples = [
      fail('read:a', 0),
      ok('read:b', 0, 0),
      fail('read:b', 100),
      ok('read:a', 100, 0),
    ];

    expect(outageWindows(samples, STREAMS.anyRead)).toEqual([]);
  });
});

describe('outageFigures', () => {
  it('derives the four report figures from their streams', () => {
    // Prepare
    const samples = [
      fail('write', 100),
      ok('write', 1100, 0),
      fail('read:primary', 100),
      ok('read:primary', 1200, 0),
      fail('read:10.0.0.1:6379', 100),
      fail('read:10.0.0.2:6379', 150),
      ok('read:10.0.0.2:6379', 400, 0),
      ok('read:10.0.0.1:6379', 3000, 0),
    ];

    // Act
    const figures = outageFigures(samples, ['10.0.0.2:6379'], 5000);

    // Assess
    expect(figures).toEqual({
      writeOutageMs: 1000,
      readOutageMs: 250,
      primaryReadOutageMs: 1100,
      replicaReadOutageMs: 250,
    });
  });

  it('measures no replica outage for a shard without replica streams', () => {
    expect(outageFigures([fail('read:primary', 0)], [], 100).replicaReadOutageMs).toBe(0);
  });
});
