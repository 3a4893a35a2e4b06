/**
 * Outage maths for the drill's samples. Pure.
 *
 * A failed attempt counts from the moment it was sent (the client was already without service
 * then); a successful one from the moment its reply arrived (the service was back by then). A set
 * of streams is out when every one of them is failing: for a single stream that is "first failure
 * to first success after it", and for "any node of the shard" it is the time no node answered.
 * A stream is taken to be up until its first sample says otherwise, because the pre-checks found
 * every node answering.
 */
import type { Sample } from './types.js';

export interface OutageWindow {
  readonly start: number;
  /** Absent when the streams had not recovered by the last sample. */
  readonly end?: number;
}

interface Transition {
  readonly at: number;
  readonly ok: boolean;
  readonly stream: string;
}

const transitionOf = (sample: Sample): Transition => ({
  at: sample.ok ? sample.t + (sample.latencyMs ?? 0) : sample.t,
  ok: sample.ok,
  stream: sample.stream,
});

/** The periods during which every selected stream was failing, in time order. */
export function outageWindows(
  samples: readonly Sample[],
  select: (stream: string) => boolean,
): OutageWindow[] {
  const transitions = samples
    .filter((sample) => select(sample.stream))
    .map(transitionOf)
    // Successes first on a tie: two streams crossing at the same instant leave no gap.
    .sort((a, b) => a.at - b.at || Number(b.ok) - Number(a.ok));
  const up = new Map(transitions.map((transition) => [transition.stream, true]));
  const windows: OutageWindow[] = [];
  let openedAt: number | undefined;
  for (const { at, ok, stream } of transitions) {
    up.set(stream, ok);
    const allDown = [...up.values()].every((isUp) => !isUp);
    if (allDown && openedAt === undefined) openedAt = at;
    if (!allDown && openedAt !== undefined) {
      if (at > openedAt) windows.push({ start: openedAt, end: at });
      openedAt = undefined;
    }
  }
  if (openedAt !== undefined) windows.push({ start: openedAt });
  return windows;
}

/**
 * Total outage of the selected streams in whole milliseconds: the sum of their windows, so that
 * one gap gives exactly "first failure to first success after it" and several gaps add up. A
 * window still open at the end counts until `endT` (the drill's end): a lower bound.
 */
export function outageMs(
  samples: readonly Sample[],
  select: (stream: string) => boolean,
  endT: number,
): number {
  const total = outageWindows(samples, select).reduce(
    (sum, window) => sum + Math.max(0, (window.end ?? endT) - window.start),
    0,
  );
  return Math.round(total);
}

/** The streams behind each outage figure of the report. */
export const STREAMS = {
  write: (stream: string): boolean => stream === 'write',
  primaryRead: (stream: string): boolean => stream === 'read:primary',
  anyRead: (stream: string): boolean => stream.startsWith('read:'),
  nodeRead: (address: string): string => `read:${address}`,
} as const;

/** The four outage figures of a DrillReport. */
export function outageFigures(
  samples: readonly Sample[],
  replicaAddresses: readonly string[],
  endT: number,
): {
  writeOutageMs: number;
  readOutageMs: number;
  primaryReadOutageMs: number;
  replicaReadOutageMs: number;
} {
  const replicaStreams = new Set(replicaAddresses.map(STREAMS.nodeRead));
  return {
    writeOutageMs: outageMs(samples, STREAMS.write, endT),
    readOutageMs: outageMs(samples, STREAMS.anyRead, endT),
    primaryReadOutageMs: outageMs(samples, STREAMS.primaryRead, endT),
    replicaReadOutageMs: outageMs(samples, (stream) => replicaStreams.has(stream), endT),
  };
}
