import { describe, expect, it } from 'vitest';
import {
  clusterStateCheck,
  majorityDigest,
  slotMapCheck,
  slotsCheck,
  trackDisagreements,
} from '../../lambda/checks.js';
import { fail, nodeReport, pass, threeShardTopology } from '../support/reports.js';

const topology = threeShardTopology();
const reports = (pingOk: (address: string) => boolean) =>
  topology.nodes.map((node) =>
    nodeReport(node, {
      ping: pingOk(node.address) ? pass(0.3) : fail('timeout after 500 ms (reply)'),
    }),
  );

describe('slotsCheck', () => {
  it('counts all 16384 slots covered when every primary answers', () => {
    expect(
      slotsCheck(
        topology,
        reports(() => true),
      ),
    ).toEqual({ ok: true, covered: 16384 });
  });

  it('leaves out the slots of a primary that did not answer, and names them', () => {
    // Prepare: the second primary (slots 5461-10922) is down.
    const nodes = reports((address) => address !== '10.0.0.1:7002');

    // Act
    const check = slotsCheck(topology, nodes);

    // Assess
    expect(check).toEqual({ ok: false, covered: 16384 - 5462, uncovered: '5461-10922' });
  });

  it('does not count a replica that answers for its unreachable primary', () => {
    const nodes = reports((address) => address !== '10.0.0.1:7001');
    expect(slotsCheck(topology, nodes)).toEqual({
      ok: false,
      covered: 16384 - 5461,
      uncovered: '0-5460',
    });
  });

  it('reports slots no shard owns as uncovered', () => {
    const partial = { ...topology, shards: topology.shards.slice(1) };
    expect(
      slotsCheck(
        partial,
        reports(() => true),
      ),
    ).toMatchObject({ ok: false, covered: 16384 - 5461, uncovered: '0-5460' });
  });

  it('covers nothing when no node answered', () => {
    expect(
      slotsCheck(
        topology,
        reports(() => false),
      ),
    ).toEqual({ ok: false, covered: 0, uncovered: '0-16383' });
  });
});

describe('clusterStateCheck', () => {
  it('passes when every node that answered says ok, ignoring nodes that did not answer', () => {
    expect(clusterStateCheck([{ address: 'a', clusterState: 'ok' }, { address: 'b' }])).toEqual({
      ok: true,
      failing: [],
    });
  });

  it('names the nodes that see the cluster as failed', () => {
    const views = [
      { address: 'a', clusterState: 'ok' },
      { address: 'b', clusterState: 'fail' },
      { address: 'c', clusterState: 'unknown' },
    ];
    expect(clusterStateCheck(views)).toEqual({ ok: false, failing: ['b', 'c'] });
  });
});

describe('slot map agreement', () => {
  it('takes the map most nodes report as the reference', () => {
    const views = [
      { address: 'a', slotMapDigest: 'x' },
      { address: 'b', slotMapDigest: 'y' },
      { address: 'c', slotMapDigest: 'y' },
      { address: 'd' },
    ];
    expect(majorityDigest(views)).toBe('y');
    expect(slotMapCheck(views)).toEqual({ ok: false, disagreeing: ['a'] });
  });

  it('breaks a tie in favour of the first node listed', () => {
    const views = [
      { address: 'a', slotMapDigest: 'x' },
      { address: 'b', slotMapDigest: 'y' },
    ];
    expect(majorityDigest(views)).toBe('x');
    expect(slotMapCheck(views).disagreeing).toEqual(['b']);
  });

  it('passes when nobody answered, and when everybody agrees', () => {
    expect(slotMapCheck([{ address: 'a' }])).toEqual({ ok: true, disagreeing: [] });
    expect(
      slotMapCheck([
        { address: 'a', slotMapDigest: 'x' },
        { address: 'b', slotMapDigest: 'x' },
      ]),
    ).toEqual({ ok: true, disagreeing: [] });
  });
});

describe('slot map agreement while slots move', () => {
  const views = (bDigest: string) => [
    { address: 'a', slotMapDigest: 'new' },
    { address: 'b', slotMapDigest: bDigest },
    { address: 'c', slotMapDigest: 'new' },
  ];

  it('lets a node that just started to differ settle, and fails it once it kept that map', () => {
    // Prepare: b first seen with the old map at t=1000.
    const first = trackDisagreements(views('old'), 'new', new Map(), 1000);

    // Act
    const soon = slotMapCheck(views('old'), 'new', { tracked: first, now: 1000, settleMs: 5000 });
    const later = trackDisagreements(views('old'), 'new', first, 6000);
    const stuck = slotMapCheck(views('old'), 'new', { tracked: later, now: 6000, settleMs: 5000 });

    // Assess
    expect(soon).toEqual({ ok: true, disagreeing: [], settling: ['b'] });
    expect(later.get('b')).toEqual({ digest: 'old', since: 1000 });
    expect(stuck).toEqual({ ok: false, disagreeing: ['b'] });
  });

  it('restarts the clock when the node reports another map, and forgets a node that agrees', () => {
    // Prepare
    const first = trackDisagreements(views('old'), 'new', new Map(), 1000);

    // Act
    const learning = trackDisagreements(views('older'), 'new', first, 6000);
    const agreed = trackDisagreements(views('new'), 'new', learning, 7000);

    // Assess
    expect(learning.get('b')).toEqual({ digest: 'older', since: 6000 });
    expect(
      slotMapCheck(views('older'), 'new', { tracked: learning, now: 6000, settleMs: 5000 }).ok,
    ).toBe(true);
    expect(agreed.size).toBe(0);
  });
});
