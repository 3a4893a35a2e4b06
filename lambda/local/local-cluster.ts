/**
 * A real Redis / Valkey cluster on loopback, with TLS and AUTH like ElastiCache in-transit
 * encryption: what the demo, the integration tests and the benchmark probe. The cluster is formed
 * with plain CLUSTER commands (no redis-cli), on ports picked at random so that several can run at
 * once, and every wait is bounded and says what did not happen.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, delimiter, join, resolve, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { SLOT_COUNT } from '../cluster/slots.js';
import { LocalClusterError } from '../errors.js';
import { generateTlsFiles, type TlsFiles } from './certs.js';

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

export interface LocalClusterSettings {
  /** `127.0.0.1:<port of the first node>` */
  readonly endpoint: string;
  /** CA certificate (PEM) that verifies the servers. */
  readonly caFile: string;
  /** AUTH token (requirepass / masterauth). */
  readonly token: string;
}

const SERVER_BINARIES = ['redis-server', 'valkey-server'] as const;
const STATE_FILE = 'cluster.json';
const ENV_FILE = 'cluster.env';
const MAX_NODES = 64;
const PORT_ATTEMPTS = 3;
const POLL_INTERVAL_MS = 100;
const SERVING_TIMEOUT_MS = 20_000;
const MEET_TIMEOUT_MS = 30_000;
const HEALTHY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const KILL_WAIT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 2_000;
const COMMAND_TIMEOUT_MS = 3_000;

type NodeRole = 'primary' | 'replica';

/**
 * A reserved port was taken by someone else between its release and the server's bind: rare, and
 * worth a fresh start on other ports rather than a failed test.
 */
class PortTakenError extends LocalClusterError {
  constructor(
    readonly reason: string,
    logTail: string,
  ) {
    super(`${reason}:\n${logTail}`);
  }
}

interface ServerProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (and been reaped). */
  readonly exited: Promise<void>;
  exit?: string;
}

interface ManagedNode {
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

interface Plan {
  readonly shards: number;
  readonly replicas: number;
  readonly nodeTimeoutMs: number;
  readonly detached: boolean;
  readonly log: (line: string) => void;
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

export function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  return LocalCluster.start(options);
}

export class LocalCluster {
  readonly dir: string;
  readonly settings: LocalClusterSettings;
  private readonly guard: Guard = {
    killNow: () => this.killNow(),
    stop: () => this.stop(),
  };
  private stopping?: Promise<void>;

  private constructor(
    dir: string,
    settings: LocalClusterSettings,
    private readonly binary: string,
    private readonly ca: string,
    private readonly managed: readonly ManagedNode[],
    private readonly plan: Plan,
  ) {
    this.dir = dir;
    this.settings = settings;
  }

  /** Use `startLocalCluster`. */
  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    const plan = validateOptions(options);
    const binary = findServerBinary();
    for (let attempt = 1; ; attempt++) {
      try {
        return await LocalCluster.startOnce(plan, binary, options.dir);
      } catch (error) {
        if (!(error instanceof PortTakenError) || attempt >= PORT_ATTEMPTS) throw error;
        plan.log(`${error.reason}; retrying on other ports`);
      }
    }
  }

  private static async startOnce(
    plan: Plan,
    binary: string,
    dirOption: string | undefined,
  ): Promise<LocalCluster> {
    const dir = await prepareDir(dirOption);
    let cluster: LocalCluster | undefined;
    try {
      const tls = await generateTlsFiles(join(dir, 'tls'));
      const nodeCount = plan.shards * (1 + plan.replicas);
      const ports = await reservePorts(nodeCount * 2);
      const token = randomBytes(16).toString('hex');
      const nodes = planNodes(dir, plan, ports);
      await Promise.all(nodes.map((node) => writeNodeConfig(node, tls, token, plan.nodeTimeoutMs)));
      const settings = { endpoint: `127.0.0.1:${ports[0]}`, caFile: tls.caCertFile, token };
      const ca = readFileSync(tls.caCertFile, 'utf8');
      cluster = new LocalCluster(dir, settings, binary, ca, nodes, plan);
      guard(cluster.guard);
      await cluster.launch();
      if (plan.detached) {
        await cluster.writeState();
        unguard(cluster.guard);
      }
      return cluster;
    } catch (error) {
      // Whatever went wrong first is what the caller needs to see, not a cleanup failure.
      const cleanup = cluster?.stop() ?? rm(dir, { recursive: true, force: true });
      await cleanup.catch(() => undefined);
      throw error;
    }
  }

