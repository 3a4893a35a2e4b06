/**
 * The narrowest ACL / RBAC access strings slotwatch works with: its own key prefix and exactly the
 * commands its code sends. One source for the CDK's ElastiCache users (infra/) and for the local
 * cluster's ACL users in the tests, which run full sweeps under them and so prove they suffice.
 * A command added to the probe or the drill must be added here, or those tests fail with NOPERM.
 */
import { CANARY_PREFIX } from '../lambda/cluster/canary-keys.js';

/** Sent on every connection (connect.ts): AUTH needs no permission. */
const HANDSHAKE = ['readonly', 'client|setname'] as const;

/**
 * The sweep's commands: topology (CLUSTER SHARDS; CLUSTER NODES only on engines before 7.0, which
 * ElastiCache RBAC users never meet), each node's view (CLUSTER INFO, CLUSTER SLOTS), the probes
 * (ping, read, pipeline, write, replication) and the cross-slot check (a Lua script running MSET and
 * PEXPIRE, MGET, GET and SET when a script cannot run, ASKING to follow a slot being migrated).
 */
export const PROBE_COMMANDS = [
  ...HANDSHAKE,
  'cluster|shards',
  'cluster|info',
  'cluster|slots',
  'ping',
  'echo',
  'get',
  'set',
  'pttl',
  'exists',
  'mget',
  'eval',
  'mset',
  'pexpire',
  'asking',
] as const;

/**
 * The drill's commands: topology and CLUSTER INFO (pre-checks, watching), INFO replication (replica
 * sync) and INFO server (pause-primary's pid), its writer and readers (SET, GET), the lock and the
 * rotation key (SET NX PX, GET, PTTL, DEL), the read-back (MGET, DEL). `cluster-failover`'s
 * CLUSTER FAILOVER is left out: ElastiCache does not allow it (its trigger is TestFailover), and
 * a self-managed cluster drilled that way needs an admin user.
 */
export const DRILL_COMMANDS = [
  ...HANDSHAKE,
  'cluster|shards',
  'cluster|info',
  'info',
  'get',
  'set',
  'pttl',
  'del',
  'mget',
  'asking',
] as const;

/** `on ~slotwatch:* -@all +cmd…`: enabled, own keys only, nothing but the listed commands. */
export function accessString(commands: readonly string[]): string {
  return ['on', `~${CANARY_PREFIX}*`, '-@all', ...commands.map((command) => `+${command}`)].join(
    ' ',
  );
}

export const PROBE_ACCESS_STRING = accessString(PROBE_COMMANDS);
export const DRILL_ACCESS_STRING = accessString(DRILL_COMMANDS);
