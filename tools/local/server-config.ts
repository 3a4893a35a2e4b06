/**
 * Each node's redis.conf, and the command line that starts a server on it. The AUTH token goes in
 * the file (mode 0600), never on a command line, where any local user could read it.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import type { TlsFiles } from './certs.js';
import type { ManagedNode } from './cluster-plan.js';

/** The parts of a node that its config names. */
export type ConfiguredNode = Pick<ManagedNode, 'port' | 'busPort' | 'dir' | 'logFile'>;

/** The text of a node's redis.conf: TLS on the client, bus and replication links, AUTH, no disk. */
export function nodeConfigText(
  node: ConfiguredNode,
  tls: TlsFiles,
  token: string,
  nodeTimeoutMs: number,
): string {
  const lines = [
    '# Written by slotwatch for a local test cluster. It holds the AUTH token: keep it mode 0600.',
    'bind 127.0.0.1',
    'port 0',
    `tls-port ${node.port}`,
    `cluster-port ${node.busPort}`,
    `tls-cert-file ${quote(tls.certFile)}`,
    `tls-key-file ${quote(tls.keyFile)}`,
    `tls-ca-cert-file ${quote(tls.caCertFile)}`,
    'tls-auth-clients no',
    'tls-cluster yes',
    'tls-replication yes',
    'cluster-enabled yes',
    'cluster-config-file nodes.conf',
    `cluster-node-timeout ${nodeTimeoutMs}`,
    `requirepass ${token}`,
    `masterauth ${token}`,
    'save ""',
    'appendonly no',
    `dir ${quote(node.dir)}`,
    `logfile ${quote(node.logFile)}`,
    'daemonize no',
    // Keeps argv as `<binary> <config>`: that is how stopLocalClusterAt recognises its servers.
    'set-proc-title no',
    // An empty data set needs no 5 s wait for more replicas before a diskless full sync.
    'repl-diskless-sync-delay 0',
    'shutdown-timeout 0',
  ];
  return `${lines.join('\n')}\n`;
}

export async function writeNodeConfig(
  node: ConfiguredNode & Pick<ManagedNode, 'configFile'>,
  tls: TlsFiles,
  token: string,
  nodeTimeoutMs: number,
): Promise<void> {
  await mkdir(node.dir, { mode: 0o700 });
  await writePrivateFile(node.configFile, nodeConfigText(node, tls, token, nodeTimeoutMs));
}

/** The server's arguments: its config file and nothing else. */
export function serverArgs(node: Pick<ManagedNode, 'configFile'>): string[] {
  return [node.configFile];
}

export async function writePrivateFile(file: string, text: string): Promise<void> {
  // Write then rename, so that a reader never sees half a file and the mode is set from the start.
  const partial = `${file}.partial`;
  await writeFile(partial, text, { mode: 0o600 });
  await rename(partial, file);
}

/** A double-quoted redis.conf argument. */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}
