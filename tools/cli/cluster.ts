/**
 * `npm run cluster:up -- --shards 3 --replicas 1 [--dir D] [--node-timeout-ms N]` starts a local
 * TLS + AUTH cluster that outlives the command; `npm run cluster:down [-- --dir D]` stops it.
 * Exit codes: 0 done, 1 failed, 2 bad usage (bad flag, no server binary, already running).
 */
import { relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, LocalClusterError, SlotwatchError } from '../../lambda/errors.js';
import {
  LOCAL_CLUSTER_DEFAULTS,
  findServerBinary,
  runningServerPidsAt,
  startLocalCluster,
  stopLocalClusterAt,
} from '../local/local-cluster.js';

const DEFAULT_DIR = '.slotwatch/local-cluster';
const DEFAULT_SHARDS = 3;
const DEFAULT_REPLICAS = 1;

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Refusals that are the caller's to fix, not failures: they exit with the usage code. */
class UsageError extends SlotwatchError {}

async function main(argv: readonly string[]): Promise<ExitCode> {
  const [command, ...args] = argv;
  try {
    if (command === 'up') return await up(args);
    if (command === 'down') return await down(args);
    throw new UsageError(`unknown command ${JSON.stringify(command ?? '')}: use up or down`);
  } catch (error) {
    return report(error);
  }
}

async function up(args: readonly string[]): Promise<ExitCode> {
  const { values } = parse(args, {
    shards: { type: 'string' },
    replicas: { type: 'string' },
    dir: { type: 'string' },
    'node-timeout-ms': { type: 'string' },
  });
  const shards = integerFlag('shards', values.shards, DEFAULT_SHARDS, 1, 16);
  const replicas = integerFlag('replicas', values.replicas, DEFAULT_REPLICAS, 0, 5);
  const nodeTimeoutMs = integerFlag(
    'node-timeout-ms',
    values['node-timeout-ms'],
    LOCAL_CLUSTER_DEFAULTS.nodeTimeoutMs,
    100,
    60_000,
  );
  const dir = resolve(values.dir ?? DEFAULT_DIR);
  try {
    findServerBinary();
  } catch (error) {
    throw new UsageError(errorMessage(error), { cause: error });
  }
  const running = runningServerPidsAt(dir);
  if (running.length > 0) {
    throw new UsageError(
      `a local cluster is already running in ${shown(dir)} (pids ${running.join(' ')}): stop it with \`${downCommand(dir)}\``,
    );
  }
  // Clears the state of a cluster whose servers are gone (a reboot, say); no-op without one.
  await stopLocalClusterAt(dir);

  const startedAt = Date.now();
  const cluster = await startLocalCluster({
    shards,
    replicas,
    dir,
    nodeTimeoutMs,
    detached: true,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  const envFile = shown(resolve(dir, 'cluster.env'));
  console.log(
    [
      `local cluster up in ${seconds} s: ${describeShape(shards, replicas)}, TLS + AUTH, endpoint ${cluster.settings.endpoint}`,
      `settings: ${envFile} (CLUSTER_* variables; it holds the AUTH token)`,
      'use it:',
      `  set -a; . ${envFile}; set +a`,
      '  npm run probe',
      `stop it: ${downCommand(dir)}`,
    ].join('\n'),
  );
  return EXIT.ok;
}

async function down(args: readonly string[]): Promise<ExitCode> {
  const { values } = parse(args, { dir: { type: 'string' } });
  const dir = resolve(values.dir ?? DEFAULT_DIR);
  const { stopped } = await stopLocalClusterAt(dir);
  console.log(
    stopped > 0
      ? `stopped ${stopped} server${stopped === 1 ? '' : 's'} and removed ${shown(dir)}`
      : `no local cluster running in ${shown(dir)}`,
  );
  return EXIT.ok;
}

type StringOptions<K extends string> = Record<K, { type: 'string' }>;

function parse<K extends string>(
  args: readonly string[],
  options: StringOptions<K>,
): { values: Partial<Record<K, string>> } {
  try {
    const { values } = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: false,
    });
    return { values };
  } catch (error) {
    // parseArgs explains itself in one line ("Unknown option '--shard'", ...).
    throw new UsageError(errorMessage(error), { cause: error });
  }
}

function integerFlag(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(parsed >= min && parsed <= max)) {
    throw new ConfigError(
      `--${name}`,
      `--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}

function report(error: unknown): ExitCode {
  if (error instanceof UsageError || error instanceof ConfigError) {
    console.error(error.message);
    return EXIT.usage;
  }
  // LocalClusterError messages carry what to do (and a node's log tail); a stack adds nothing.
  console.error(error instanceof LocalClusterError ? error.message : error);
  return EXIT.failed;
}

function describeShape(shards: number, replicas: number): string {
  const plural = (count: number, noun: string): string =>
    `${count} ${noun}${count === 1 ? '' : 's'}`;
  return `${plural(shards, 'shard')} x ${plural(replicas, 'replica')}`;
}

function downCommand(dir: string): string {
  const custom = resolve(DEFAULT_DIR) === dir ? '' : ` -- --dir ${shown(dir)}`;
  return `npm run cluster:down${custom}`;
}

/** `path` relative to the current directory when it is inside it, shell-quoted if need be. */
function shown(path: string): string {
  const inside = relative(process.cwd(), path);
  const display =
    inside !== '' && !inside.startsWith(`..${sep}`) && inside !== '..' ? inside : path;
  return /^[\w@%+=:,./-]+$/.test(display) ? display : `'${display.replace(/'/g, `'\\''`)}'`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

process.exitCode = await main(process.argv.slice(2));