  /** Primaries first (in shard order), then replicas (grouped by shard). */
  get nodes(): readonly LocalNode[] {
    return this.managed.map(({ port, busPort, dir, process }) => ({
      port,
      busPort,
      dir,
      pid: process?.pid ?? 0,
    }));
  }

  env(): Record<string, string> {
    return {
      CLUSTER_ENDPOINT: this.settings.endpoint,
      CLUSTER_TLS: 'true',
      CLUSTER_TLS_CA_FILE: this.settings.caFile,
      CLUSTER_AUTH_TOKEN: this.settings.token,
    };
  }

  /** A connected TLS + AUTH client to one node (not cluster-aware). The caller disconnects it. */
  connectAdmin(port: number): Promise<Redis> {
    this.node(port);
    return connectNode(port, this.ca, this.settings.token);
  }

  pause(port: number): void {
    const node = this.liveNode(port, 'pause');
    signal(node.process?.pid, 'SIGSTOP');
    node.state = 'paused';
  }

  /** Continues a paused node; a no-op for a running one. */
  resume(port: number): void {
    const node = this.liveNode(port, 'resume');
    signal(node.process?.pid, 'SIGCONT');
    node.state = 'running';
  }

  kill(port: number): void {
    const node = this.node(port);
    signal(node.process?.pid, 'SIGKILL');
    node.state = 'killed';
  }

  /** Starts a killed node again from its own config and nodes.conf, then waits for a healthy cluster. */
  async restart(port: number): Promise<void> {
    const node = this.node(port);
    if (node.process !== undefined && node.process.exit === undefined) {
      if (node.state !== 'killed') {
        throw new LocalClusterError(
          `node ${port} is still running (pid ${node.process.pid}): kill it before restarting it`,
        );
      }
      await waitExited([node.process], KILL_WAIT_MS);
    }
    node.process = await spawnServer(this.binary, node, this.plan.detached);
    node.state = 'running';
    if (this.plan.detached) await this.writeState();
    await waitFor(`node ${port} to serve again`, SERVING_TIMEOUT_MS, () =>
      this.servingProblem(node),
    );
    await this.waitHealthy();
  }

  /**
   * Every node this manager has not paused or killed says cluster_state:ok, lists all nodes (none in
   * handshake), and flags none of the running ones as failing; each shard's slots are served by a
   * running primary; every running replica has master_link_status:up; and all agree on who
   * replicates whom.
   */
  async waitHealthy(timeoutMs: number = HEALTHY_TIMEOUT_MS): Promise<void> {
    await waitFor('a healthy cluster', timeoutMs, () => this.healthProblem());
  }

