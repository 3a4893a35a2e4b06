import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  formatAddress,
  formatSlotRanges,
  normalizeSlotRanges,
  parseClusterNodes,
  parseClusterShards,
  parseSlotMapDigest,
  shardIdFor,
  slotMapDigest,
  slotOwners,
  type ParseOptions,
  type Topology,
  type TopologyNode,
} from '../../lambda/cluster/topology.js';
import { TopologyParseError } from '../../lambda/errors.js';

const FIXTURES = new URL('../support/fixtures/redis-7.0/', import.meta.url);
const PLAIN: ParseOptions = { tls: false };
const TLS: ParseOptions = { tls: true };

/** Node ids of the recorded clusters (see the fixtures' README), named after their ports. */
const ID = {
  n30100: '92800afa61f4ee8c6640944ccee1e080fea14523',
  n30101: '4fdef195d934dceb0f5ded2d04bb600d77848715',
  n30102: '8d665c0c819b5a11b0f6f0472cf904680702fd48',
  n30103: '18db9e517a9e377a6c80ade8439563493bcbaf51',
  n30104: '7774719b96e310dfba4f8a11c8c49d8a187a7ea0',
  n30105: '9a2c72db9481cb09277590a53e561fb933b71714',
  v30110: '88715df53dc499d49d987069eabcb47310468eec',
  v30111: 'ff3c2caa8fe67020a67ef4e11b4e63c3d1ff3e4e',
  v30112: '79dab902b5cbf6df46cceda5719f1c05cd3c8baa',
  t30120: 'abaea90a2a294df6894bb3514d617aba5fe67541',
  t30121: '472a92b81e1da607b0530a777d817aabdfbe1421',
  t30122: '0fbc7825f81beb6d0830894daef5c3effec35984',
} as const;
const LABELS = new Map<string, string>(Object.entries(ID).map(([label, id]) => [id, label]));

