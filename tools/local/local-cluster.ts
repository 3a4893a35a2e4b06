/**
 * A real Redis / Valkey cluster on loopback, with TLS and AUTH like ElastiCache in-transit
 * encryption: what the demo, the integration tests and the benchmark probe. The cluster is formed
 * with plain CLUSTER commands (no redis-cli), on ports picked at random so that several can run at
 * once, and every wait is bounded and says what did not happen.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { inspect } from 'node:util';
import type { Redis } from 'ioredis';
import { LocalClusterError } from '../../lambda/errors.js';
import { generateTlsFiles, type TlsFiles } from './certs.js';
import { assignSlotsAndMeet, attachReplicas } from './cluster-formation.js';
import {
  at,
  planNodes,
  prepareDir,
  validateOptions,
  type LocalClusterOptions,
  type LocalNode,
  type ManagedNode,
  type Plan,
} from './cluster-plan.js';
import {
  healthProblem,
  meetProblem,
  servingProblem,
  type NodeAccess,
} from './cluster-readiness.js';
import { redactedSettings, type LocalClusterSettings } from './cluster-settings.js';
import { writeClusterState } from './cluster-state.js';
import { PortTakenError, reservePorts } from './free-ports.js';
import { connectNode, reply, settleAll } from './node-client.js';
import { waitFor } from './polling.js';
import { writeNodeConfig } from './server-config.js';
import {
  KILL_WAIT_MS,
  findServerBinary,
  guard,
  killProcessesNow,
  signal,
  spawnServer,
  stopProcesses,
  unguard,
  waitExited,
  type Guard,
  type ServerProcess,
} from './server-process.js';

export {
  LOCAL_CLUSTER_DEFAULTS,
  type LocalClusterOptions,
  type LocalNode,
} from './cluster-plan.js';
export type { LocalClusterSettings } from './cluster-settings.js';
export {
  readLocalClusterSettings,
  runningServerPidsAt,
  stopLocalClusterAt,
} from './cluster-state.js';
export { findServerBinary } from './server-process.js';

const PORT_ATTEMPTS = 3;
const SERVING_TIMEOUT_MS = 20_000;
const MEET_TIMEOUT_MS = 30_000;
const HEALTHY_TIMEOUT_MS = 30_000;

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
  private readonly access: NodeAccess;
  private stopping?: Promise<void>;
  /** Nodes taken out of the cluster that may still run: stop() reaps them too. */
  private readonly retired: ManagedNode[] = [];

  private constructor(
    dir: string,
    settings: LocalClusterSettings,
    private readonly binary: string,
    private readonly tls: TlsFiles,
    private readonly managed: ManagedNode[],
    private readonly plan: Plan,
  ) {
    const ca = readFileSync(tls.caCertFile, 'utf8');
    this.dir = dir;
    this.settings = redactedSettings(settings);
    this.access = { binary, connect: (port) => connectNode(port, ca, this.settings.token) };
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
      cluster = new LocalCluster(dir, settings, binary, tls, nodes, plan);
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
    return this.access.connect(port);
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

  /**
   * Starts killed nodes again from their own config and nodes.conf, then waits for a healthy
   * cluster. Several at once bring back a cluster whose nodes were all killed: one alone could
   * not be healthy without the others.
   */
  async restart(...ports: number[]): Promise<void> {
    const nodes = ports.map((port) => this.node(port));
    for (const node of nodes) {
      if (node.process !== undefined && node.process.exit === undefined) {
        if (node.state !== 'killed') {
          throw new LocalClusterError(
            `node ${node.port} is still running (pid ${node.process.pid}): kill it before restarting it`,
          );
        }
        await waitExited([node.process], KILL_WAIT_MS);
      }
    }
    for (const node of nodes) {
      node.process = await spawnServer(this.binary, node, this.plan.detached);
      node.state = 'running';
    }
    if (this.plan.detached) await this.writeState();
    await settleAll(
      nodes.map((node) =>
        waitFor(`node ${node.port} to serve again`, SERVING_TIMEOUT_MS, () =>
          servingProblem(node, this.access),
        ),
      ),
    );
    await this.waitHealthy();
  }

  /**
   * Scale-out: a new server (same TLS files, token and settings as the others) joins the cluster
   * with CLUSTER MEET and replicates the primary on `primaryPort`; resolves once the cluster is
   * healthy with it.
   */
  async addReplica(primaryPort: number): Promise<LocalNode> {
    const primary = this.node(primaryPort);
    const ports = await reservePorts(2);
    const [port, busPort] = [at(ports, 0), at(ports, 1)];
    const dir = join(this.dir, `node-${port}`);
    const node: ManagedNode = {
      port,
      busPort,
      dir,
      configFile: join(dir, 'redis.conf'),
      logFile: join(dir, 'server.log'),
      role: 'replica',
      shard: primary.shard,
      id: '',
      state: 'running',
    };
    await writeNodeConfig(node, this.tls, this.settings.token, this.plan.nodeTimeoutMs);
    node.process = await spawnServer(this.binary, node, this.plan.detached);
    // Managed from here on, so that stop() reaps it whatever happens next.
    this.managed.push(node);
    if (this.plan.detached) await this.writeState();
    await waitFor(`node ${port} to serve`, SERVING_TIMEOUT_MS, () =>
      servingProblem(node, this.access),
    );
    const client = await this.access.connect(port);
    try {
      node.id = reply(await client.call('CLUSTER', 'MYID'));
      await client.call(
        'CLUSTER',
        'MEET',
        '127.0.0.1',
        String(primary.port),
        String(primary.busPort),
      );
      await waitFor('every node to know the new one', MEET_TIMEOUT_MS, () =>
        meetProblem(this.managed, this.access),
      );
      await client.call('CLUSTER', 'REPLICATE', primary.id);
    } finally {
      client.disconnect();
    }
    await this.waitHealthy();
    return at(this.nodes, this.managed.indexOf(node));
  }

  /**
   * Scale-in, first half: every other node forgets this one (CLUSTER FORGET), which keeps
   * running outside the cluster, as an instance does until it is terminated. FORGET bans the id
   * for 60 s, so the node must be stopped (removeNode) within that time.
   */
  async forgetNode(port: number): Promise<void> {
    const node = this.node(port);
    const others = this.managed.filter((other) => other !== node);
    for (const other of others) {
      const client = await this.access.connect(other.port);
      try {
        await client.call('CLUSTER', 'FORGET', node.id);
      } finally {
        client.disconnect();
      }
    }
    this.managed.splice(this.managed.indexOf(node), 1);
    this.retired.push(node);
  }

  /** Scale-in: the node is forgotten (unless it already was) and stopped; waits for a healthy cluster. */
  async removeNode(port: number): Promise<void> {
    if (!this.retired.some((node) => node.port === port)) await this.forgetNode(port);
    const node = this.retired.find((candidate) => candidate.port === port);
    if (node?.process !== undefined) await stopProcesses([node.process]);
    if (this.plan.detached) await this.writeState();
    await this.waitHealthy();
  }

  /**
   * Every node this manager has not paused or killed says cluster_state:ok, lists all nodes (none in
   * handshake), and flags none of the running ones as failing; each shard's slots are served by a
   * running primary; every running replica has master_link_status:up; and all agree on who
   * replicates whom.
   */
  async waitHealthy(timeoutMs: number = HEALTHY_TIMEOUT_MS): Promise<void> {
    await waitFor('a healthy cluster', timeoutMs, () =>
      healthProblem(this.managed, this.plan.shards, this.access),
    );
  }

  /** SIGCONT, SIGTERM, up to 5 s grace, SIGKILL; then removes the directory. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /** What JSON.stringify shows: the settings with their token redacted, and the nodes. */
  toJSON(): { dir: string; settings: LocalClusterSettings; nodes: readonly LocalNode[] } {
    return { dir: this.dir, settings: this.settings, nodes: this.nodes };
  }

  /** What console.log and util.inspect show: the same, not the internals (a ChildProcess each). */
  [inspect.custom](): object {
    return this.toJSON();
  }

  private async launch(): Promise<void> {
    const { log } = this.plan;
    log(`starting ${this.managed.length} ${basename(this.binary)} processes in ${this.dir}`);
    for (const node of this.managed) {
      node.process = await spawnServer(this.binary, node, this.plan.detached);
    }
    await settleAll(
      this.managed.map((node) =>
        waitFor(`node ${node.port} to serve`, SERVING_TIMEOUT_MS, () =>
          servingProblem(node, this.access),
        ),
      ),
    );
    const clients = await settleAll(
      this.managed.map((node) => this.access.connect(node.port)),
    ).catch((error: unknown) => {
      throw new LocalClusterError('could not connect to every node to form the cluster', {
        cause: error,
      });
    });
    try {
      log('assigning slots and introducing the nodes');
      await assignSlotsAndMeet(this.managed, clients, this.plan.shards);
      await waitFor('every node to know every other', MEET_TIMEOUT_MS, () =>
        meetProblem(this.managed, this.access),
      );
      log('attaching replicas');
      await attachReplicas(this.managed, clients);
    } finally {
      for (const client of clients) client.disconnect();
    }
    await this.waitHealthy();
    log(`cluster healthy: ${this.managed.length} nodes`);
  }

  private async shutdown(): Promise<void> {
    unguard(this.guard);
    const running = this.liveProcesses();
    await stopProcesses(running);
    await rm(this.dir, { recursive: true, force: true });
    this.plan.log(`stopped ${running.length} running servers and removed ${this.dir}`);
  }

  /** For the process 'exit' hook: synchronous, so SIGKILL and a best-effort removal only. */
  private killNow(): void {
    killProcessesNow(this.liveProcesses());
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // Exiting anyway; a leftover temp dir is the lesser evil.
    }
  }

  private liveProcesses(): ServerProcess[] {
    return [...this.managed, ...this.retired].flatMap(({ process }) =>
      process !== undefined && process.exit === undefined ? [process] : [],
    );
  }

  private async writeState(): Promise<void> {
    const nodes = this.managed.map(({ port, busPort, dir, role, shard, process }) => ({
      port,
      busPort,
      dir,
      role,
      shard,
      pid: process?.pid ?? 0,
    }));
    await writeClusterState(this.dir, this.binary, this.settings, nodes, this.env());
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