  /** SIGCONT, SIGTERM, up to 5 s grace, SIGKILL; then removes the directory. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async launch(): Promise<void> {
    const { log } = this.plan;
    log(`starting ${this.managed.length} ${basename(this.binary)} processes in ${this.dir}`);
    for (const node of this.managed) {
      node.process = await spawnServer(this.binary, node, this.plan.detached);
    }
    await settleAll(
      this.managed.map((node) =>
        waitFor(`node ${node.port} to serve`, SERVING_TIMEOUT_MS, () => this.servingProblem(node)),
      ),
    );
    const clients = await settleAll(
      this.managed.map((node) => connectNode(node.port, this.ca, this.settings.token)),
    ).catch((error: unknown) => {
      throw new LocalClusterError('could not connect to every node to form the cluster', {
        cause: error,
      });
    });
    try {
      log('assigning slots and introducing the nodes');
      await this.assignSlotsAndMeet(clients);
      await waitFor('every node to know every other', MEET_TIMEOUT_MS, () => this.meetProblem());
      log('attaching replicas');
      await this.attachReplicas(clients);
    } finally {
      for (const client of clients) client.disconnect();
    }
    await this.waitHealthy();
    log(`cluster healthy: ${this.managed.length} nodes`);
  }

  private async assignSlotsAndMeet(clients: readonly Redis[]): Promise<void> {
    const ids = await Promise.all(
      clients.map(async (client) => reply(await client.call('CLUSTER', 'MYID'))),
    );
    this.managed.forEach((node, index) => (node.id = ids[index] ?? ''));
    // Distinct epochs up front, so that no epoch collision has to be resolved while forming.
    await Promise.all(
      clients.map((client, index) => client.call('CLUSTER', 'SET-CONFIG-EPOCH', String(index + 1))),
    );
    await Promise.all(
      this.withClients(clients, 'primary').map(({ node, client }) => {
        const { start, end } = slotRangeOf(node.shard, this.plan.shards);
        return client.call('CLUSTER', 'ADDSLOTSRANGE', String(start), String(end));
      }),
    );
    // Every pair meets directly: waiting for gossip to spread one MEET takes seconds.
    await Promise.all(
      clients.map(async (client, index) => {
        for (const node of this.managed.slice(index + 1)) {
          await client.call(
            'CLUSTER',
            'MEET',
            '127.0.0.1',
            String(node.port),
            String(node.busPort),
          );
        }
      }),
    );
  }

  private async attachReplicas(clients: readonly Redis[]): Promise<void> {
    await Promise.all(
      this.withClients(clients, 'replica').map(({ node, client }) => {
        const primary = this.managed.find((p) => p.role === 'primary' && p.shard === node.shard);
        return client.call('CLUSTER', 'REPLICATE', primary?.id ?? '');
      }),
    );
  }

  /** The nodes with `role`, each with its client (`clients` is in node order). */
  private withClients(
    clients: readonly Redis[],
    role: NodeRole,
  ): { node: ManagedNode; client: Redis }[] {
    return this.managed.flatMap((node, index) =>
      node.role === role ? [{ node, client: at(clients, index) }] : [],
    );
  }

  private async servingProblem(node: ManagedNode): Promise<string | undefined> {
    this.assertAlive(node);
    try {
      await this.withNode(node.port, (client) => client.ping());
      return undefined;
    } catch (error) {
      return errorMessage(error);
    }
  }

  private async meetProblem(): Promise<string | undefined> {
    for (const node of this.managed) {
      this.assertAlive(node);
      const text = reply(
        await this.withNode(node.port, (client) => client.call('CLUSTER', 'NODES')),
      );
      const entries = parseClusterNodes(text);
      const known = entries.filter((entry) => !isHandshake(entry)).length;
      if (known !== this.managed.length || entries.length !== known) {
        return `node ${node.port} knows ${known} of ${this.managed.length} nodes`;
      }
    }
    return undefined;
  }

  private async healthProblem(): Promise<string | undefined> {
    const up = this.managed.filter((node) => node.state === 'running');
    for (const node of up) this.assertAlive(node);
    const views = await Promise.all(up.map((node) => this.viewOf(node)));
    const unanswered = views.find((view) => typeof view === 'string');
    if (unanswered !== undefined) return unanswered;
    return clusterProblem(
      views.filter((view) => typeof view !== 'string'),
      {
        nodeCount: this.managed.length,
        shardCount: this.plan.shards,
        upIds: new Set(up.map((node) => node.id)),
        portOf: (id) => String(this.managed.find((node) => node.id === id)?.port ?? id),
      },
    );
  }

  private async viewOf(node: ManagedNode): Promise<NodeView | string> {
    try {
      return await this.withNode(node.port, async (client) => ({
        port: node.port,
        clusterInfo: reply(await client.call('CLUSTER', 'INFO')),
        clusterNodes: reply(await client.call('CLUSTER', 'NODES')),
        replication: await client.info('replication'),
      }));
    } catch (error) {
      return `node ${node.port} did not answer: ${errorMessage(error)}`;
    }
  }

  private async withNode<T>(port: number, use: (client: Redis) => Promise<T>): Promise<T> {
    const client = await connectNode(port, this.ca, this.settings.token);
    try {
      return await use(client);
    } finally {
      client.disconnect();
    }
  }

