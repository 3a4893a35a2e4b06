/**
 * Property-based tests of the topology parsers: whatever a server (or a broken proxy) sends,
 * parsing ends in a Topology that holds together or in a TopologyParseError that says where and
 * what, never in a TypeError or RangeError; and topologies generated at random come back from
 * both reply formats as exactly the nodes and slots they were made of.
 */
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SLOT_COUNT } from '../../lambda/cluster/slots.js';
import {
  parseClusterNodes,
  parseClusterShards,
  parseSlotMapDigest,
  slotOwners,
  type Topology,
} from '../../lambda/cluster/topology.js';
import { parseRedirect } from '../../lambda/cluster/routing.js';
import { TopologyParseError } from '../../lambda/errors.js';

const FIXTURES = new URL('../support/fixtures/redis-7.0/', import.meta.url);
const fixtureNames = readdirSync(FIXTURES);
const read = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');
const SHARDS_FIXTURES = fixtureNames.filter((n) => n.endsWith('.shards.json'));
const NODES_FIXTURES = fixtureNames.filter((n) => n.endsWith('.nodes.txt'));
const SLOTS_FIXTURES = fixtureNames.filter((n) => n.endsWith('.slots.json'));

// Fixed seed: a failure reproduces as is; the run counts keep the unit tier fast.
const RUNS = { seed: 7_2026, numRuns: 1000 };

/** Runs `parse`; a TopologyParseError is fine, any other exception fails the property. */
function parsedOrNamedError<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (error instanceof TopologyParseError) {
      expect(error.message).toMatch(/^CLUSTER (SHARDS|NODES|SLOTS)[^:]*: \S/);
      expect(error.message.length).toBeLessThan(400);
      return undefined;
    }
    throw error;
  }
}

/** What any topology the parsers return must satisfy, however odd its input: its problems. */
function incoherence(topology: Topology): string[] {
  const problems: string[] = [];
  const ids = new Set(topology.nodes.map((n) => n.id));
  if (ids.size !== topology.nodes.length) problems.push('a node is listed twice');
  const owners = new Array<string | undefined>(SLOT_COUNT).fill(undefined);
  for (const shard of topology.shards) {
    for (const { start, end } of shard.slots) {
      if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end))
        problems.push(`shard ${shard.id}: range ${start}-${end}`);
      if (end >= SLOT_COUNT) problems.push(`shard ${shard.id}: slot ${end} out of range`);
      for (let slot = start; slot <= Math.min(end, SLOT_COUNT - 1); slot++) {
        if (owners[slot] !== undefined) problems.push(`slot ${slot} in two shards`);
        owners[slot] = shard.id;
      }
    }
    for (const id of shard.nodeIds)
      if (!ids.has(id)) problems.push(`shard ${shard.id} lists unknown node ${id}`);
    if (shard.primaryId !== undefined && shard.nodeIds[0] !== shard.primaryId)
      problems.push(`shard ${shard.id}: primary not first`);
  }
  for (const node of topology.nodes) {
    if (!/^[0-9a-fA-F]{40}$/.test(node.id)) problems.push(`bad id ${node.id}`);
    if (!(Number.isInteger(node.port) && node.port >= 0 && node.port <= 65_535))
      problems.push(`${node.id}: port ${node.port}`);
    if (!topology.shards.some((s) => s.id === node.shard && s.nodeIds.includes(node.id)))
      problems.push(`${node.id}: not in its shard ${node.shard}`);
  }
  return problems;
}

