/** Helpers for integration tests: a real local cluster per test file, and the CLI as a subprocess. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { connectNode } from '../../tools/local/node-client.js';
import { afterAll, beforeAll, expect } from 'vitest';
import { loadConfig } from '../../lambda/config.js';
import {
  startLocalCluster,
  type LocalCluster,
  type LocalClusterOptions,
} from '../../tools/local/local-cluster.js';
import type { SweepReport } from '../../lambda/report.js';
import { ClusterProber } from '../../lambda/sweep.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// tsx as a loader, not its CLI: the CLI would run the command in a child of its own, and a
// signal sent to it (SIGKILL above all) would not reach the command.
const TSX_LOADER = 'tsx';

/** Short timeouts keep fault tests quick; the deadline leaves room for one timeout per probe. */
export const TEST_TIMEOUTS = { PROBE_TIMEOUT_MS: '500', PROBE_DEADLINE_MS: '4000' };

/**
 * For tests of a healthy cluster over thousands of sweeps (soak, resharding): what they check is
 * that nothing fails, so a reply slowed by a loaded test machine must not pass for a failure.
 */
export const PATIENT_TIMEOUTS = { PROBE_TIMEOUT_MS: '2000', PROBE_DEADLINE_MS: '8000' };

export function startTestCluster(
  options: Partial<LocalClusterOptions> = {},
): Promise<LocalCluster> {
  return startLocalCluster({ shards: 3, replicas: 1, nodeTimeoutMs: 1000, ...options });
}

export interface TestClusterHandle {
  cluster: LocalCluster;
  prober: ClusterProber;
}

/**
 * A cluster and a warm prober for one test file: started before its tests, stopped after them,
 * with a check that none of the cluster's processes outlived the stop. `proberEnv` overrides
 * the prober's variables (PATIENT_TIMEOUTS, for instance).
 */
export function useTestCluster(
  options: Partial<LocalClusterOptions> = {},
  proberEnv: Record<string, string> = {},
): TestClusterHandle {
  const handle = {} as TestClusterHandle;
  beforeAll(async () => {
    handle.cluster = await startTestCluster(options);
    handle.prober = proberFor(handle.cluster, proberEnv);
  });
  afterAll(async () => {
    handle.prober?.close();
    const pids = handle.cluster?.nodes.map((node) => node.pid) ?? [];
    await handle.cluster?.stop();
    expect(pids.filter(isAlive)).toEqual([]);
  });
  return handle;
}

export function proberFor(cluster: LocalCluster, env: Record<string, string> = {}): ClusterProber {
  return new ClusterProber(
    loadConfig({ env: { ...cluster.env(), ...TEST_TIMEOUTS, ...env }, defaultSink: 'none' }),
  );
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  /** When the last stdout chunk arrived (ms after the start); null when nothing came. */
  readonly lastStdoutMs: number | null;
  /** True when `killAfterMs` passed and the command was killed. */
  readonly killed: boolean;
}

export interface CliLimits {
  /** SIGKILL the command if it has not exited after this long (a hang then fails the test, not the run). */
  readonly killAfterMs?: number;
}

/**
 * Runs a CLI command (`probe`, `demo`, …) with exactly `env` (plus PATH and HOME). `onStderr`
 * sees the stderr written so far after each chunk, and may signal the command.
 */
export function runCli(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  onStderr?: (stderr: string, signal: (name: NodeJS.Signals) => void) => void,
  limits: CliLimits = {},
): Promise<CliRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', TSX_LOADER, `tools/cli/${command}.ts`, ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    let lastStdoutMs: number | null = null;
    let killed = false;
    const killer =
      limits.killAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            killed = true;
            child.kill('SIGKILL');
          }, limits.killAfterMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      lastStdoutMs = performance.now() - started;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      onStderr?.(stderr, (name) => child.kill(name));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, ms: performance.now() - started, lastStdoutMs, killed });
    });
  });
}

/** Parses `--json` output: one report per line, nothing else on stdout. */
export function jsonReports(stdout: string): SweepReport[] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as SweepReport);
}

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export const portOf = (address: string): number =>
  Number(address.slice(address.lastIndexOf(':') + 1));

/** True while a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `work` on an admin connection (TLS, AUTH) to one node, and always disconnects it. `token`
 * overrides the cluster's own, for tests that change the password.
 */
export async function adminOn(
  cluster: LocalCluster,
  port: number,
  work: (admin: Redis) => Promise<void>,
  token: string = cluster.settings.token,
): Promise<void> {
  const admin = await connectNode(port, readFileSync(cluster.settings.caFile, 'utf8'), token);
  try {
    await work(admin);
  } finally {
    admin.disconnect();
  }
}
