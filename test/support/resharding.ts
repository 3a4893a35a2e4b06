/**
 * Moves slots between primaries with the cluster protocol itself, as redis-cli --cluster reshard
 * does: IMPORTING on the target, MIGRATING on the source, GETKEYSINSLOT + MIGRATE ... KEYS until
 * the slot is empty, then SETSLOT NODE on every primary. `hold` runs between the keys moving and
 * the slots changing owner: the window in which the source answers ASK for a moved key.
 */
import type { Redis } from 'ioredis';
import type { LocalCluster } from '../../tools/local/local-cluster.js';

export interface Primary {
  readonly id: string;
  readonly port: number;
}

export interface BatchMove {
  readonly slots: readonly number[];
  readonly from: Primary;
  readonly to: Primary;
}

export interface MoveResult {
  /** Keys MIGRATE moved. */
  readonly keys: number;
  /** The probe's own keys among them. */
  readonly probeKeys: readonly string[];
}

const KEYS_PER_MIGRATE = 100;
const MIGRATE_TIMEOUT_MS = 5000;

/** Admin connections to every primary, kept for the whole resharding. */
export class Resharder {
  readonly #cluster: LocalCluster;
  readonly #admins = new Map<number, Redis>();

  private constructor(cluster: LocalCluster) {
    this.#cluster = cluster;
  }

  static async open(cluster: LocalCluster, primaries: readonly Primary[]): Promise<Resharder> {
    const resharder = new Resharder(cluster);
    for (const { port } of primaries) resharder.#admins.set(port, await cluster.connectAdmin(port));
    return resharder;
  }

  close(): void {
    for (const admin of this.#admins.values()) admin.disconnect();
  }

  async move(
    batch: BatchMove,
    hold: (moved: MoveResult) => Promise<void> = () => Promise.resolve(),
  ): Promise<MoveResult> {
    const source = this.#admin(batch.from.port);
    const target = this.#admin(batch.to.port);
    await expectOk(
      target.pipeline(
        batch.slots.map((slot) => ['cluster', 'setslot', slot, 'importing', batch.from.id]),
      ),
    );
    await expectOk(
      source.pipeline(
        batch.slots.map((slot) => ['cluster', 'setslot', slot, 'migrating', batch.to.id]),
      ),
    );
    let keys = 0;
    const probeKeys: string[] = [];
    for (const slot of batch.slots) {
      for (let round = 0; round < 1000; round++) {
        const inSlot = (await source.call(
          'CLUSTER',
          'GETKEYSINSLOT',
          slot,
          KEYS_PER_MIGRATE,
        )) as string[];
        if (inSlot.length === 0) break;
        // AUTH2 with the default user: the target requires the token of the cluster.
        await source.call(
          'MIGRATE',
          '127.0.0.1',
          batch.to.port,
          '',
          0,
          MIGRATE_TIMEOUT_MS,
          'AUTH2',
          'default',
          this.#cluster.settings.token,
          'KEYS',
          ...inSlot,
        );
        keys += inSlot.length;
        probeKeys.push(...inSlot.filter((key) => key.startsWith('slotwatch:')));
      }
    }
    await hold({ keys, probeKeys });
    // The target first, so that the source's MOVED never points at a node that refuses the slot.
    const order = [batch.to.port, batch.from.port, ...this.#admins.keys()].filter(
      (port, i, all) => all.indexOf(port) === i,
    );
    for (const port of order) {
      await expectOk(
        this.#admin(port).pipeline(
          batch.slots.map((slot) => ['cluster', 'setslot', slot, 'node', batch.to.id]),
        ),
      );
    }
    return { keys, probeKeys };
  }

  #admin(port: number): Redis {
    const admin = this.#admins.get(port);
    if (admin === undefined) throw new Error(`no admin connection to primary ${port}`);
    return admin;
  }
}

async function expectOk(pipeline: ReturnType<Redis['pipeline']>): Promise<void> {
  for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
}

/** `count` slots from `first` upwards (step 1) or downwards (step -1). */
export function slotRun(first: number, count: number, step: 1 | -1): number[] {
  return Array.from({ length: count }, (_, i) => first + i * step);
}

/** Splits `items` into batches of `size`. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}