function text(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

function json(name: string): unknown {
  return JSON.parse(text(name)) as unknown;
}

function label(id: string): string {
  return LABELS.get(id) ?? id;
}

/** One line per node with everything the parsers derive, so a failing case reads as a diff. */
function describeNodes(topology: Topology): string[] {
  return topology.nodes.map((node: TopologyNode) =>
    [
      label(node.id),
      node.role,
      node.address,
      node.health,
      `shard=${node.shard}`,
      ...(node.primaryId === undefined ? [] : [`of=${label(node.primaryId)}`]),
    ].join(' '),
  );
}

function parseErrorOf(act: () => unknown): TopologyParseError {
  try {
    act();
  } catch (error) {
    if (error instanceof TopologyParseError) return error;
    throw error;
  }
  throw new Error('expected a TopologyParseError, but nothing was thrown');
}

// The same six-node cluster, resharded: 1000-1001 moved to 30101 and 3000 to 30102.
const A = '0-999,1002-2999,3001-5460';
const B = '1000-1001,5461-10922';
const C = '3000,10923-16383';

const HEALTHY = [
  'n30100 primary 127.0.0.1:30100 online shard=0-5460',
  'n30104 replica 127.0.0.1:30104 online shard=0-5460 of=n30100',
  'n30101 primary 127.0.0.1:30101 online shard=5461-10922',
  'n30105 replica 127.0.0.1:30105 online shard=5461-10922 of=n30101',
  'n30102 primary 127.0.0.1:30102 online shard=10923-16383',
  'n30103 replica 127.0.0.1:30103 online shard=10923-16383 of=n30102',
];

const JUST_CREATED = HEALTHY.map((line) =>
  line.includes(' replica ') ? line.replace(' online ', ' loading ') : line,
);

const RESHARDED = [
  `n30100 primary 127.0.0.1:30100 online shard=${A}`,
  `n30104 replica 127.0.0.1:30104 online shard=${A} of=n30100`,
  `n30101 primary 127.0.0.1:30101 online shard=${B}`,
  `n30105 replica 127.0.0.1:30105 online shard=${B} of=n30101`,
  `n30102 primary 127.0.0.1:30102 online shard=${C}`,
  `n30103 replica 127.0.0.1:30103 online shard=${C} of=n30102`,
];

const FAILED_OVER = [
  `n30100 primary 127.0.0.1:30100 online shard=${A}`,
  `n30104 replica 127.0.0.1:30104 online shard=${A} of=n30100`,
  `n30105 primary 127.0.0.1:30105 online shard=${B}`,
  `n30102 primary 127.0.0.1:30102 online shard=${C}`,
  `n30103 replica 127.0.0.1:30103 online shard=${C} of=n30102`,
  'n30101 primary 127.0.0.1:30101 failed shard=noslots:4fdef195',
];

const REJOINED = [
  `n30100 primary 127.0.0.1:30100 online shard=${A}`,
  `n30104 replica 127.0.0.1:30104 online shard=${A} of=n30100`,
  `n30105 primary 127.0.0.1:30105 online shard=${B}`,
  `n30101 replica 127.0.0.1:30101 online shard=${B} of=n30105`,
  `n30102 primary 127.0.0.1:30102 online shard=${C}`,
  `n30103 replica 127.0.0.1:30103 online shard=${C} of=n30102`,
];

const HOSTNAMES = [
  `n30100 primary node0.example:30100 online shard=${A}`,
  `n30104 replica node4.example:30104 online shard=${A} of=n30100`,
  // 30105 announced no hostname: SHARDS says endpoint '?', NODES has no `,hostname`.
  `n30105 primary 127.0.0.1:30105 online shard=${B}`,
  `n30101 replica node1.example:30101 online shard=${B} of=n30105`,
  `n30102 primary node2.example:30102 online shard=${C}`,
  `n30103 replica node3.example:30103 online shard=${C} of=n30102`,
];

const IPV6 = [
  'v30110 primary [::1]:30110 online shard=0-5460',
  'v30111 primary [::1]:30111 online shard=5461-10922',
  'v30112 primary [::1]:30112 online shard=10923-16383',
];

function withChange(lines: readonly string[], index: number, from: string, to: string): string[] {
  return lines.map((line, i) => (i === index ? line.replace(from, to) : line));
}

describe('recorded Redis 7.0 replies', () => {
  it.each([
    ['healthy', HEALTHY, HEALTHY],
    // Replicas at replication offset 0 are `loading` in SHARDS; NODES has no such state.
    ['just-created', JUST_CREATED, HEALTHY],
    ['migrating-source', HEALTHY, HEALTHY],
    ['resharded', RESHARDED, RESHARDED],
    [
      'replica-failed',
      withChange(RESHARDED, 5, 'online', 'failed'),
      withChange(RESHARDED, 5, 'online', 'failed'),
    ],
    // PFAIL (`fail?`) is one node's suspicion; SHARDS only reports a FAIL the cluster agreed on.
    ['primary-pfail', RESHARDED, withChange(RESHARDED, 2, 'online', 'failed')],
    ['failover', FAILED_OVER, FAILED_OVER],
    ['hostnames', HOSTNAMES, HOSTNAMES],
    ['ipv6', IPV6, IPV6],
  ])('%s: SHARDS and NODES give the expected nodes', (fixture, fromShards, fromNodes) => {
    // Prepare
    const shardsReply = json(`${fixture}.shards.json`);
    const nodesText = text(`${fixture}.nodes.txt`);

    // Act
    const viaShards = parseClusterShards(shardsReply, PLAIN);
    const viaNodes = parseClusterNodes(nodesText, PLAIN);

    // Assess
    expect(describeNodes(viaShards)).toEqual(fromShards);
    expect(describeNodes(viaNodes)).toEqual(fromNodes);
    expect(viaShards.source).toBe('CLUSTER SHARDS');
    expect(viaNodes.source).toBe('CLUSTER NODES');
  });

  it('builds shards in slot order with the slotless old primary last', () => {
    // Act
    const topology = parseClusterNodes(text('failover.nodes.txt'), PLAIN);

    // Assess
    expect(topology.shards).toEqual([
      {
        id: A,
        slots: [
          { start: 0, end: 999 },
          { start: 1002, end: 2999 },
          { start: 3001, end: 5460 },
        ],
        primaryId: ID.n30100,
        nodeIds: [ID.n30100, ID.n30104],
      },
      {
        id: B,
        slots: [
          { start: 1000, end: 1001 },
          { start: 5461, end: 10922 },
        ],
        primaryId: ID.n30105,
        nodeIds: [ID.n30105],
      },
      {
        id: C,
        slots: [
          { start: 3000, end: 3000 },
          { start: 10923, end: 16383 },
        ],
        primaryId: ID.n30102,
        nodeIds: [ID.n30102, ID.n30103],
      },
      { id: 'noslots:4fdef195', slots: [], primaryId: ID.n30101, nodeIds: [ID.n30101] },
    ]);
  });

  it('gives the same shards from SHARDS and NODES of the same moment', () => {
    // Act
    const viaShards = parseClusterShards(json('failover.shards.json'), PLAIN);
    const viaNodes = parseClusterNodes(text('failover.nodes.txt'), PLAIN);

    // Assess
    expect(viaShards.shards).toEqual(viaNodes.shards);
  });

  it('keeps the raw NODES flags and the SHARDS replication offsets', () => {
    // Act
    const viaNodes = parseClusterNodes(text('replica-failed.nodes.txt'), PLAIN);
    const viaShards = parseClusterShards(json('healthy.shards.json'), PLAIN);

    // Assess
    expect(viaNodes.nodes.map((node) => node.flags)).toEqual([
      ['myself', 'master'],
      ['slave'],
      ['master'],
      ['slave'],
      ['master'],
      ['slave', 'fail'],
    ]);
    expect(viaNodes.nodes.every((node) => node.replicationOffset === undefined)).toBe(true);
    expect(viaShards.nodes.map((node) => [label(node.id), node.replicationOffset])).toEqual([
      ['n30100', 458],
      ['n30104', 458],
      ['n30101', 361],
      ['n30105', 361],
      ['n30102', 264],
      ['n30103', 264],
    ]);
  });

  it('derives NODES-style flags for SHARDS nodes', () => {
    // Act
    const topology = parseClusterShards(json('failover.shards.json'), PLAIN);

    // Assess
    expect(topology.nodes.map((node) => node.flags)).toEqual([
      ['master'],
      ['slave'],
      ['master'],
      ['master'],
      ['slave'],
      ['master', 'fail'],
    ]);
  });

  it('reports the migrating side of a slot migration', () => {
    // Act
    const topology = parseClusterNodes(text('migrating-source.nodes.txt'), PLAIN);

    // Assess
    expect(topology.migrations).toEqual([
      { slot: 1000, state: 'migrating', nodeId: ID.n30100, peerId: ID.n30101 },
      { slot: 1001, state: 'migrating', nodeId: ID.n30100, peerId: ID.n30101 },
    ]);
  });

  it('reports the importing side of a slot migration', () => {
    // Act
    const topology = parseClusterNodes(text('migrating-target.nodes.txt'), PLAIN);

    // Assess
    expect(topology.migrations).toEqual([
      { slot: 1000, state: 'importing', nodeId: ID.n30101, peerId: ID.n30100 },
      { slot: 1001, state: 'importing', nodeId: ID.n30101, peerId: ID.n30100 },
    ]);
    expect(describeNodes(topology)).toEqual(HEALTHY);
  });

  it('leaves handshake nodes out and counts them', () => {
    // Act
    const topology = parseClusterNodes(text('handshake.nodes.txt'), PLAIN);

    // Assess
    expect(topology.handshakeNodes).toBe(1);
    expect(describeNodes(topology)).toEqual(REJOINED);
    expect(topology.migrations).toEqual([]);
  });

  it('reports no migrations or handshakes from SHARDS', () => {
    // Act
    const topology = parseClusterShards(json('just-created.shards.json'), PLAIN);

    // Assess
    expect(topology.migrations).toEqual([]);
    expect(topology.handshakeNodes).toBe(0);
  });
});

describe('TLS port preference', () => {
  const TLS_PORTS = ['t30120 127.0.0.1:30120', 't30121 127.0.0.1:30121', 't30122 127.0.0.1:30122'];
  const PLAIN_PORTS = [
    't30120 127.0.0.1:30130',
    't30121 127.0.0.1:30131',
    't30122 127.0.0.1:30132',
  ];
  const ports = (topology: Topology) =>
    topology.nodes.map((node) => `${label(node.id)} ${node.host}:${node.port}`);

  it('dials the TLS port from SHARDS when TLS is on', () => {
    expect(ports(parseClusterShards(json('tls.shards.json'), TLS))).toEqual(TLS_PORTS);
  });

  it('dials the plain port from SHARDS when TLS is off', () => {
    expect(ports(parseClusterShards(json('tls.shards.json'), PLAIN))).toEqual(PLAIN_PORTS);
  });

  it('takes the one port NODES shows, which matches the asking connection', () => {
    // This reply was read over the plain port, so it lists plain ports whatever the option says.
    expect(ports(parseClusterNodes(text('tls.nodes.txt'), TLS))).toEqual(PLAIN_PORTS);
  });

  it.each([
    ['only tls-port, TLS off', { 'tls-port': 30120 }, PLAIN, 30120],
    ['only port, TLS on', { port: 30130 }, TLS, 30130],
    ['port 0 means not listening', { port: 0, 'tls-port': 30120 }, PLAIN, 30120],
    ['both 0', { port: 0, 'tls-port': 0 }, TLS, 0],
  ])('%s', (_name, portFields, options, expected) => {
    // Prepare: a node of tls.shards.json reduced to the given port fields.
    const reply = [
      [
        'slots',
        [0, 16383],
        'nodes',
        [shardNode({ port: undefined, 'tls-port': undefined, ...portFields })],
      ],
    ];

    // Act
    const [node] = parseClusterShards(reply, options).nodes;

    // Assess
    expect(node?.port).toBe(expected);
  });
});

/** A CLUSTER SHARDS node entry as RESP2 delivers it; `undefined` leaves a field out. */
function shardNode(overrides: Record<string, unknown> = {}): unknown[] {
  const fields: Record<string, unknown> = {
    id: ID.t30120,
    port: 30130,
    'tls-port': 30120,
    ip: '127.0.0.1',
    endpoint: '127.0.0.1',
    role: 'master',
    'replication-offset': 0,
    health: 'online',
    ...overrides,
  };
  return Object.entries(fields).flatMap(([name, value]) =>
    value === undefined ? [] : [name, value],
  );
}

describe('hand-made CLUSTER SHARDS variants', () => {
  it.each([
    ['endpoint', { endpoint: 'e.example', hostname: 'h.example' }, 'e.example'],
    ['hostname when endpoint is "?"', { endpoint: '?', hostname: 'h.example' }, 'h.example'],
    ['hostname when endpoint is empty', { endpoint: '', hostname: 'h.example' }, 'h.example'],
    ['ip when endpoint is "?" and no hostname', { endpoint: '?', ip: '10.0.0.7' }, '10.0.0.7'],
    ['ip when hostname is empty', { endpoint: '', hostname: '', ip: '10.0.0.7' }, '10.0.0.7'],
    ['nothing when no address is known', { endpoint: '?', ip: '' }, ''],
  ])('dials the %s', (_name, hostFields, expected) => {
    // Act
    const [node] = parseClusterShards(
      [['slots', [0, 16383], 'nodes', [shardNode(hostFields)]]],
      PLAIN,
    ).nodes;

    // Assess
    expect(node?.host).toBe(expected);
  });

  it('accepts the documented "failed" spelling as well as the "fail" Redis sends', () => {
    // Act
    const [node] = parseClusterShards(
      [['slots', [0, 16383], 'nodes', [shardNode({ health: 'failed' })]]],
      PLAIN,
    ).nodes;

    // Assess
    expect(node?.health).toBe('failed');
  });

  it('splits a Redis 7.2-style shard that still holds its failed old primary', () => {
    // Prepare: failover.shards.json as Redis 7.2+ would group it, where the old primary keeps
    // its shard id: its entry moved into the new primary's shard, listed first.
    const recorded = json('failover.shards.json') as unknown[][];
    const [first, second, third, oldPrimaryShard] = recorded;
    const oldPrimary = (oldPrimaryShard?.[3] as unknown[])[0];
    const newPrimary = (third?.[3] as unknown[])[0];
    const merged = [first, second, ['slots', third?.[1], 'nodes', [oldPrimary, newPrimary]]];

    // Act
    const topology = parseClusterShards(merged, PLAIN);

    // Assess
    expect(topology).toEqual(parseClusterShards(recorded, PLAIN));
    expect(describeNodes(topology)).toEqual(FAILED_OVER);
  });

  it('keeps a shard whose primary is missing, without a primary', () => {
    // Prepare
    const reply = [['slots', [0, 16383], 'nodes', [shardNode({ role: 'replica', id: ID.n30104 })]]];

    // Act
    const topology = parseClusterShards(reply, PLAIN);

    // Assess
    expect(topology.shards).toEqual([
      { id: '0-16383', slots: [{ start: 0, end: 16383 }], nodeIds: [ID.n30104] },
    ]);
    expect(topology.nodes[0]?.primaryId).toBeUndefined();
    expect(slotOwners(topology).every((owner) => owner === undefined)).toBe(true);
  });
});

describe('hand-made CLUSTER NODES variants', () => {
  const primaryLine = (address: string) =>
    `${ID.n30100} ${address} myself,master - 0 0 1 connected 0-16383`;

  it.each([
    ['IPv6', '::1:7000@17000', '::1', 7000, '[::1]:7000'],
    ['IPv6 with a zone', 'fe80::1%eth0:7000@17000', 'fe80::1%eth0', 7000, '[fe80::1%eth0]:7000'],
    [
      'an announced hostname',
      '10.0.0.1:6379@16379,my-host.example.com',
      'my-host.example.com',
      6379,
      'my-host.example.com:6379',
    ],
    [
      'IPv6 with a hostname',
      '::1:7000@17000,node1.example',
      'node1.example',
      7000,
      'node1.example:7000',
    ],
    // Redis 7.2 nodes.conf syntax: empty hostname, then aux fields, which are not hostnames.
    [
      'aux fields and no hostname',
      '127.0.0.1:30001@31001,,tls-port=0,shard-id=abc',
      '127.0.0.1',
      30001,
      '127.0.0.1:30001',
    ],
    ['aux fields after a hostname', '127.0.0.1:30001@31001,h1,tls-port=0', 'h1', 30001, 'h1:30001'],
    ['no bus port (before Redis 4)', '127.0.0.1:6379', '127.0.0.1', 6379, '127.0.0.1:6379'],
  ])('reads an address with %s', (_name, address, host, port, formatted) => {
    // Act
    const [node] = parseClusterNodes(primaryLine(address), PLAIN).nodes;

    // Assess
    expect(node).toMatchObject({ host, port, address: formatted });
  });

  it('keeps a noaddr node with an empty host', () => {
    // Prepare: hand-made from the documented format (a forgotten address shows as `:0@0`).
    const nodes = [
      `${ID.n30102} 127.0.0.1:30102@40102 myself,master - 0 0 3 connected 0-16383`,
      `${ID.n30103} :0@0 slave,fail,noaddr ${ID.n30102} 1795320302159 1795320301153 3 disconnected`,
    ].join('\n');

    // Act
    const [, replica] = parseClusterNodes(nodes, PLAIN).nodes;

    // Assess
    expect(replica).toEqual({
      id: ID.n30103,
      host: '',
      port: 0,
      address: ':0',
      role: 'replica',
      shard: '0-16383',
      primaryId: ID.n30102,
      health: 'failed',
      flags: ['slave', 'fail', 'noaddr'],
    });
  });

  it('keeps replicas whose primary is unknown, each group in its own shard', () => {
    // Prepare: hand-made. 30104 names no master; 30103 and 30105 name one not in the list.
    const nodes = [
      `${ID.n30100} 127.0.0.1:30100@40100 myself,master - 0 0 1 connected 0-16383`,
      `${ID.n30105} 127.0.0.1:30105@40105 slave ${ID.n30102} 0 0 3 connected`,
      `${ID.n30104} 127.0.0.1:30104@40104 slave - 0 0 1 connected`,
      `${ID.n30103} 127.0.0.1:30103@40103 slave ${ID.n30102} 0 0 3 connected`,
    ].join('\n');

    // Act
    const topology = parseClusterNodes(nodes, PLAIN);

    // Assess
    expect(topology.shards).toEqual([
      {
        id: '0-16383',
        slots: [{ start: 0, end: 16383 }],
        primaryId: ID.n30100,
        nodeIds: [ID.n30100],
      },
      { id: 'noslots:7774719b', slots: [], nodeIds: [ID.n30104] },
      { id: 'noslots:8d665c0c', slots: [], nodeIds: [ID.n30103, ID.n30105] },
    ]);
    expect(describeNodes(topology)).toEqual([
      'n30100 primary 127.0.0.1:30100 online shard=0-16383',
      'n30104 replica 127.0.0.1:30104 online shard=noslots:7774719b',
      'n30103 replica 127.0.0.1:30103 online shard=noslots:8d665c0c of=n30102',
      'n30105 replica 127.0.0.1:30105 online shard=noslots:8d665c0c of=n30102',
    ]);
  });

  it('ignores empty lines and CRLF line ends', () => {
    // Prepare
    const recorded = text('healthy.nodes.txt');
    const mangled = `\r\n${recorded.replaceAll('\n', '\r\n\r\n')}   \n`;

    // Act
    const topology = parseClusterNodes(mangled, PLAIN);

    // Assess
    expect(topology).toEqual(parseClusterNodes(recorded, PLAIN));
  });
});

describe('malformed CLUSTER SHARDS', () => {
  const shard = (fields: Record<string, unknown>) =>
    Object.entries({ slots: [0, 16383], nodes: [shardNode()], ...fields }).flat();
  const oneNode = (overrides: Record<string, unknown>) => [
    shard({ nodes: [shardNode(overrides)] }),
  ];
  const at = 'CLUSTER SHARDS shard 0';

  it.each<[string, unknown, string]>([
    ['null', null, 'CLUSTER SHARDS reply: expected an array, got null'],
    ['a status reply', 'OK', 'CLUSTER SHARDS reply: expected an array, got "OK"'],
    [
      'an odd field list',
      [['slots', [0, 1], 'nodes']],
      `${at}: expected name/value pairs, got 3 items`,
    ],
    ['a numeric field name', [[7, 'x']], `${at}: field name 7 is not a string`],
    ['slots not an array', [shard({ slots: 'x' })], `${at} "slots": expected an array, got "x"`],
    [
      'an odd slot list',
      [shard({ slots: [0] })],
      `${at} "slots": expected start/end pairs, got 1 items`,
    ],
    [
      'slot 16384',
      [shard({ slots: [0, 16384] })],
      `${at} "slots": "slot" must be an integer in [0, 16383], got 16384`,
    ],
    [
      'a negative slot',
      [shard({ slots: [-1, 5] })],
      `${at} "slots": "slot" must be an integer in [0, 16383], got -1`,
    ],
    [
      'a slot as a string',
      [shard({ slots: ['0', 5] })],
      `${at} "slots": "slot" must be an integer in [0, 16383], got "0"`,
    ],
    [
      'a fractional slot',
      [shard({ slots: [1.5, 5] })],
      `${at} "slots": "slot" must be an integer in [0, 16383], got 1.5`,
    ],
    [
      'start after end',
      [shard({ slots: [10, 5] })],
      `${at} "slots": slot range 10-5 starts after it ends`,
    ],
    ['no nodes field', [['slots', [0, 1]]], `${at} "nodes": expected an array, got undefined`],
    ['no nodes', [shard({ nodes: [] })], `${at}: has no nodes`],
    [
      'a node that is not an array',
      [shard({ nodes: ['x'] })],
      `${at} node 0: expected an array or a map, got "x"`,
    ],
    [
      'a short id',
      oneNode({ id: 'abc' }),
      `${at} node 0: "id" must be a 40-character hex node id, got "abc"`,
    ],
    [
      'no id',
      oneNode({ id: undefined }),
      `${at} node 0: "id" must be a 40-character hex node id, got undefined`,
    ],
    [
      'a long bad id',
      oneNode({ id: 'z'.repeat(100) }),
      `${at} node 0: "id" must be a 40-character hex node id, got "${'z'.repeat(56)}...`,
    ],
    // JSON.stringify throws on a bigint: the message must still come out, not a TypeError.
    [
      'a bigint id',
      oneNode({ id: 10n }),
      `${at} node 0: "id" must be a 40-character hex node id, got bigint`,
    ],
    [
      'an unknown role',
      oneNode({ role: 'leader' }),
      `${at} node 0: "role" must be one of master|replica, got "leader"`,
    ],
    [
      'an unknown health',
      oneNode({ health: 'sick' }),
      `${at} node 0: "health" must be one of online|fail|failed|loading, got "sick"`,
    ],
    [
      'a port as a string',
      oneNode({ port: '30130' }),
      `${at} node 0: "port" must be an integer in [0, 65535], got "30130"`,
    ],
    [
      'a port too large',
      oneNode({ port: 70000 }),
      `${at} node 0: "port" must be an integer in [0, 65535], got 70000`,
    ],
    [
      'a negative tls-port',
      oneNode({ 'tls-port': -1 }),
      `${at} node 0: "tls-port" must be an integer in [0, 65535], got -1`,
    ],
    [
      'no port at all',
      oneNode({ port: undefined, 'tls-port': undefined }),
      `${at} node 0: has neither "port" nor "tls-port"`,
    ],
    [
      'a numeric endpoint',
      oneNode({ endpoint: 5 }),
      `${at} node 0: "endpoint" must be a string, got 5`,
    ],
    [
      'a negative offset',
      oneNode({ 'replication-offset': -1 }),
      `${at} node 0: "replication-offset" must be an integer in [0, 9007199254740991], got -1`,
    ],
    [
      'a slot in two shards',
      [
        shard({ slots: [100, 200] }),
        shard({ slots: [0, 100], nodes: [shardNode({ id: ID.t30121 })] }),
      ],
      `CLUSTER SHARDS: slot 100 is in shards 0-100 and 100-200`,
    ],
    [
      'a node in two shards',
      [shard({ slots: [0, 1] }), shard({ slots: [2, 3] })],
      `CLUSTER SHARDS: node ${ID.t30120} is listed twice`,
    ],
  ])('rejects %s', (_name, reply, message) => {
    // Act
    const error = parseErrorOf(() => parseClusterShards(reply, PLAIN));

    // Assess
    expect(error.message).toBe(message);
  });
});

describe('malformed CLUSTER NODES', () => {
  const first = `${ID.n30100} 127.0.0.1:30100@40100 myself,master - 0 0 1 connected 0-5460`;
  const fields = [
    ID.n30101,
    '127.0.0.1:30101@40101',
    'master',
    '-',
    '0',
    '0',
    '2',
    'connected',
    '5461-10922',
  ];
  // The bad line comes third, after an empty one, to show that line numbers count every line.
  const withLine = (line: string) => [first, '', line].join('\n');
  const withField = (index: number, value: string) =>
    withLine(fields.map((field, i) => (i === index ? value : field)).join(' '));

  it.each<[string, string, string]>([
    ['a garbage line', withLine('garbage'), 'expected at least 8 fields, got 1'],
    ['a bad id', withField(0, 'xyz'), 'bad node id "xyz"'],
    ['an address without a port', withField(1, 'x'), 'bad address "x"'],
    [
      'a port too large',
      withField(1, '127.0.0.1:70000@40101'),
      'bad address "127.0.0.1:70000@40101"',
    ],
    [
      'a port that is not a number',
      withField(1, '127.0.0.1:p@40101'),
      'bad address "127.0.0.1:p@40101"',
    ],
    [
      'a bad hostname',
      withField(1, '127.0.0.1:30101@40101,bad!host'),
      'bad address "127.0.0.1:30101@40101,bad!host"',
    ],
    ['an empty flag', withField(2, 'master,'), 'bad flags "master,"'],
    ['upper-case flags', withField(2, 'MASTER'), 'bad flags "MASTER"'],
    ['a bad master id', withField(3, 'abc'), 'bad master id "abc"'],
    ['a negative ping-sent', withField(4, '-1'), 'bad ping-sent "-1"'],
    ['a bad pong-recv', withField(5, 'soon'), 'bad pong-recv "soon"'],
    ['a bad config-epoch', withField(6, 'x'), 'bad config-epoch "x"'],
    ['a bad link-state', withField(7, 'up'), 'bad link-state "up"'],
    ['a bad slot', withField(8, 'abc'), 'bad slot "abc"'],
    ['a half range', withField(8, '5461-'), 'bad slot "5461-"'],
    ['slot 16384', withField(8, '16384'), '"slot" must be an integer in [0, 16383], got 16384'],
    ['start after end', withField(8, '10922-5461'), 'slot range 10922-5461 starts after it ends'],
    [
      'a bad migration arrow',
      withField(8, `[5461-?-${ID.n30100}]`),
      `bad slot "[5461-?-${ID.n30100}]"`,
    ],
    [
      'a bad migration peer',
      withField(8, '[5461->-xyz]'),
      '"migration peer" must be a 40-character hex node id, got "xyz"',
    ],
    [
      'a replica with slots',
      withLine(`${ID.n30104} 127.0.0.1:30104@40104 slave ${ID.n30100} 0 0 1 connected 0-10`),
      `replica ${ID.n30104} claims slots 0-10`,
    ],
  ])('rejects %s, naming the line', (_name, nodes, problem) => {
    // Act
    const error = parseErrorOf(() => parseClusterNodes(nodes, PLAIN));

    // Assess
    expect(error.message).toBe(`CLUSTER NODES line 3: ${problem}`);
  });

  it.each<[string, unknown, string]>([
    ['a number', 42, 'CLUSTER NODES: expected text, got 42'],
    ['null', null, 'CLUSTER NODES: expected text, got null'],
    [
      'a slot in two shards',
      withField(8, '5000-6000'),
      'CLUSTER NODES: slot 5000 is in shards 0-5460 and 5000-6000',
    ],
    [
      'a node listed twice',
      [first, first].join('\n'),
      `CLUSTER NODES: node ${ID.n30100} is listed twice`,
    ],
  ])('rejects %s', (_name, nodes, message) => {
    // Act: callers pass whatever the client returned, so a non-string must fail cleanly too.
    const error = parseErrorOf(() => parseClusterNodes(nodes as string, PLAIN));

    // Assess
    expect(error.message).toBe(message);
  });
});

describe('slot map digest', () => {
  it.each(['healthy', 'resharded', 'failover', 'hostnames', 'ipv6', 'tls'])(
    '%s: SHARDS, NODES and SLOTS of the same node agree',
    (fixture) => {
      // Prepare
      const expected = parseSlotMapDigest(json(`${fixture}.slots.json`));

      // Act
      const viaShards = slotMapDigest(parseClusterShards(json(`${fixture}.shards.json`), PLAIN));
      const viaNodes = slotMapDigest(parseClusterNodes(text(`${fixture}.nodes.txt`), PLAIN));

      // Assess
      expect(viaShards).toBe(expected);
      expect(viaNodes).toBe(expected);
    },
  );

  it('is a canonical list of start-end=owner runs', () => {
    expect(parseSlotMapDigest(json('healthy.slots.json'))).toBe(
      `0-5460=${ID.n30100},5461-10922=${ID.n30101},10923-16383=${ID.n30102}`,
    );
    expect(parseSlotMapDigest(json('resharded.slots.json'))).toBe(
      [
        `0-999=${ID.n30100}`,
        `1000-1001=${ID.n30101}`,
        `1002-2999=${ID.n30100}`,
        `3000-3000=${ID.n30102}`,
        `3001-5460=${ID.n30100}`,
        `5461-10922=${ID.n30101}`,
        `10923-16383=${ID.n30102}`,
      ].join(','),
    );
  });

  it('does not depend on entry order or on how adjacent ranges are split', () => {
    // Prepare: the healthy reply with 0-5460 split in two and the entries reversed.
    const recorded = json('healthy.slots.json') as unknown[][];
    const [zero, ...rest] = recorded;
    const split = [
      ...rest,
      [101, 5460, ...(zero ?? []).slice(2)],
      [0, 100, ...(zero ?? []).slice(2)],
    ];

    // Act
    const digest = parseSlotMapDigest(split);

    // Assess
    expect(digest).toBe(parseSlotMapDigest(recorded));
  });

  it('matches the slot-by-slot definition for any split of the ranges', () => {
    // Prepare: owners of every slot, in runs of random length, with gaps, split at random points.
    const owners = [ID.n30100, ID.n30101, ID.n30102];
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 20; round++) {
      const bySlot = new Array<string | undefined>(16384).fill(undefined);
      const entries: unknown[] = [];
      for (let start = 0; start < 16384;) {
        const end = Math.min(16383, start + random(3000));
        const owner = random(4) === 3 ? undefined : owners[random(3)];
        if (owner !== undefined) {
          bySlot.fill(owner, start, end + 1);
          entries.push([start, end, ['h', 1, owner]]);
        }
        start = end + 1;
      }
      entries.sort(() => random(3) - 1);
      const expected: string[] = [];
      for (let start = 0; start < 16384;) {
        let end = start;
        while (end + 1 < 16384 && bySlot[end + 1] === bySlot[start]) end++;
        if (bySlot[start] !== undefined) expected.push(`${start}-${end}=${bySlot[start]}`);
        start = end + 1;
      }

      // Act
      const digest = parseSlotMapDigest(entries);

      // Assess
      expect(digest).toBe(expected.join(','));
    }
  });

  it('tells apart nodes that disagree', () => {
    expect(parseSlotMapDigest(json('failover.slots.json'))).not.toBe(
      parseSlotMapDigest(json('resharded.slots.json')),
    );
  });

  it('leaves unowned slots out', () => {
    // Prepare: the healthy reply without its last shard.
    const partial = (json('healthy.slots.json') as unknown[]).slice(0, 2);

    // Act
    const digest = parseSlotMapDigest(partial);

    // Assess
    expect(digest).toBe(`0-5460=${ID.n30100},5461-10922=${ID.n30101}`);
  });

  it.each<[string, unknown, string]>([
    ['a non-array reply', 'x', 'CLUSTER SLOTS reply: expected an array, got "x"'],
    ['a non-array entry', ['x'], 'CLUSTER SLOTS entry 0: expected an array, got "x"'],
    [
      'start after end',
      [[10, 5, ['h', 1, ID.n30100]]],
      'CLUSTER SLOTS entry 0: slot range 10-5 starts after it ends',
    ],
    [
      'slot 16384',
      [[0, 16384, ['h', 1, ID.n30100]]],
      'CLUSTER SLOTS entry 0: "slot" must be an integer in [0, 16383], got 16384',
    ],
    ['no primary', [[0, 5]], 'CLUSTER SLOTS entry 0 primary: expected an array, got undefined'],
    [
      'a primary without id',
      [[0, 5, ['h', 1]]],
      'CLUSTER SLOTS entry 0 primary: "id" must be a 40-character hex node id, got undefined',
    ],
    [
      'overlapping entries',
      [
        [0, 5, ['h', 1, ID.n30100]],
        [5, 9, ['h', 2, ID.n30101]],
      ],
      'CLUSTER SLOTS entry 1: slot 5 is listed twice',
    ],
    [
      'a range inside an earlier one',
      [
        [0, 100, ['h', 1, ID.n30100]],
        [200, 300, ['h', 1, ID.n30100]],
        [10, 20, ['h', 2, ID.n30101]],
      ],
      'CLUSTER SLOTS entry 2: slot 10 is listed twice',
    ],
  ])('rejects %s', (_name, reply, message) => {
    expect(parseErrorOf(() => parseSlotMapDigest(reply)).message).toBe(message);
  });
});

