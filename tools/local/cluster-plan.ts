/**
 * What a local cluster is made of before anything runs: the validated options, the working
 * directory, and each node's ports, role and files.
 */
import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LocalClusterError } from '../../lambda/errors.js';
import type { ServerProcess } from './server-process.js';

export interface LocalClusterOptions {
  /** Number of primaries, each owning an even share of the 16384 slots. */
  readonly shards: number;
  /** Replicas per shard. */
  readonly replicas: number;
  /** Working directory; must be empty or absent. @default a fresh mkdtemp under os.tmpdir() */
  readonly dir?: string;
  /** `cluster-node-timeout`. @default 2000 */
  readonly nodeTimeoutMs?: number;
  /** Servers outlive this process (for `cluster:up`); state goes to `<dir>/cluster.json`. @default false */
  readonly detached?: boolean;
  /** Receives progress lines. @default silent */
  readonly log?: (line: string) => void;
}

export const LOCAL_CLUSTER_DEFAULTS = {
  nodeTimeoutMs: 2000,
  detached: false,
} as const;

export interface LocalNode {
  /** TLS client port (the plaintext port is disabled). */
  readonly port: number;
  readonly busPort: number;
  readonly pid: number;
  readonly dir: string;
}

export type NodeRole = 'primary' | 'replica';

/** The options with their defaults applied, once validated. */
export interface Plan {
  readonly shards: number;
  readonly replicas: number;
  readonly nodeTimeoutMs: number;
  readonly detached: boolean;
  readonly log: (line: string) => void;
}

export interface ManagedNode {
  readonly port: number;
  readonly busPort: number;
  readonly dir: string;
  readonly configFile: string;
  readonly logFile: string;
  readonly role: NodeRole;
  readonly shard: number;
  /** Cluster node id, known once the node serves. */
  id: string;
  process?: ServerProcess;
  /** What this manager did to it last: a paused or killed node is not expected to answer. */
  state: 'running' | 'paused' | 'killed';
}

const MAX_NODES = 64;

export function validateOptions(options: LocalClusterOptions): Plan {
  const { shards, replicas } = options;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? LOCAL_CLUSTER_DEFAULTS.nodeTimeoutMs;
  if (!Number.isInteger(shards) || shards < 1) {
    throw new LocalClusterError(`shards must be an integer >= 1, got ${shards}`);
  }
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new LocalClusterError(`replicas must be an integer >= 0, got ${replicas}`);
  }
  if (shards * (1 + replicas) > MAX_NODES) {
    throw new LocalClusterError(
      `${shards} shards x ${replicas} replicas is ${shards * (1 + replicas)} nodes; at most ${MAX_NODES}`,
    );
  }
  if (!Number.isInteger(nodeTimeoutMs) || nodeTimeoutMs < 100) {
    throw new LocalClusterError(`nodeTimeoutMs must be an integer >= 100, got ${nodeTimeoutMs}`);
  }
  return {
    shards,
    replicas,
    nodeTimeoutMs,
    detached: options.detached ?? LOCAL_CLUSTER_DEFAULTS.detached,
    log: options.log ?? (() => undefined),
  };
}

export async function prepareDir(dir: string | undefined): Promise<string> {
  if (dir === undefined) return mkdtemp(join(tmpdir(), 'slotwatch-cluster-'));
  const root = resolve(dir);
  if (/[\n\r]/.test(root)) {
    throw new LocalClusterError(
      `cluster dir ${JSON.stringify(root)} has characters a config cannot hold`,
    );
  }
  const entries = await readdir(root).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new LocalClusterError(`cannot use ${root} as the cluster dir: ${error.message}`, {
      cause: error,
    });
  });
  if (entries !== undefined && entries.length > 0) {
    throw new LocalClusterError(
      `cluster dir ${root} is not empty: pick an empty or absent directory`,
    );
  }
  await mkdir(root, { recursive: true, mode: 0o700 });
  return root;
}

/** Primaries first in shard order, then each shard's replicas; ports[2i] and ports[2i+1] per node. */
export function planNodes(root: string, plan: Plan, ports: readonly number[]): ManagedNode[] {
  const roles: { role: NodeRole; shard: number }[] = [];
  for (let shard = 0; shard < plan.shards; shard++) roles.push({ role: 'primary', shard });
  for (let shard = 0; shard < plan.shards; shard++) {
    for (let replica = 0; replica < plan.replicas; replica++)
      roles.push({ role: 'replica', shard });
  }
  return roles.map(({ role, shard }, index) => {
    const port = at(ports, 2 * index);
    const dir = join(root, `node-${port}`);
    return {
      port,
      busPort: at(ports, 2 * index + 1),
      dir,
      configFile: join(dir, 'redis.conf'),
      logFile: join(dir, 'server.log'),
      role,
      shard,
      id: '',
      state: 'running',
    };
  });
}

/** `items[index]`; a missing item is a bug in this module, not a cluster problem. */
export function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined)
    throw new LocalClusterError(`internal: no item ${index} of ${items.length}`);
  return item;
}