  /** Throws (with the tail of its log) if a node that should be running has exited. */
  private assertAlive(node: ManagedNode): void {
    const exit = node.process?.exit;
    if (node.state === 'killed' || exit === undefined) return;
    const tail = logTail(node.logFile);
    if (tail.includes('Address already in use')) {
      const reason = `port ${node.port} or ${node.busPort} was taken before the server could bind it`;
      throw new PortTakenError(reason, tail);
    }
    throw new LocalClusterError(
      `${basename(this.binary)} on port ${node.port} exited (${exit}); last lines of ${node.logFile}:\n${tail}`,
    );
  }

  private async shutdown(): Promise<void> {
    unguard(this.guard);
    const running = this.liveProcesses();
    for (const proc of running) {
      // A stopped process leaves SIGTERM pending until it is continued.
      signal(proc.pid, 'SIGCONT');
      signal(proc.pid, 'SIGTERM');
    }
    if (!(await waitExited(running, STOP_GRACE_MS))) {
      for (const proc of this.liveProcesses()) signal(proc.pid, 'SIGKILL');
      if (!(await waitExited(running, KILL_WAIT_MS))) {
        const pids = this.liveProcesses().map((proc) => proc.pid);
        throw new LocalClusterError(`processes ${pids.join(', ')} did not exit after SIGKILL`);
      }
    }
    await rm(this.dir, { recursive: true, force: true });
    this.plan.log(`stopped ${running.length} running servers and removed ${this.dir}`);
  }

