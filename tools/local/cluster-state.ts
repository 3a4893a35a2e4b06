/**
 * Detached clusters (`cluster:up`) outlive the process that started them, so what a later process
 * needs is written to `<dir>/cluster.json` (and, for shells, `<dir>/cluster.env`): the settings,
 * and the pids to stop, which are only trusted while /proc says they still run one of our servers.
 */
import { readFileSync } from 'node:fs';
import { rm, rmdir } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { LocalClusterError } from '../../lambda/errors.js';
import type { LocalNode, NodeRole } from './cluster-plan.js';
import {
  redactedSettings,
  revealedSettings,
  type LocalClusterSettings,
} from './cluster-settings.js';
import { pollUntil } from './polling.js';
import { writePrivateFile } from './server-config.js';
import { KILL_WAIT_MS, SERVER_BINARIES, STOP_GRACE_MS, signal } from './server-process.js';

const STATE_FILE = 'cluster.json';
const ENV_FILE = 'cluster.env';

export type StateNode = LocalNode & { readonly role: NodeRole; readonly shard: number };

interface ClusterState {
  readonly version: 1;
  readonly binary: string;
  readonly settings: LocalClusterSettings;
  readonly nodes: readonly StateNode[];
}

/** Writes cluster.json and cluster.env (`env` as shell assignments) into `root`, mode 0600. */
export async function writeClusterState(
  root: string,
  binary: string,
  settings: LocalClusterSettings,
  nodes: readonly StateNode[],
  env: Record<string, string>,
): Promise<void> {
  // The settings object prints its token as "[redacted]"; this file is where the token must be.
  const state: ClusterState = { version: 1, binary, settings: revealedSettings(settings), nodes };
  const envLines = Object.entries(env).map(([name, value]) => `${name}=${shellQuote(value)}`);
  await writePrivateFile(join(root, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  await writePrivateFile(join(root, ENV_FILE), `${envLines.join('\n')}\n`);
}

export function readLocalClusterSettings(dir: string): LocalClusterSettings {
  const state = readState(resolve(dir));
  if (state === undefined) {
    throw new LocalClusterError(
      `no local cluster in ${dir} (no ${STATE_FILE}): start one with \`npm run cluster:up\``,
    );
  }
  return redactedSettings(state.settings);
}

/** Pids from the state file in `dir` that are still our servers; [] if there is no state file. */
export function runningServerPidsAt(dir: string): number[] {
  const root = resolve(dir);
  return (readState(root)?.nodes ?? [])
    .map(({ pid }) => pid)
    .filter((pid) => isOurServer(pid, root));
}

/**
 * Stops the servers named by `<dir>/cluster.json` (only pids whose command line is still one of our
 * servers with a config inside `dir`, as pids get reused) and removes the directory. Without a state
 * file it touches nothing and returns `{ stopped: 0 }`.
 */
export async function stopLocalClusterAt(dir: string): Promise<{ stopped: number }> {
  const root = resolve(dir);
  const state = readState(root);
  if (state === undefined) return { stopped: 0 };
  const pids = runningServerPidsAt(root);
  const left = (): number[] => pids.filter((pid) => isOurServer(pid, root));
  for (const pid of pids) {
    signal(pid, 'SIGCONT');
    signal(pid, 'SIGTERM');
  }
  if (!(await pollUntil(STOP_GRACE_MS, () => left().length === 0))) {
    for (const pid of left()) signal(pid, 'SIGKILL');
    if (!(await pollUntil(KILL_WAIT_MS, () => left().length === 0))) {
      throw new LocalClusterError(
        `pids ${left().join(', ')} in ${root} did not exit after SIGKILL`,
      );
    }
  }
  await removeClusterFiles(root, state);
  return { stopped: pids.length };
}

/**
 * Removes what a detached start wrote, then the directory if that leaves it empty: the dir came
 * from a flag, so nothing else in it is deleted.
 */
async function removeClusterFiles(root: string, state: ClusterState): Promise<void> {
  const inside = (path: string): boolean => path.startsWith(root + sep);
  const written = ['tls', ENV_FILE, ...state.nodes.map((node) => node.dir)].map((path) =>
    resolve(root, path),
  );
  for (const path of written.filter(inside)) await rm(path, { recursive: true, force: true });
  // The state file goes last: while it exists, `cluster:down` can finish the job.
  await rm(join(root, STATE_FILE), { force: true });
  await rmdir(root).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOTEMPTY' && error.code !== 'ENOENT') throw error;
  });
}

function readState(root: string): ClusterState | undefined {
  const file = join(root, STATE_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LocalClusterError(`cannot read ${file}`, { cause: error });
  }
  return parseState(text, file);
}

function parseState(text: string, file: string): ClusterState {
  const invalid = (why: string, cause?: unknown): LocalClusterError =>
    new LocalClusterError(
      `${file} is not a slotwatch cluster state file (${why}): remove it by hand`,
      {
        cause,
      },
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid('not JSON', error);
  }
  if (!isRecord(value) || value['version'] !== 1) throw invalid('no version 1');
  const { settings, nodes, binary } = value;
  if (typeof binary !== 'string') throw invalid('no binary');
  if (
    !isRecord(settings) ||
    typeof settings['endpoint'] !== 'string' ||
    typeof settings['caFile'] !== 'string' ||
    typeof settings['token'] !== 'string'
  ) {
    throw invalid('no settings');
  }
  if (!Array.isArray(nodes) || !nodes.every(isStateNode)) throw invalid('bad node list');
  return value as unknown as ClusterState;
}

function isStateNode(value: unknown): boolean {
  return (
    isRecord(value) &&
    ['port', 'busPort', 'pid', 'shard'].every((key) => Number.isInteger(value[key])) &&
    typeof value['dir'] === 'string' &&
    (value['role'] === 'primary' || value['role'] === 'replica')
  );
}

/** True while `pid` runs one of our server binaries with a config file inside `root`. */
function isOurServer(pid: number, root: string): boolean {
  let argv: string[];
  try {
    // A zombie's cmdline is empty, so an exited but unreaped server counts as gone.
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return false;
  }
  const [program = '', config = ''] = argv;
  const isServer = (SERVER_BINARIES as readonly string[]).includes(basename(program));
  return isServer && resolve(config).startsWith(root + sep);
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
