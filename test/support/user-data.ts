/**
 * User data for the tests that prove the probe leaves it alone: keys of every type written to
 * whichever primary serves their slot, and snapshots (DUMP + PTTL) of everything outside the
 * probe's prefix, taken from every primary the cluster lists at the time.
 */
import type { Redis } from 'ioredis';
import { CANARY_PREFIX } from '../../lambda/cluster/canary-keys.js';
import { hashTagForSlot, keySlot } from '../../lambda/cluster/slots.js';
import { parseClusterShards, slotOwners, type Topology } from '../../lambda/cluster/topology.js';
import type { LocalCluster } from '../../tools/local/local-cluster.js';

export type UserKeyType = 'string' | 'hash' | 'list' | 'set' | 'zset';

export interface UserKey {
  readonly key: string;
  readonly type: UserKeyType;
  /** Written with PEXPIRE when set; long enough never to expire during a test. */
  readonly ttlMs?: number;
}

/** One key as DUMP, PTTL and a read of its whole value saw it. */
export interface KeyState {
  readonly type: string;
  /** DUMP, hex. */
  readonly dump: string;
  /** The value read back by type, sets sorted: see `changedKeys`. */
  readonly content: string;
  readonly pttl: number;
}

export interface Snapshot {
  /** Every key outside the probe's prefix, on every primary. */
  readonly user: ReadonlyMap<string, KeyState>;
  /** Every other key: the probe's, with its PTTL and its value's size. */
  readonly probe: ReadonlyMap<string, { readonly pttl: number; readonly bytes: number }>;
  /** Node id -> port of the primary each user key was found on. */
  readonly foundOn: ReadonlyMap<string, number>;
}

const TYPES: readonly UserKeyType[] = ['string', 'hash', 'list', 'set', 'zset'];

/** `count` keys in `slot`, cycling through the types; every third one with a TTL of an hour. */
export function userKeysInSlot(slot: number, count: number, prefix = 'user'): UserKey[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `${prefix}:{${hashTagForSlot(slot)}}:${i}`,
    type: TYPES[(slot + i) % TYPES.length] ?? 'string',
    ...(i % 3 === 2 && { ttlMs: 3_600_000 }),
  }));
}

/** The cluster's current topology, as the node on `port` reports it. */
export async function topologyFrom(cluster: LocalCluster, port: number): Promise<Topology> {
  const admin = await cluster.connectAdmin(port);
  try {
    return parseClusterShards(await admin.call('CLUSTER', 'SHARDS'), { tls: true });
  } finally {
    admin.disconnect();
  }
}

export function primaryPorts(topology: Topology): number[] {
  return topology.nodes.filter((node) => node.role === 'primary').map((node) => node.port);
}

/** Writes every key on the primary that serves its slot, in one pipeline per primary. */
export async function writeUserKeys(
  cluster: LocalCluster,
  keys: readonly UserKey[],
): Promise<void> {
  const topology = await topologyFrom(cluster, cluster.nodes[0]?.port ?? 0);
  const owners = slotOwners(topology);
  const portOfId = new Map(topology.nodes.map((node) => [node.id, node.port]));
  const byPort = new Map<number, UserKey[]>();
  for (const key of keys) {
    const port = portOfId.get(owners[keySlot(key.key)] ?? '');
    if (port === undefined) throw new Error(`no primary serves the slot of ${key.key}`);
    byPort.set(port, [...(byPort.get(port) ?? []), key]);
  }
  for (const [port, share] of byPort) {
    const admin = await cluster.connectAdmin(port);
    try {
      const pipeline = admin.pipeline();
      for (const { key, type, ttlMs } of share) {
        const value = `value of ${key}`;
        if (type === 'string') pipeline.set(key, value);
        if (type === 'hash') pipeline.hset(key, 'name', value, 'n', '1');
        if (type === 'list') pipeline.rpush(key, value, 'b', 'c');
        if (type === 'set') pipeline.sadd(key, value, 'b');
        if (type === 'zset') pipeline.zadd(key, 1, value, 2, 'b');
        if (ttlMs !== undefined) pipeline.pexpire(key, ttlMs);
      }
      for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
    } finally {
      admin.disconnect();
    }
  }
}

