import { describe, expect, it } from 'vitest';
import {
  clusterProblem,
  knownNodesProblem,
  type Expectation,
  type NodeView,
} from '../../tools/local/cluster-health.js';

// A 2-shard x 1-replica cluster: p0 and p1 own the slots, r0 replicates p0 and r1 replicates p1.
const P0 = 'a'.repeat(40);
const P1 = 'b'.repeat(40);
const R0 = 'c'.repeat(40);
const R1 = 'd'.repeat(40);
const PORTS: Record<string, number> = { [P0]: 7000, [P1]: 7001, [R0]: 7002, [R1]: 7003 };

interface Entry {
  readonly id: string;
  readonly flags: string;
  readonly primary: string;
  readonly slots: string;
}

const HEALTHY: readonly Entry[] = [
  { id: P0, flags: 'master', primary: '-', slots: '0-8191' },
  { id: P1, flags: 'master', primary: '-', slots: '8192-16383' },
  { id: R0, flags: 'slave', primary: P0, slots: '' },
  { id: R1, flags: 'slave', primary: P1, slots: '' },
];

/** CLUSTER NODES as a server prints it: one line per node, slot fields after the link state. */
function clusterNodes(entries: readonly Entry[]): string {
  const line = ({ id, flags, primary, slots }: Entry): string => {
    const port = PORTS[id] ?? 0;
    const fields = [id, `127.0.0.1:${port}@${port + 10000}`, flags, primary, '0', '0', '1'];
    return [...fields, 'connected', slots].join(' ').trim();
  };
  return `${entries.map(line).join('\n')}\n`;
}

/** The entries with `id`'s fields replaced by `change`. */
function withEntry(entries: readonly Entry[], id: string, change: Partial<Entry>): Entry[] {
  return entries.map((entry) => (entry.id === id ? { ...entry, ...change } : entry));
}

function replication(id: string, link = 'up'): string {
  const entry = HEALTHY.find((candidate) => candidate.id === id);
  if (entry?.flags !== 'slave') return '# Replication\r\nrole:master\r\nconnected_slaves:1\r\n';
  const port = PORTS[entry.primary] ?? 0;
  return `# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:${port}\r\nmaster_link_status:${link}\r\n`;
}

/** What each node in `ids` says, all agreeing on `entries`. */
function views(entries: readonly Entry[], ids = [P0, P1, R0, R1]): NodeView[] {
  return ids.map((id) => ({
    port: PORTS[id] ?? 0,
    clusterInfo: 'cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_known_nodes:4\r\n',
    clusterNodes: clusterNodes(entries),
    replication: replication(id),
  }));
}

/** The view of the node on `port` replaced by `change`. */
function withView(all: readonly NodeView[], port: number, change: Partial<NodeView>): NodeView[] {
  return all.map((view) => (view.port === port ? { ...view, ...change } : view));
}

function expectation(upIds: readonly string[] = [P0, P1, R0, R1]): Expectation {
  return {
    nodeCount: 4,
    shardCount: 2,
    upIds: new Set(upIds),
    portOf: (id) => String(PORTS[id] ?? id),
  };
}

