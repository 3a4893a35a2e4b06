/**
 * Finding the server process behind a node, on this machine, before signalling it. A pid read
 * from `INFO server` is only this machine's process if the node's address is local, the pid runs
 * redis-server or valkey-server here, and that process listens on the node's port: a server in
 * another machine or container may report a pid that some unrelated local process has.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { basename } from 'node:path';

export const SERVER_NAMES = ['redis-server', 'valkey-server'] as const;

/** Loopback, `localhost`, or an address of one of `interfaceAddresses`. Pure. */
export function isLocalHost(host: string, interfaceAddresses: readonly string[]): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare;
  if (isIP(v4) === 4 && v4.startsWith('127.')) return true;
  return isIP(bare) !== 0 && interfaceAddresses.some((address) => address.toLowerCase() === bare);
}

export function localInterfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) =>
    (list ?? []).map((entry) => entry.address),
  );
}

/** The program of a `/proc/<pid>/cmdline` (NUL-separated; a set proc title keeps it first). Pure. */
export function programOf(cmdline: string): string {
  const first = cmdline.split('\0')[0] ?? '';
  return basename(first.trim().split(/\s+/)[0] ?? '');
}

const LISTEN = '0A';

/** Socket inodes listening on `port` in a `/proc/net/tcp` or `/proc/net/tcp6` table. Pure. */
export function listeningInodes(table: string, port: number): Set<string> {
  const inodes = new Set<string>();
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const state = fields[3];
    const inode = fields[9];
    if (local === undefined || state !== LISTEN || inode === undefined) continue;
    if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) inodes.add(inode);
  }
  return inodes;
}

export type LocalServer = { ok: true; pid: number } | { ok: false; reason: string };

const errorCode = (error: unknown): string =>
  (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));

/** Checks that `pid` is a local server process listening on `port`; says why not otherwise. */
export async function verifyLocalServer(
  host: string,
  port: number,
  pid: number,
): Promise<LocalServer> {
  if (process.platform !== 'linux') {
    return { ok: false, reason: 'pause-primary reads /proc to find the server: Linux only' };
  }
  if (!isLocalHost(host, localInterfaceAddresses())) {
    return {
      ok: false,
      reason: `the primary's host ${host} is not an address of this machine: pause-primary only signals local servers`,
    };
  }
  if (!Number.isInteger(pid) || pid <= 1) {
    return { ok: false, reason: `INFO server gave no usable process_id (${pid})` };
  }
  let program: string;
  try {
    program = programOf(await readFile(`/proc/${pid}/cmdline`, 'utf8'));
  } catch (error) {
    return {
      ok: false,
      reason: `no process ${pid} here (${errorCode(error)}): the server runs elsewhere`,
    };
  }
  if (!(SERVER_NAMES as readonly string[]).includes(program)) {
    return {
      ok: false,
      reason: `process ${pid} here is ${JSON.stringify(program)}, not ${SERVER_NAMES.join(' or ')}: the server runs elsewhere`,
    };
  }
  const listening = await listensOn(pid, port);
  return listening === true
    ? { ok: true, pid }
    : {
        ok: false,
        reason: `process ${pid} (${program}) does not listen on port ${port} here${listening === false ? '' : ` (${listening})`}`,
      };
}

/** True, false, or why it could not be told (another user's process, say). */
async function listensOn(pid: number, port: number): Promise<boolean | string> {
  const tables = await Promise.all(
    ['/proc/net/tcp', '/proc/net/tcp6'].map((file) => readFile(file, 'utf8').catch(() => '')),
  );
  const inodes = new Set(tables.flatMap((table) => [...listeningInodes(table, port)]));
  if (inodes.size === 0) return false;
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch (error) {
    return `cannot read its sockets: ${errorCode(error)}`;
  }
  for (const fd of fds) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode !== undefined && inodes.has(inode)) return true;
  }
  return false;
}