/** DUMP and PTTL of every key on every primary the topology lists (SCAN, so nothing is missed). */
export async function snapshot(cluster: LocalCluster): Promise<Snapshot> {
  const topology = await topologyFrom(cluster, cluster.nodes[0]?.port ?? 0);
  const user = new Map<string, KeyState>();
  const probe = new Map<string, { pttl: number; bytes: number }>();
  const foundOn = new Map<string, number>();
  for (const port of primaryPorts(topology)) {
    const admin = await cluster.connectAdmin(port);
    try {
      for (const key of await scanAll(admin)) {
        if (key.startsWith(CANARY_PREFIX)) {
          const [pttl, bytes] = await Promise.all([admin.pttl(key), valueBytes(admin, key)]);
          probe.set(key, { pttl, bytes });
          continue;
        }
        const [type, dump, pttl] = await Promise.all([
          admin.type(key),
          admin.dumpBuffer(key),
          admin.pttl(key),
        ]);
        if (user.has(key)) throw new Error(`${key} is on two primaries`);
        const content = await contentOf(admin, key, type);
        user.set(key, { type, dump: dump?.toString('hex') ?? 'missing', content, pttl });
        foundOn.set(key, port);
      }
    } finally {
      admin.disconnect();
    }
  }
  return { user, probe, foundOn };
}

/** Every key on one node, through SCAN (bounded: a test data set is far smaller). */
export async function scanAll(admin: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  for (let page = 0; page < 10_000; page++) {
    const [next, batch] = await admin.scan(cursor, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
    if (cursor === '0') return keys;
  }
  throw new Error('SCAN did not finish');
}

/** The whole value, by type, as JSON; members of a set sorted. */
async function contentOf(admin: Redis, key: string, type: string): Promise<string> {
  if (type === 'string') return JSON.stringify(await admin.get(key));
  if (type === 'hash') return JSON.stringify(await admin.hgetall(key));
  if (type === 'list') return JSON.stringify(await admin.lrange(key, 0, -1));
  if (type === 'set') return JSON.stringify((await admin.smembers(key)).sort());
  if (type === 'zset') return JSON.stringify(await admin.zrange(key, 0, -1, 'WITHSCORES'));
  throw new Error(`${key} has type ${type}, which the tests do not write`);
}

/** The size of a string value (what the probe writes); other types count their serialized size. */
async function valueBytes(admin: Redis, key: string): Promise<number> {
  const type = await admin.type(key);
  if (type === 'string') return admin.strlen(key);
  return (await admin.dumpBuffer(key))?.length ?? 0;
}

/**
 * Keys whose value, DUMP or TTL changed between two snapshots, as `key: why`. A TTL may only have
 * run down by the time between them (`elapsedMs`, plus a little for the snapshots themselves).
 * Redis 7.0 keeps a small set of strings in a hash table, whose DUMP lists members in table order:
 * a MIGRATE or a replica's full sync rebuilds the table, so the same set may DUMP differently, and
 * sets are compared by their sorted members alone.
 */
export function changedKeys(before: Snapshot, after: Snapshot, elapsedMs: number): string[] {
  const changes: string[] = [];
  for (const [key, was] of before.user) {
    const now = after.user.get(key);
    if (now === undefined) {
      changes.push(`${key}: gone`);
      continue;
    }
    if (now.type !== was.type) changes.push(`${key}: type ${was.type} -> ${now.type}`);
    if (now.content !== was.content) changes.push(`${key}: value ${was.content} -> ${now.content}`);
    if (now.type !== 'set' && now.dump !== was.dump) changes.push(`${key}: DUMP differs`);
    const ttlKept =
      was.pttl < 0
        ? now.pttl === was.pttl
        : now.pttl > 0 && now.pttl <= was.pttl && was.pttl - now.pttl <= elapsedMs + 5_000;
    if (!ttlKept) changes.push(`${key}: PTTL ${was.pttl} -> ${now.pttl}`);
  }
  for (const key of after.user.keys()) if (!before.user.has(key)) changes.push(`${key}: new`);
  return changes;
}
