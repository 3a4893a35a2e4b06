/**
 * Server processes: finding the binary, spawning, signalling and reaping them, and making sure that
 * servers which should not outlive this process die with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { basename, delimiter, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalClusterError } from '../../lambda/errors.js';
import type { ManagedNode } from './cluster-plan.js';
import { PortTakenError } from './free-ports.js';
import { errorMessage } from './node-client.js';
import { serverArgs } from './server-config.js';

export const SERVER_BINARIES = ['redis-server', 'valkey-server'] as const;
/** How long SIGTERM has before SIGKILL follows. */
export const STOP_GRACE_MS = 5_000;
/** How long a SIGKILLed process has to be gone. */
export const KILL_WAIT_MS = 2_000;

export interface ServerProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (and been reaped). */
  readonly exited: Promise<void>;
  exit?: string;
}

/** The first `redis-server` or `valkey-server` on PATH, as an absolute path. */
export function findServerBinary(): string {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '');
  for (const name of SERVER_BINARIES) {
    for (const dir of dirs) {
      const candidate = resolve(dir, name);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  throw new LocalClusterError(
    'redis-server not found on PATH: install it with `sudo apt-get install -y redis-server` (or valkey-server)',
  );
}

export async function spawnServer(
  binary: string,
  node: ManagedNode,
  detached: boolean,
): Promise<ServerProcess> {
  const child = spawn(binary, serverArgs(node), { cwd: node.dir, stdio: 'ignore', detached });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  await new Promise<void>((done, reject) => {
    child.once('spawn', done);
    child.once('error', reject);
  }).catch((error: unknown) => {
    throw new LocalClusterError(`could not start ${binary}: ${errorMessage(error)}`, {
      cause: error,
    });
  });
  if (child.pid === undefined) throw new LocalClusterError(`${binary} started without a pid`);
  if (detached) child.unref();
  const proc: ServerProcess = { pid: child.pid, child, exited };
  child.once('exit', (code, signalName) => {
    proc.exit = signalName === null ? `exit code ${code ?? '?'}` : `signal ${signalName}`;
  });
  return proc;
}

/** True if every process exited within `timeoutMs`. */
export async function waitExited(
  processes: readonly ServerProcess[],
  timeoutMs: number,
): Promise<boolean> {
  const timeout = new AbortController();
  const all = Promise.all(processes.map((proc) => proc.exited)).then(() => true);
  const late = sleep(timeoutMs, false, { signal: timeout.signal }).catch(() => false);
  const result = await Promise.race([all, late]);
  timeout.abort();
  return result;
}

/** SIGCONT, SIGTERM, up to STOP_GRACE_MS, then SIGKILL; throws if one survives even that. */
export async function stopProcesses(processes: readonly ServerProcess[]): Promise<void> {
  const live = (): ServerProcess[] => processes.filter((proc) => proc.exit === undefined);
  for (const proc of processes) {
    // A stopped process leaves SIGTERM pending until it is continued.
    signal(proc.pid, 'SIGCONT');
    signal(proc.pid, 'SIGTERM');
  }
  if (await waitExited(processes, STOP_GRACE_MS)) return;
  for (const proc of live()) signal(proc.pid, 'SIGKILL');
  if (!(await waitExited(processes, KILL_WAIT_MS))) {
    const pids = live().map((proc) => proc.pid);
    throw new LocalClusterError(`processes ${pids.join(', ')} did not exit after SIGKILL`);
  }
}

/** For the process 'exit' hook, which cannot wait: SIGKILL, after SIGCONT for a paused one. */
export function killProcessesNow(processes: readonly ServerProcess[]): void {
  for (const proc of processes) {
    signal(proc.pid, 'SIGCONT');
    signal(proc.pid, 'SIGKILL');
  }
}

/** Sends a signal; a process that is already gone is not an error. */
export function signal(pid: number | undefined, name: NodeJS.Signals): void {
  if (pid === undefined || pid <= 0) return;
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Throws (with the tail of its log) if a node that should be running has exited. */
export function assertAlive(node: ManagedNode, binary: string): void {
  const exit = node.process?.exit;
  if (node.state === 'killed' || exit === undefined) return;
  const tail = logTail(node.logFile);
  if (tail.includes('Address already in use')) {
    const reason = `port ${node.port} or ${node.busPort} was taken before the server could bind it`;
    throw new PortTakenError(reason, tail);
  }
  throw new LocalClusterError(
    `${basename(binary)} on port ${node.port} exited (${exit}); last lines of ${node.logFile}:\n${tail}`,
  );
}

function logTail(file: string, lines = 10): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    return text
      .split('\n')
      .slice(-lines)
      .map((line) => `  ${line}`)
      .join('\n');
  } catch {
    return '  (no log file)';
  }
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Non-detached servers die with this process.

export interface Guard {
  readonly killNow: () => void;
  readonly stop: () => Promise<void>;
}

const guards = new Set<Guard>();

export function guard(entry: Guard): void {
  if (guards.size === 0) {
    process.on('exit', killAllNow);
    process.on('SIGINT', stopAllOnSigint);
    process.on('SIGTERM', stopAllOnSigterm);
  }
  guards.add(entry);
}

export function unguard(entry: Guard): void {
  if (!guards.delete(entry) || guards.size > 0) return;
  process.off('exit', killAllNow);
  process.off('SIGINT', stopAllOnSigint);
  process.off('SIGTERM', stopAllOnSigterm);
}

function killAllNow(): void {
  for (const entry of guards) entry.killNow();
}

function stopAllOnSigint(): void {
  stopAllAndExit(130);
}

function stopAllOnSigterm(): void {
  stopAllAndExit(143);
}

function stopAllAndExit(code: number): void {
  void Promise.allSettled([...guards].map((entry) => entry.stop())).then(() => process.exit(code));
}
