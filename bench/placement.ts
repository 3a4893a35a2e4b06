/**
 * CPU placement for the fidelity measurement. On a two-core machine a round trip between two
 * processes takes about 25 µs when the scheduler puts them on one core and about 55 µs when they
 * sit on different cores (the reply has to wake the other core), and a run can land in either
 * mode: comparing the probe's figure from one mode with redis-benchmark's from the other says
 * nothing about the probe. So for each measured node the node's server is pinned to one core
 * and every client (the sweeper, redis-benchmark) to the other, the same for both, and the
 * placement is undone afterwards.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export const TASKSET = '/usr/bin/taskset';

export interface Placement {
  /** The core the measured node's server runs on. */
  readonly serverCpu: string;
  /** The core every client runs on. */
  readonly clientCpu: string;
  /** Every core: what a pinned process gets back. */
  readonly allCpus: string;
}

/** Undefined where placement cannot be set (one core, or no taskset): the figures say so. */
export function placement(): Placement | undefined {
  const cpus = availableParallelism();
  if (cpus < 2 || spawnSync(TASKSET, ['--version']).status !== 0) return undefined;
  return { serverCpu: '0', clientCpu: '1', allCpus: `0-${cpus - 1}` };
}

/** Pins every thread of `pid` to `cpus` (taskset's list form). */
export function pin(pid: number, cpus: string): void {
  const result = spawnSync(TASKSET, ['--all-tasks', '--cpu-list', '--pid', cpus, String(pid)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (result.status !== 0) {
    throw new Error(
      `taskset could not pin pid ${pid} to ${cpus}: ${result.stderr.toString().trim()}`,
    );
  }
}

/** The command line that runs `command` on `cpus`. */
export function onCpus(cpus: string, command: string, args: readonly string[]): [string, string[]] {
  return [TASKSET, ['--cpu-list', cpus, command, ...args]];
}