  /** For the process 'exit' hook: synchronous, so SIGKILL and a best-effort removal only. */
  private killNow(): void {
    for (const proc of this.liveProcesses()) {
      signal(proc.pid, 'SIGCONT');
      signal(proc.pid, 'SIGKILL');
    }
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // Exiting anyway; a leftover temp dir is the lesser evil.
    }
  }

  private liveProcesses(): ServerProcess[] {
    return this.managed.flatMap(({ process }) =>
      process !== undefined && process.exit === undefined ? [process] : [],
    );
  }

  private async writeState(): Promise<void> {
    const state: ClusterState = {
      version: 1,
      binary: this.binary,
      settings: this.settings,
      nodes: this.managed.map(({ port, busPort, dir, role, shard, process }) => ({
        port,
        busPort,
        dir,
        role,
        shard,
        pid: process?.pid ?? 0,
      })),
    };
    const envLines = Object.entries(this.env()).map(
      ([name, value]) => `${name}=${shellQuote(value)}`,
    );
    await writePrivateFile(join(this.dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
    await writePrivateFile(join(this.dir, ENV_FILE), `${envLines.join('\n')}\n`);
  }

  private node(port: number): ManagedNode {
    const node = this.managed.find((candidate) => candidate.port === port);
    if (node === undefined) {
      throw new LocalClusterError(`no node with port ${port} in the local cluster at ${this.dir}`);
    }
    return node;
  }

  private liveNode(port: number, action: string): ManagedNode {
    const node = this.node(port);
    if (node.state === 'killed') {
      throw new LocalClusterError(
        `cannot ${action} node ${port}: it was killed (restart it first)`,
      );
    }
    return node;
  }
}

// ---------------------------------------------------------------------------------------------
// Detached clusters: the state file, and stopping what it names.

interface ClusterState {
  readonly version: 1;
  readonly binary: string;
  readonly settings: LocalClusterSettings;
  readonly nodes: readonly (LocalNode & { readonly role: NodeRole; readonly shard: number })[];
}

export function readLocalClusterSettings(dir: string): LocalClusterSettings {
  const state = readState(resolve(dir));
  if (state === undefined) {
    throw new LocalClusterError(
      `no local cluster in ${dir} (no ${STATE_FILE}): start one with \`npm run cluster:up\``,
    );
  }
  return state.settings;
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

// ---------------------------------------------------------------------------------------------
// Health: pure checks over what each node says about the cluster.

interface NodeView {
  readonly port: number;
  readonly clusterInfo: string;
  readonly clusterNodes: string;
  readonly replication: string;
}

interface Expectation {
  readonly nodeCount: number;
  readonly shardCount: number;
  /** Ids of the nodes that should be up (not paused or killed). */
  readonly upIds: ReadonlySet<string>;
  readonly portOf: (id: string) => string;
}

interface NodesEntry {
  readonly id: string;
  readonly flags: readonly string[];
  /** '-' for a primary. */
  readonly primaryId: string;
  readonly slotRanges: number;
}

/** The first thing that keeps the cluster from being healthy, or undefined. */
function clusterProblem(views: readonly NodeView[], expected: Expectation): string | undefined {
  for (const view of views) {
    const problem = viewProblem(view, expected);
    if (problem !== undefined) return problem;
  }
  const roleMaps = new Set(views.map((view) => roleMap(parseClusterNodes(view.clusterNodes))));
  return roleMaps.size > 1 ? 'the nodes do not agree yet on who replicates whom' : undefined;
}

function viewProblem(view: NodeView, expected: Expectation): string | undefined {
  const { port } = view;
  const state = infoField(view.clusterInfo, 'cluster_state');
  if (state !== 'ok') return `node ${port} says cluster_state:${state ?? '?'}`;
  const entries = parseClusterNodes(view.clusterNodes);
  const members = entries.filter((entry) => !isHandshake(entry));
  if (members.length !== expected.nodeCount || members.length !== entries.length) {
    return `node ${port} knows ${members.length} of ${expected.nodeCount} nodes`;
  }
  const failing = members.find(
    (entry) =>
      expected.upIds.has(entry.id) &&
      entry.flags.some((flag) => flag === 'fail' || flag === 'fail?' || flag === 'noaddr'),
  );
  if (failing !== undefined) {
    return `node ${port} flags node ${expected.portOf(failing.id)} as ${failing.flags.join(',')}`;
  }
  const serving = members.filter((entry) => entry.flags.includes('master') && entry.slotRanges > 0);
  const servingDown = serving.find((entry) => !expected.upIds.has(entry.id));
  if (serving.length !== expected.shardCount || servingDown !== undefined) {
    const down =
      servingDown === undefined ? '' : `, one on down node ${expected.portOf(servingDown.id)}`;
    return `node ${port} sees ${serving.length} primaries serving slots${down}; expected ${expected.shardCount}`;
  }
  const idle = members.find(
    (entry) =>
      expected.upIds.has(entry.id) && entry.flags.includes('master') && entry.slotRanges === 0,
  );
  if (idle !== undefined) {
    return `node ${port} sees node ${expected.portOf(idle.id)} as a primary without slots`;
  }
  const link = infoField(view.replication, 'master_link_status');
  if (infoField(view.replication, 'role') === 'slave' && link !== 'up') {
    return `replica ${port} has master_link_status:${link ?? '?'}`;
  }
  return undefined;
}

/** `id role primary` per node, sorted: equal strings mean the same view of replication. */
function roleMap(entries: readonly NodesEntry[]): string {
  return entries
    .map((entry) => `${entry.id} ${entry.flags.includes('master') ? 'm' : 's'} ${entry.primaryId}`)
    .sort()
    .join('\n');
}

function parseClusterNodes(text: string): NodesEntry[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(' '))
    .filter((fields) => fields.length >= 8)
    .map((fields) => ({
      id: fields[0] ?? '',
      flags: (fields[2] ?? '').split(','),
      primaryId: fields[3] ?? '-',
      // Slot fields follow the link state; `[slot->-id]` entries are migrations, not ownership.
      slotRanges: fields.slice(8).filter((field) => !field.startsWith('[')).length,
    }));
}

function isHandshake(entry: NodesEntry): boolean {
  return entry.flags.includes('handshake') || entry.flags.includes('noaddr');
}

function infoField(info: string, name: string): string | undefined {
  const prefix = `${name}:`;
  const line = info.split('\n').find((candidate) => candidate.startsWith(prefix));
  return line?.slice(prefix.length).trim();
}

// ---------------------------------------------------------------------------------------------
// Planning and configuration.

function validateOptions(options: LocalClusterOptions): Plan {
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

async function prepareDir(dir: string | undefined): Promise<string> {
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
function planNodes(root: string, plan: Plan, ports: readonly number[]): ManagedNode[] {
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

/** Shard `shard` of `count` owns an even, contiguous share of the slots. */
function slotRangeOf(shard: number, count: number): { start: number; end: number } {
  return {
    start: Math.floor((shard * SLOT_COUNT) / count),
    end: Math.floor(((shard + 1) * SLOT_COUNT) / count) - 1,
  };
}

async function writeNodeConfig(
  node: ManagedNode,
  tls: TlsFiles,
  token: string,
  nodeTimeoutMs: number,
): Promise<void> {
  await mkdir(node.dir, { mode: 0o700 });
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
  await writePrivateFile(node.configFile, `${lines.join('\n')}\n`);
}

/** Binds `count` listeners to port 0 at once (so the ports differ), reads the ports, frees them. */
async function reservePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let index = 0; index < count; index++) servers.push(await listenOnFreePort());
    return servers.map((server) => (server.address() as AddressInfo).port);
  } finally {
    await Promise.all(
      servers.map((server) => new Promise<void>((done) => server.close(() => done()))),
    );
  }
}

function listenOnFreePort(): Promise<Server> {
  return new Promise((resolveServer, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolveServer(server));
  });
}