function expectCoherent(topology: Topology): void {
  expect(incoherence(topology)).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Mutations of recorded replies
// ---------------------------------------------------------------------------------------------

const hex40 = fc.string({
  unit: fc.constantFrom(...'0123456789abcdef'),
  minLength: 40,
  maxLength: 40,
});

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to an array element in a nested reply. */
function arrayPaths(value: unknown, path: number[] = []): number[][] {
  if (!Array.isArray(value)) return [];
  return [path, ...value.flatMap((item, i) => arrayPaths(item, [...path, i]))];
}

/** A value where the parser expects anything: wrong types, edge numbers, odd strings. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    -1,
    0,
    65_536,
    16_384,
    Number.NaN,
    Infinity,
    1.5,
    '',
    '?',
    'master',
    'replica',
    'fail',
    'online',
    [],
    {},
    new Map(),
  ),
  fc.string(),
  fc.integer(),
  fc.double(),
  hex40,
  fc.anything(),
);

type Mutation =
  | { kind: 'replace'; at: number; index: number; with: unknown }
  | { kind: 'delete'; at: number; index: number }
  | { kind: 'insert'; at: number; index: number; with: unknown }
  | { kind: 'duplicate'; at: number; index: number }
  | { kind: 'swap'; at: number; index: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), index: fc.nat(), with: junk }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), index: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), index: fc.nat(), with: junk }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), index: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), index: fc.nat() }),
);

/** Applies mutations to a deep copy: each picks an array in the reply, then one of its items. */
function mutate(reply: Json, mutations: readonly Mutation[]): unknown {
  const copy = structuredClone(reply) as unknown;
  for (const m of mutations) {
    const paths = arrayPaths(copy);
    const path = paths[m.at % paths.length] ?? [];
    const target = path.reduce<unknown>((node, i) => (node as unknown[])[i], copy) as unknown[];
    const index = target.length === 0 ? 0 : m.index % target.length;
    if (m.kind === 'replace') target[index] = m.with;
    if (m.kind === 'delete') target.splice(index, 1);
    if (m.kind === 'insert') target.splice(index, 0, m.with);
    if (m.kind === 'duplicate' && target.length > 0) target.splice(index, 0, target[index]);
    if (m.kind === 'swap' && target.length > 1) {
      const other = (index + 1) % target.length;
      [target[index], target[other]] = [target[other], target[index]];
    }
  }
  return copy;
}

describe('CLUSTER SHARDS parsing under fuzzing', () => {
  it('turns arbitrary values into a named error, never a crash', () => {
    fc.assert(
      fc.property(fc.anything({ withMap: true, withSet: true, withNullPrototype: true }), (v) => {
        const topology = parsedOrNamedError(() => parseClusterShards(v, { tls: true }));
        if (topology !== undefined) expectCoherent(topology);
      }),
      RUNS,
    );
  });

  it.each(SHARDS_FIXTURES)('survives mutations of the recorded %s', (name) => {
    const reply = JSON.parse(read(name)) as Json;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (ms, tls) => {
        const topology = parsedOrNamedError(() => parseClusterShards(mutate(reply, ms), { tls }));
        if (topology !== undefined) expectCoherent(topology);
      }),
      { ...RUNS, numRuns: 300 },
    );
  });
});

