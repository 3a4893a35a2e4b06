/**
 * Makes sure a redis-server (or valkey-server) is on PATH for the local cluster: installs
 * Debian's redis-server with apt-get when this process may (root, apt-get present), as the demo
 * and the integration tests promise a newcomer on a fresh Debian machine; otherwise throws the
 * one-line LocalClusterError that says how.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { findServerBinary } from './local-cluster.js';

export function ensureServerInstalled(say: (line: string) => void = () => undefined): string {
  try {
    return findServerBinary();
  } catch (error) {
    const canInstall = process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0;
    if (!canInstall) throw error;
    say('redis-server is missing: installing it with apt-get (Debian package redis-server)…');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', 'redis-server'], { stdio: 'inherit', env });
    return findServerBinary();
  }
}
