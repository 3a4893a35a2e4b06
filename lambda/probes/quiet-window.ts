/**
 * The sweep's quiet window: a stretch of time in which latency samples run one node at a time,
 * while no other probe has a command in flight. Every node's first PING goes out in parallel; a
 * reply that arrives while the event loop is busy with the other nodes' replies waits its turn,
 * and a timer around it would count that wait as the node's latency (36 nodes on one core made
 * PING look 20-50 times slower than redis-benchmark sees it). In the window the process has
 * nothing to do but the one sample, so the figure is the round trip and little else.
 *
 * The window opens when every node has arrived (its first PING answered, failed, or it could not
 * be probed at all) or after a grace period, so one hung node cannot hold the sweep back. It
 * closes once its queue is empty; the sweep's other probes start then. Work submitted after it
 * closed runs at once, without the quiet guarantee (a node slower than the grace).
 */
export class QuietWindow {
  readonly #waiting = new Set<string>();
  readonly #queue: (() => Promise<void>)[] = [];
  readonly #closed: Promise<void>;
  #close: () => void = () => undefined;
  #graceOver = false;
  #open = false;
  #draining = false;
  #isClosed = false;
  #timer: NodeJS.Timeout | undefined;

  /** `members`: one key per node expected to arrive. */
  constructor(members: readonly string[]) {
    for (const member of members) this.#waiting.add(member);
    this.#closed = new Promise((resolve) => {
      this.#close = resolve;
    });
  }

  /** Starts the grace period; the window opens at its end at the latest. */
  start(graceMs: number): void {
    this.#timer = setTimeout(() => {
      this.#graceOver = true;
      this.#maybeOpen();
    }, graceMs);
    this.#maybeOpen();
  }

  /** Resolves when the window has closed: the sweep's other probes may start. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** The member needs no (more) quiet time: it answered, failed or was never probed. */
  arrive(member: string): void {
    if (this.#waiting.delete(member)) this.#maybeOpen();
  }

  /** Runs `op` alone in the window (after `arrive(member)`); at once if the window is closed. */
  run<T>(member: string, op: () => Promise<T>): Promise<T> {
    this.arrive(member);
    if (this.#isClosed) return op();
    return new Promise<T>((resolve, reject) => {
      this.#queue.push(() => op().then(resolve, reject));
      void this.#drain();
    });
  }

  /** Closes the window now (the sweep is over); queued work still runs, unguarded. */
  abandon(): void {
    this.#graceOver = true;
    this.#open = true;
    this.#finish();
  }

  #maybeOpen(): void {
    if (this.#open || this.#isClosed) return;
    if (this.#waiting.size > 0 && !this.#graceOver) return;
    this.#open = true;
    void this.#drain();
  }

  async #drain(): Promise<void> {
    if (!this.#open || this.#draining) return;
    this.#draining = true;
    try {
      for (let work = this.#queue.shift(); work; work = this.#queue.shift()) {
        if (this.#isClosed) void work();
        else await work();
      }
    } finally {
      this.#draining = false;
    }
    if (this.#waiting.size === 0 || this.#graceOver) this.#finish();
  }

  #finish(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    clearTimeout(this.#timer);
    for (let work = this.#queue.shift(); work; work = this.#queue.shift()) void work();
    this.#close();
  }
}