describe('CLUSTER SLOTS digests under fuzzing', () => {
  it.each(SLOTS_FIXTURES)('survive mutations of the recorded %s', (name) => {
    const reply = JSON.parse(read(name)) as Json;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ms) => {
        const digest = parsedOrNamedError(() => parseSlotMapDigest(mutate(reply, ms)));
        if (digest !== undefined) expect(typeof digest).toBe('string');
      }),
      { ...RUNS, numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// CLUSTER NODES text
// ---------------------------------------------------------------------------------------------

type TextMutation =
  | { kind: 'char'; at: number; with: string }
  | { kind: 'drop-token'; at: number }
  | { kind: 'duplicate-line'; at: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; text: string };

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({
    kind: fc.constant('char' as const),
    at: fc.nat(),
    with: fc.oneof(
      fc.constantFrom(' ', ',', ':', '@', '-', '[', ']', '>', '<', '\n', '9', 'x', '?'),
      fc.string({ maxLength: 3 }),
    ),
  }),
  fc.record({ kind: fc.constant('drop-token' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate-line' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string() }),
);

function mutateText(text: string, mutations: readonly TextMutation[]): string {
  let result = text;
  for (const m of mutations) {
    const at = result.length === 0 ? 0 : m.at % result.length;
    if (m.kind === 'char') result = result.slice(0, at) + m.with + result.slice(at + 1);
    if (m.kind === 'insert') result = result.slice(0, at) + m.text + result.slice(at);
    if (m.kind === 'truncate') result = result.slice(0, at);
    if (m.kind === 'drop-token') {
      const tokens = result.split(' ');
      tokens.splice(m.at % tokens.length, 1);
      result = tokens.join(' ');
    }
    if (m.kind === 'duplicate-line') {
      const lines = result.split('\n');
      const index = m.at % lines.length;
      lines.splice(index, 0, lines[index] ?? '');
      result = lines.join('\n');
    }
  }
  return result;
}

describe('CLUSTER NODES parsing under fuzzing', () => {
  it('turns arbitrary text and non-text into a named error, never a crash', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()), (v) => {
        const topology = parsedOrNamedError(() => parseClusterNodes(v as string, { tls: true }));
        if (topology !== undefined) expectCoherent(topology);
      }),
      RUNS,
    );
  });

  it.each(NODES_FIXTURES)('survives mutations of the recorded %s', (name) => {
    const text = read(name);
    fc.assert(
      fc.property(fc.array(textMutation, { minLength: 1, maxLength: 4 }), (ms) => {
        const topology = parsedOrNamedError(() =>
          parseClusterNodes(mutateText(text, ms), { tls: false }),
        );
        if (topology !== undefined) expectCoherent(topology);
      }),
      { ...RUNS, numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Generated clusters: both formats must give back exactly what they describe
// ---------------------------------------------------------------------------------------------

interface GeneratedNode {
  readonly id: string;
  readonly port: number;
  readonly health: 'online' | 'failed';
}

interface GeneratedShard {
  readonly primary: GeneratedNode;
  readonly replicas: readonly GeneratedNode[];
  /** Sorted, disjoint, non-adjacent. */
  readonly ranges: readonly { start: number; end: number }[];
}

const nodeId = hex40;

/** 1-6 shards, each with 0-3 replicas, the 16384 slots cut at random among them. */
const cluster: fc.Arbitrary<GeneratedShard[]> = fc
  .integer({ min: 1, max: 6 })
  .chain((shards) =>
    fc.record({
      ids: fc.uniqueArray(nodeId, { minLength: shards * 4, maxLength: shards * 4 }),
      replicas: fc.array(fc.integer({ min: 0, max: 3 }), {
        minLength: shards,
        maxLength: shards,
      }),
      cuts: fc.uniqueArray(fc.integer({ min: 1, max: SLOT_COUNT - 1 }), { maxLength: 12 }),
      owners: fc.array(fc.nat(), { minLength: 13, maxLength: 13 }),
      ports: fc.array(fc.integer({ min: 1, max: 65_535 }), {
        minLength: shards * 4,
        maxLength: shards * 4,
      }),
      failed: fc.array(fc.boolean(), { minLength: shards * 4, maxLength: shards * 4 }),
    }),
  )
  .map(({ ids, replicas, cuts, owners, ports, failed }) => {
    const shardCount = replicas.length;
    const node = (i: number): GeneratedNode => ({
      id: ids[i] ?? '',
      port: ports[i] ?? 1,
      // A failed primary would be grouped apart by CLUSTER SHARDS; only replicas fail here.
      health: i % 4 !== 0 && failed[i] ? 'failed' : 'online',
    });
    const bounds = [0, ...[...cuts].sort((a, b) => a - b), SLOT_COUNT];
    const ranges = bounds.slice(0, -1).map((start, i) => ({
      start,
      end: (bounds[i + 1] ?? SLOT_COUNT) - 1,
      // Every shard owns at least its own run, so that no primary is slotless.
      owner: i < shardCount ? i : (owners[i] ?? 0) % shardCount,
    }));
    return replicas.map((count, s) => ({
      primary: node(s * 4),
      replicas: Array.from({ length: count }, (_, r) => node(s * 4 + 1 + r)),
      ranges: mergeRanges(ranges.filter((r) => r.owner === s)),
    }));
  })
  .filter((shards) => shards.every((s) => s.ranges.length > 0));

function mergeRanges(ranges: readonly { start: number; end: number }[]) {
  const merged: { start: number; end: number }[] = [];
  for (const { start, end } of ranges) {
    const last = merged.at(-1);
    if (last && last.end + 1 === start) last.end = end;
    else merged.push({ start, end });
  }
  return merged;
}

/** CLUSTER SHARDS as ioredis returns it over RESP2; `asMaps` renders each map as a JS Map. */
function shardsReply(shards: readonly GeneratedShard[], asMaps: boolean): unknown {
  const map = (pairs: [string, unknown][]) => (asMaps ? new Map(pairs) : pairs.flat());
  const nodeReply = (node: GeneratedNode, role: string) =>
    map([
      ['id', node.id],
      ['port', 0],
      ['tls-port', node.port],
      ['ip', '10.0.0.1'],
      ['endpoint', '10.0.0.1'],
      ['role', role],
      ['replication-offset', 42],
      ['health', node.health === 'failed' ? 'fail' : 'online'],
    ]);
  return shards.map((shard) =>
    map([
      ['slots', shard.ranges.flatMap(({ start, end }) => [start, end])],
      [
        'nodes',
        [nodeReply(shard.primary, 'master'), ...shard.replicas.map((r) => nodeReply(r, 'replica'))],
      ],
    ]),
  );
}

function nodesText(shards: readonly GeneratedShard[]): string {
  const line = (node: GeneratedNode, flags: string, master: string, slots: string) =>
    `${node.id} 10.0.0.1:${node.port}@${(node.port % 50_000) + 1} ${flags}${node.health === 'failed' ? ',fail' : ''} ${master} 0 1700000000000 1 connected${slots}`;
  return shards
    .flatMap((shard) => [
      line(
        shard.primary,
        'master',
        '-',
        shard.ranges
          .map(({ start, end }) => ` ${start === end ? start : `${start}-${end}`}`)
          .join(''),
      ),
      ...shard.replicas.map((r) => line(r, 'slave', shard.primary.id, '')),
    ])
    .join('\n');
}

function expectGenerated(topology: Topology, shards: readonly GeneratedShard[]): void {
  expectCoherent(topology);
  expect(topology.shards).toHaveLength(shards.length);
  const owners = slotOwners(topology);
  for (const shard of shards) {
    for (const { start, end } of shard.ranges) {
      expect(owners[start]).toBe(shard.primary.id);
      expect(owners[end]).toBe(shard.primary.id);
    }
    const members = [shard.primary, ...shard.replicas];
    for (const member of members) {
      const node = topology.nodes.find((n) => n.id === member.id);
      expect(node).toMatchObject({
        host: '10.0.0.1',
        port: member.port,
        role: member === shard.primary ? 'primary' : 'replica',
        health: member.health,
      });
      if (member !== shard.primary) expect(node?.primaryId).toBe(shard.primary.id);
    }
  }
  expect(owners.every((owner) => owner !== undefined)).toBe(true);
  expect(topology.nodes).toHaveLength(shards.reduce((n, s) => n + 1 + s.replicas.length, 0));
}

describe('generated clusters', () => {
  it('come back from CLUSTER SHARDS (flat pairs or maps) as the very nodes and slots', () => {
    fc.assert(
      fc.property(cluster, fc.boolean(), (shards, asMaps) => {
        expectGenerated(parseClusterShards(shardsReply(shards, asMaps), { tls: true }), shards);
      }),
      { ...RUNS, numRuns: 500 },
    );
  });

  it('come back from CLUSTER NODES as the very nodes and slots', () => {
    fc.assert(
      fc.property(cluster, (shards) => {
        expectGenerated(parseClusterNodes(nodesText(shards), { tls: true }), shards);
      }),
      { ...RUNS, numRuns: 500 },
    );
  });

  it('agree between the two formats', () => {
    fc.assert(
      fc.property(cluster, (shards) => {
        const viaShards = parseClusterShards(shardsReply(shards, false), { tls: true });
        const viaNodes = parseClusterNodes(nodesText(shards), { tls: true });
        expect(viaNodes.shards).toEqual(viaShards.shards);
        expect(viaNodes.nodes.map((n) => [n.id, n.port, n.role, n.shard])).toEqual(
          viaShards.nodes.map((n) => [n.id, n.port, n.role, n.shard]),
        );
      }),
      { ...RUNS, numRuns: 300 },
    );
  });
});

describe('redirect replies under fuzzing', () => {
  it('parse into a slot and a dialable target, or into nothing', () => {
    const reply = fc.oneof(
      fc.string(),
      fc
        .tuple(
          fc.constantFrom('MOVED', 'ASK', 'moved', 'TRYAGAIN'),
          fc.oneof(fc.integer({ min: -5, max: 20_000 }).map(String), fc.string()),
          fc.oneof(
            fc.ipV4(),
            fc.domain(),
            fc.constant(''),
            fc.ipV6().map((ip) => `[${ip}]`),
          ),
          fc.oneof(fc.integer({ min: 0, max: 70_000 }).map(String), fc.string()),
        )
        .map(([kind, slot, host, port]) => `${kind} ${slot} ${host}:${port}`),
    );
    fc.assert(
      fc.property(reply, (message) => {
        const redirect = parseRedirect(message, 'current-host');
        if (redirect === undefined) return;
        expect(['MOVED', 'ASK']).toContain(redirect.kind);
        expect(Number.isInteger(redirect.slot) && redirect.slot >= 0).toBe(true);
        expect(redirect.slot).toBeLessThan(SLOT_COUNT);
        expect(Number.isInteger(redirect.target.port) && redirect.target.port >= 1).toBe(true);
        expect(redirect.target.port).toBeLessThanOrEqual(65_535);
        expect(redirect.target.host.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });
});
