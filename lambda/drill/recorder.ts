/**
 * What the drill saw, on one clock: the timeline's events (each name once, except where noted)
 * and every sample of the writer and the readers.
 */
import type { Sample, TimelineEvent, TimelineEventName } from './types.js';

const tenth = (ms: number): number => Math.round(ms * 10) / 10;

export class Recorder {
  readonly startedAt = new Date();
  readonly #start = performance.now();
  readonly #events: TimelineEvent[] = [];
  readonly #samples: Sample[] = [];
  readonly #onEvent: ((event: TimelineEvent) => void) | undefined;

  constructor(onEvent?: (event: TimelineEvent) => void) {
    this.#onEvent = onEvent;
  }

  /** Milliseconds since the drill started. */
  now(): number {
    return performance.now() - this.#start;
  }

  /** Records an event now (or at `t`, for one known only afterwards) and passes it on live. */
  event(name: TimelineEventName, detail?: string, t: number = this.now()): void {
    const event: TimelineEvent = {
      t: Math.round(t),
      event: name,
      ...(detail !== undefined && { detail }),
    };
    this.#events.push(event);
    try {
      this.#onEvent?.(event);
    } catch {
      // A failing progress printer must not end the drill.
    }
  }

  /** Records `name` unless it already happened; says whether it was recorded. */
  once(name: TimelineEventName, detail?: string, t?: number): boolean {
    if (this.has(name)) return false;
    this.event(name, detail, t);
    return true;
  }

  has(name: TimelineEventName): boolean {
    return this.#events.some((event) => event.event === name);
  }

  timeOf(name: TimelineEventName): number | undefined {
    return this.#events.find((event) => event.event === name)?.t;
  }

  /** One attempt of a stream, sent at `sentAt` (ms since the start) and settled now. */
  sample(stream: string, sentAt: number, outcome: { ok: true } | { ok: false; error: string }) {
    const latencyMs = Math.round((this.now() - sentAt) * 1000) / 1000;
    this.#samples.push({
      t: tenth(sentAt),
      ok: outcome.ok,
      stream,
      latencyMs,
      ...(!outcome.ok && { error: outcome.error }),
    });
  }

  get timeline(): readonly TimelineEvent[] {
    return [...this.#events].sort((a, b) => a.t - b.t);
  }

  get samples(): readonly Sample[] {
    return this.#samples;
  }
}