describe('slotOwners', () => {
  it('maps every slot to its primary', () => {
    // Act
    const owners = slotOwners(parseClusterNodes(text('resharded.nodes.txt'), PLAIN));

    // Assess
    expect(owners).toHaveLength(16384);
    expect(
      [0, 999, 1000, 1001, 1002, 3000, 3001, 5460, 5461, 16383].map((slot) =>
        label(owners[slot] ?? '-'),
      ),
    ).toEqual([
      'n30100',
      'n30100',
      'n30101',
      'n30101',
      'n30100',
      'n30102',
      'n30100',
      'n30100',
      'n30101',
      'n30102',
    ]);
    const counts = new Map<string | undefined, number>();
    for (const owner of owners) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    expect(counts).toEqual(
      new Map([
        [ID.n30100, 1000 + 1998 + 2460],
        [ID.n30101, 2 + 5462],
        [ID.n30102, 1 + 5461],
      ]),
    );
  });

  it('gives a failed-over old primary no slots', () => {
    // Act
    const owners = slotOwners(parseClusterShards(json('failover.shards.json'), PLAIN));

    // Assess
    expect(owners.includes(ID.n30101)).toBe(false);
    expect(owners[5461]).toBe(ID.n30105);
  });
});

describe('formatting helpers', () => {
  it.each([
    ['127.0.0.1', 6379, '127.0.0.1:6379'],
    ['node1.example', 6380, 'node1.example:6380'],
    ['::1', 7000, '[::1]:7000'],
    ['2001:db8::7', 6379, '[2001:db8::7]:6379'],
    ['', 0, ':0'],
  ])('formatAddress(%j, %i) is %j', (host, port, expected) => {
    expect(formatAddress(host, port)).toBe(expected);
  });

  it.each([
    [[], ''],
    [[{ start: 0, end: 5460 }], '0-5460'],
    [[{ start: 7, end: 7 }], '7'],
    [
      [
        { start: 0, end: 100 },
        { start: 200, end: 200 },
        { start: 300, end: 400 },
      ],
      '0-100,200,300-400',
    ],
  ])('formatSlotRanges(%j) is %j', (slots, expected) => {
    expect(formatSlotRanges(slots)).toBe(expected);
  });

  it('normalizes slot ranges: sorted, touching ones merged', () => {
    expect(
      normalizeSlotRanges([
        { start: 11, end: 20 },
        { start: 0, end: 5 },
        { start: 6, end: 10 },
        { start: 30, end: 30 },
        { start: 25, end: 31 },
      ]),
    ).toEqual([
      { start: 0, end: 20 },
      { start: 25, end: 31 },
    ]);
  });

  it.each([
    ['slot ranges', [{ start: 0, end: 5460 }], ID.n30100, '0-5460'],
    [
      'slot ranges in canonical form',
      [
        { start: 6, end: 10 },
        { start: 0, end: 5 },
        { start: 20, end: 20 },
      ],
      ID.n30100,
      '0-10,20',
    ],
    ['the primary id when slotless', [], ID.n30101, 'noslots:4fdef195'],
    ['a placeholder with neither', [], undefined, 'noslots'],
  ])('shardIdFor uses %s', (_name, slots, primaryId, expected) => {
    expect(shardIdFor(slots, primaryId)).toBe(expected);
  });
});