// ---------------------------------------------------------------------------------------------
// Processes and connections.

async function spawnServer(
  binary: string,
  node: ManagedNode,
  detached: boolean,
): Promise<ServerProcess> {
  const child = spawn(binary, [node.configFile], { cwd: node.dir, stdio: 'ignore', detached });
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

async function connectNode(port: number, ca: string, token?: string): Promise<Redis> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    tls: { ca, servername: 'localhost' },
    password: token,
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  // Failures reach the caller as rejected commands; without a listener ioredis also prints them.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    client.disconnect();
    throw error;
  }
}

/** True if every process exited within `timeoutMs`. */
async function waitExited(
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

/** Sends a signal; a process that is already gone is not an error. */
function signal(pid: number | undefined, name: NodeJS.Signals): void {
  if (pid === undefined || pid <= 0) return;
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Polls `check` (which returns what is still wrong, or undefined) until it passes or time is up. */
async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<string | undefined>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problem = await check();
    if (problem === undefined) return;
    if (Date.now() >= deadline) {
      throw new LocalClusterError(
        `timed out after ${timeoutMs} ms waiting for ${what}: ${problem}`,
      );
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

/** Polls a synchronous `done` until it holds (true) or `timeoutMs` passes (false). */
async function pollUntil(timeoutMs: number, done: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_INTERVAL_MS);
  }
  return true;
}

/** Like Promise.all, but lets every promise settle before rejecting, so no work is left behind. */
async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failure = results.find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    for (const result of results) {
      if (result.status === 'fulfilled' && result.value instanceof Redis) result.value.disconnect();
    }
    throw failure.reason;
  }
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

// ---------------------------------------------------------------------------------------------
// Non-detached servers die with this process.

interface Guard {
  readonly killNow: () => void;
  readonly stop: () => Promise<void>;
}

const guards = new Set<Guard>();

function guard(entry: Guard): void {
  if (guards.size === 0) {
    process.on('exit', killAllNow);
    process.on('SIGINT', stopAllOnSigint);
    process.on('SIGTERM', stopAllOnSigterm);
  }
  guards.add(entry);
}

function unguard(entry: Guard): void {
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

// ---------------------------------------------------------------------------------------------
// Small helpers.

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

async function writePrivateFile(file: string, text: string): Promise<void> {
  // Write then rename, so that a reader never sees half a file and the mode is set from the start.
  const partial = `${file}.partial`;
  await writeFile(partial, text, { mode: 0o600 });
  await rename(partial, file);
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

/** A double-quoted redis.conf argument. */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function reply(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  throw new LocalClusterError(`unexpected reply ${JSON.stringify(value)}`);
}

function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined)
    throw new LocalClusterError(`internal: no item ${index} of ${items.length}`);
  return item;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