describe('clusterProblem', () => {
  it('passes a cluster in which every node sees the same healthy layout', () => {
    expect(clusterProblem(views(HEALTHY), expectation())).toBeUndefined();
  });

  it('passes after a failover: the promoted replica serves, the killed primary is down and flagged fail', () => {
    // Prepare: p1 was killed; r1 took over its slots.
    const entries = withEntry(withEntry(HEALTHY, P1, { flags: 'master,fail', slots: '' }), R1, {
      flags: 'master',
      primary: '-',
      slots: '8192-16383',
    });
    const upViews = withView(views(entries, [P0, R0, R1]), 7003, {
      replication: '# Replication\r\nrole:master\r\n',
    });

    // Act
    const problem = clusterProblem(upViews, expectation([P0, R0, R1]));

    // Assess
    expect(problem).toBeUndefined();
  });

  it('fails a node that says cluster_state:fail', () => {
    const all = withView(views(HEALTHY), 7001, { clusterInfo: 'cluster_state:fail\r\n' });
    expect(clusterProblem(all, expectation())).toBe('node 7001 says cluster_state:fail');
  });

  it('fails a node whose CLUSTER INFO has no cluster_state', () => {
    const all = withView(views(HEALTHY), 7002, { clusterInfo: '' });
    expect(clusterProblem(all, expectation())).toBe('node 7002 says cluster_state:?');
  });

  it('fails a node that knows fewer nodes than the cluster has', () => {
    // Prepare: node 7000 has not heard of r1 yet.
    const missing = HEALTHY.filter((entry) => entry.id !== R1);
    const all = withView(views(HEALTHY), 7000, { clusterNodes: clusterNodes(missing) });

    // Act
    const problem = clusterProblem(all, expectation());

    // Assess
    expect(problem).toBe('node 7000 knows 3 of 4 nodes');
  });

  it('fails a node that still has another in handshake', () => {
    const handshake = withEntry(HEALTHY, R0, { flags: 'handshake' });
    const all = withView(views(HEALTHY), 7003, { clusterNodes: clusterNodes(handshake) });
    expect(clusterProblem(all, expectation())).toBe('node 7003 knows 3 of 4 nodes');
  });

  it.each(['fail', 'fail?'])('fails a node that flags a running node as %s', (flag) => {
    const flagged = withEntry(HEALTHY, P1, { flags: `master,${flag}` });
    const all = withView(views(HEALTHY), 7000, { clusterNodes: clusterNodes(flagged) });
    expect(clusterProblem(all, expectation())).toBe(`node 7000 flags node 7001 as master,${flag}`);
  });

  it('fails while a down primary still owns slots (no failover yet)', () => {
    // Prepare: p1 was killed, the others have not flagged it yet.
    const upViews = views(HEALTHY, [P0, R0, R1]);

    // Act
    const problem = clusterProblem(upViews, expectation([P0, R0, R1]));

    // Assess
    expect(problem).toBe(
      'node 7000 sees 2 primaries serving slots, one on down node 7001; expected 2',
    );
  });

  it('fails when fewer primaries serve slots than there are shards', () => {
    const oneShard = withEntry(HEALTHY, P0, { slots: '0-16383' });
    const entries = withEntry(oneShard, P1, { slots: '' });
    expect(clusterProblem(views(entries), expectation())).toBe(
      'node 7000 sees 1 primaries serving slots; expected 2',
    );
  });

  it('counts a slot migration entry as no ownership', () => {
    // Prepare: p1's only slot field is an import in progress.
    const entries = withEntry(HEALTHY, P1, { slots: `[8192-<-${P0}]` });

    // Act
    const problem = clusterProblem(views(entries), expectation());

    // Assess
    expect(problem).toBe('node 7000 sees 1 primaries serving slots; expected 2');
  });

  it('fails a running primary without slots', () => {
    const entries = withEntry(HEALTHY, R1, { flags: 'master', primary: '-' });
    expect(clusterProblem(views(entries), expectation())).toBe(
      'node 7000 sees node 7003 as a primary without slots',
    );
  });

  it('fails a replica whose link to its primary is down', () => {
    const all = withView(views(HEALTHY), 7002, { replication: replication(R0, 'down') });
    expect(clusterProblem(all, expectation())).toBe('replica 7002 has master_link_status:down');
  });

  it('fails a replica that does not report its link status', () => {
    const all = withView(views(HEALTHY), 7003, { replication: 'role:slave\r\n' });
    expect(clusterProblem(all, expectation())).toBe('replica 7003 has master_link_status:?');
  });

  it('fails while the nodes disagree on who replicates whom', () => {
    // Prepare: node 7001 still thinks r1 replicates p0.
    const stale = withEntry(HEALTHY, R1, { primary: P0 });
    const all = withView(views(HEALTHY), 7001, { clusterNodes: clusterNodes(stale) });

    // Act
    const problem = clusterProblem(all, expectation());

    // Assess
    expect(problem).toBe('the nodes do not agree yet on who replicates whom');
  });
});

describe('knownNodesProblem', () => {
  it('passes a node that knows every node', () => {
    expect(knownNodesProblem(7000, clusterNodes(HEALTHY), 4)).toBeUndefined();
  });

  it('fails a node that knows only itself', () => {
    const alone = clusterNodes(HEALTHY.slice(0, 1));
    expect(knownNodesProblem(7000, alone, 4)).toBe('node 7000 knows 1 of 4 nodes');
  });

  it.each(['handshake', 'noaddr'])('does not count a node flagged %s as known', (flag) => {
    const entries = withEntry(HEALTHY, R1, { flags: flag });
    expect(knownNodesProblem(7000, clusterNodes(entries), 4)).toBe('node 7000 knows 3 of 4 nodes');
  });

  it('ignores blank and short lines', () => {
    const text = `${clusterNodes(HEALTHY)}\n\nnot a node line\n`;
    expect(knownNodesProblem(7000, text, 4)).toBeUndefined();
  });
});
