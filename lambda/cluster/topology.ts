/**
 * The cluster's own description of itself, parsed from CLUSTER SHARDS (Redis 7+ / Valkey) or
 * CLUSTER NODES (older engines). Pure: replies in, typed topology out, TopologyParseError on
 * anything that does not have the documented shape.
 */
import { TopologyParseError } from '../errors.js';
import { SLOT_COUNT } from './slots.js';

export type NodeRole = 'primary' | 'replica';

/** What the cluster believes about a node: `failed` covers `fail` and `fail?` (PFAIL). */
export type NodeHealth = 'online' | 'failed' | 'loading';

export interface SlotRange {
  readonly start: number;
  readonly end: number;
}

export interface TopologyNode {
  /** The node's 40-character cluster id. */
  readonly id: string;
  /** Host to dial: the announced endpoint / hostname, else the IP; '' when the cluster has no address (noaddr). */
  readonly host: string;
  /** Client port to dial: the TLS port when TLS is on and the node announces one. */
  readonly port: number;
  /** `host:port` as announced (`[v6]:port` for IPv6 hosts); ':0' for a noaddr node. */
  readonly address: string;
  readonly role: NodeRole;
  /** Same value for a primary and its replicas (see `shardIdFor`). */
  readonly shard: string;
  /** For replicas: the id of the primary they replicate. */
  readonly primaryId?: string;
  readonly health: NodeHealth;
  /** Raw CLUSTER NODES flags (`master`, `slave`, `fail?`, `noaddr`, …); derived for CLUSTER SHARDS. */
  readonly flags: readonly string[];
  /** Replication offset when the reply carries it. */
  readonly replicationOffset?: number;
}

export interface Shard {
  /** See `shardIdFor`. */
  readonly id: string;
  readonly slots: readonly SlotRange[];
  /** Node id of the shard's primary (absent if the reply names none). */
  readonly primaryId?: string;
  /** Ids of every node in the shard, primary first. */
  readonly nodeIds: readonly string[];
}

export interface SlotMigration {
  readonly slot: number;
  readonly state: 'migrating' | 'importing';
  /** The node that reported it. */
  readonly nodeId: string;
  /** The other side of the migration. */
  readonly peerId: string;
}

export interface Topology {
  readonly source: 'CLUSTER SHARDS' | 'CLUSTER NODES';
  /** In slot order: the shard owning slot 0 first; slotless shards last. */
  readonly shards: readonly Shard[];
  /** Every member node, in shard order, primary before its replicas. Handshake nodes excluded. */
  readonly nodes: readonly TopologyNode[];
  /** Slots that CLUSTER NODES shows as migrating or importing (CLUSTER SHARDS does not show them). */
  readonly migrations: readonly SlotMigration[];
  /** Nodes in the handshake state (not members yet, so not probed). */
  readonly handshakeNodes: number;
}

export interface ParseOptions {
  /** Prefer the TLS port when a node announces both. */
  readonly tls: boolean;
}

const NODE_ID = /^[0-9a-fA-F]{40}$/;
const MAX_PORT = 65_535;
/** How much of a bad value an error message quotes: enough to recognise it, never a whole reply. */
const SHOWN_CHARS = 60;

/** A node before it is placed in a shard: the shard id depends on the whole shard. */
type NodeDraft = Omit<TopologyNode, 'shard'>;

interface ShardDraft {
  /** Names the shard when it owns no slots: its primary's id, else the id its replicas follow. */
  readonly key: string;
  readonly slots: readonly SlotRange[];
  readonly primary?: NodeDraft;
  readonly replicas: readonly NodeDraft[];
}

// ---------------------------------------------------------------------------------------------
// Formatting and slot-map helpers
// ---------------------------------------------------------------------------------------------

/** `host:port`, bracketing IPv6 literals so the port stays unambiguous; `:0` for noaddr. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `0-5460`, or `0-100,200,300-400`: ranges in the order given, a single slot without a dash. */
export function formatSlotRanges(slots: readonly SlotRange[]): string {
  return slots.map(({ start, end }) => (start === end ? `${start}` : `${start}-${end}`)).join(',');
}

/** Sorted by start, touching or overlapping ranges merged, so that equal slot sets compare equal. */
export function normalizeSlotRanges(slots: readonly SlotRange[]): SlotRange[] {
  const sorted = [...slots].sort((a, b) => a.start - b.start);
  const merged: SlotRange[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && range.start <= last.end + 1) {
      merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, range.end) };
    } else {
      merged.push({ start: range.start, end: range.end });
    }
  }
  return merged;
}

/**
 * A shard's id is its slot ranges, because the slots are what stays put when a failover swaps
 * the primary. A slotless primary (typically an old primary that failed over and has not
 * rejoined yet) has no slots to go by, so it is named after its primary id instead.
 */
export function shardIdFor(slots: readonly SlotRange[], primaryId: string | undefined): string {
  if (slots.length > 0) return formatSlotRanges(normalizeSlotRanges(slots));
  return primaryId === undefined ? 'noslots' : `noslots:${primaryId.slice(0, 8)}`;
}

/** Slot -> id of the primary serving it; `undefined` where no known primary owns the slot. */
export function slotOwners(topology: Topology): (string | undefined)[] {
  const owners = new Array<string | undefined>(SLOT_COUNT).fill(undefined);
  for (const shard of topology.shards) {
    if (shard.primaryId === undefined) continue;
    for (const { start, end } of shard.slots) owners.fill(shard.primaryId, start, end + 1);
  }
  return owners;
}

/** The canonical slot map of a Topology; see `parseSlotMapDigest`. */
export function slotMapDigest(topology: Topology): string {
  const ranges = topology.shards.flatMap((shard, index) => {
    const owner = shard.primaryId;
    return owner === undefined
      ? []
      : shard.slots.map(({ start, end }) => ({ start, end, owner, index }));
  });
  return digestRanges(ranges, (index) => `shard ${index}`);
}

/** Slots `start`..`end` served by `owner`, as entry `index` of their source lists them. */
interface OwnedRange {
  readonly start: number;
  readonly end: number;
  readonly owner: string;
  readonly index: number;
}

/**
 * The canonical slot map of a CLUSTER SLOTS reply: `start-end=primaryId` runs in slot order,
 * joined by commas, unowned slots left out. Two nodes agree on the slot map exactly when their
 * digests are equal, whichever way each happened to split its ranges. Every node's reply is
 * digested in every sweep, so this works on the ranges (a few per shard), never slot by slot.
 */
export function parseSlotMapDigest(reply: unknown): string {
  const ranges = expectArray(reply, 'CLUSTER SLOTS reply').map((entry, index): OwnedRange => {
    const where = `CLUSTER SLOTS entry ${index}`;
    const items = expectArray(entry, where);
    const { start, end } = readSlotRange(items[0], items[1], where);
    const primary = expectArray(items[2], `${where} primary`);
    return { start, end, owner: readNodeId(primary[2], `${where} primary`, 'id'), index };
  });
  return digestRanges(ranges, (index) => `CLUSTER SLOTS entry ${index}`);
}

/** The runs of `ranges` in slot order, adjacent ranges of one owner merged; overlaps fail. */
function digestRanges(ranges: readonly OwnedRange[], where: (index: number) => string): string {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const runs: string[] = [];
  let run: { start: number; end: number; owner: string } | undefined;
  let previous: OwnedRange | undefined;
  for (const range of sorted) {
    if (previous !== undefined && range.start <= previous.end) {
      fail(where(Math.max(range.index, previous.index)), `slot ${range.start} is listed twice`);
    }
    previous = range;
    if (run !== undefined && run.end + 1 === range.start && run.owner === range.owner) {
      run.end = range.end;
      continue;
    }
    if (run !== undefined) runs.push(`${run.start}-${run.end}=${run.owner}`);
    run = { start: range.start, end: range.end, owner: range.owner };
  }
  if (run !== undefined) runs.push(`${run.start}-${run.end}=${run.owner}`);
  return runs.join(',');
}

// ---------------------------------------------------------------------------------------------
// CLUSTER SHARDS
// ---------------------------------------------------------------------------------------------

const SHARD_ROLES = new Map<string, NodeRole>([
  ['master', 'primary'],
  ['replica', 'replica'],
]);

/** The docs say `failed`, but Redis 7.0 (and Valkey) actually send `fail`: accept both. */
const SHARD_HEALTH = new Map<string, NodeHealth>([
  ['online', 'online'],
  ['fail', 'failed'],
  ['failed', 'failed'],
  ['loading', 'loading'],
]);

/**
 * Parses CLUSTER SHARDS as ioredis returns it over RESP2 (nested arrays of field/value pairs), or
 * with each map as a Map, as RESP3 clients return it.
 */
export function parseClusterShards(reply: unknown, options: ParseOptions): Topology {
  const shards = expectArray(reply, 'CLUSTER SHARDS reply');
  const drafts = shards.flatMap((entry, index) =>
    parseShardEntry(entry, `CLUSTER SHARDS shard ${index}`, options),
  );
  rejectDuplicateNodes('CLUSTER SHARDS', drafts.flatMap(membersOf));
  return assemble('CLUSTER SHARDS', drafts, [], 0);
}

function parseShardEntry(entry: unknown, where: string, options: ParseOptions): ShardDraft[] {
  const fields = readFields(entry, where);
  const slots = readSlotPairs(fields.get('slots'), `${where} "slots"`);
  const nodes = expectArray(fields.get('nodes'), `${where} "nodes"`).map((node, index) =>
    parseShardNode(node, `${where} node ${index}`, options),
  );
  const first = nodes[0];
  if (first === undefined) fail(where, 'has no nodes');
  const masters = nodes.filter((node) => node.role === 'primary');
  // Redis 7.2+ and Valkey group nodes by shard id, which a failed-over old primary keeps until
  // it rejoins, so it can share a shard with its successor. It no longer serves the slots: the
  // live master leads and the old one stands alone, as Redis 7.0 reports it.
  const primary = masters.find((node) => node.health !== 'failed') ?? masters[0];
  const replicas = nodes
    .filter((node) => node.role === 'replica')
    .map((node) => (primary === undefined ? node : { ...node, primaryId: primary.id }));
  const shard: ShardDraft = { key: primary?.id ?? first.id, slots, primary, replicas };
  const strays = masters
    .filter((node) => node !== primary)
    .map((node): ShardDraft => ({ key: node.id, slots: [], primary: node, replicas: [] }));
  return [shard, ...strays];
}

function parseShardNode(entry: unknown, where: string, options: ParseOptions): NodeDraft {
  const fields = readFields(entry, where);
  const id = readNodeId(fields.get('id'), where, 'id');
  const role = readChoice(fields.get('role'), SHARD_ROLES, where, 'role');
  const health = readChoice(fields.get('health'), SHARD_HEALTH, where, 'health');
  const host = chooseShardHost(fields, where);
  const port = chooseShardPort(fields, options, where);
  const offset = fields.get('replication-offset');
  return {
    id,
    host,
    port,
    address: formatAddress(host, port),
    role,
    health,
    flags: [role === 'primary' ? 'master' : 'slave', ...(health === 'failed' ? ['fail'] : [])],
    ...(offset !== undefined && { replicationOffset: readOffset(offset, where) }),
  };
}

/** `endpoint` is what clients are told to dial; `?` means the preferred kind was not announced. */
function chooseShardHost(fields: ReadonlyMap<string, unknown>, where: string): string {
  const candidates = ['endpoint', 'hostname', 'ip'].map((name) =>
    readOptionalString(fields.get(name), where, name),
  );
  return candidates.find((host) => host !== undefined && host !== '' && host !== '?') ?? '';
}

/** A port of 0 means "not listening", so it never wins over a real one. */
function chooseShardPort(
  fields: ReadonlyMap<string, unknown>,
  options: ParseOptions,
  where: string,
): number {
  const plain = readOptionalPort(fields.get('port'), where, 'port');
  const tls = readOptionalPort(fields.get('tls-port'), where, 'tls-port');
  const [preferred, other] = options.tls ? [tls, plain] : [plain, tls];
  if (preferred !== undefined && preferred > 0) return preferred;
  if (other !== undefined && other > 0) return other;
  const port = preferred ?? other;
  if (port === undefined) fail(where, 'has neither "port" nor "tls-port"');
  return port;
}

function readSlotPairs(value: unknown, where: string): SlotRange[] {
  const bounds = expectArray(value, where);
  if (bounds.length % 2 !== 0) fail(where, `expected start/end pairs, got ${bounds.length} items`);
  const ranges: SlotRange[] = [];
  for (let i = 0; i < bounds.length; i += 2) {
    ranges.push(readSlotRange(bounds[i], bounds[i + 1], where));
  }
  return ranges;
}

// ---------------------------------------------------------------------------------------------
// CLUSTER NODES
// ---------------------------------------------------------------------------------------------

interface NodeLine {
  readonly node: NodeDraft;
  readonly slots: readonly SlotRange[];
  readonly migrations: readonly SlotMigration[];
}

/** `ip:port@cport`; the greedy host makes the last colon split the port, as IPv6 needs. */
const NODE_ADDRESS = /^([0-9A-Za-z.:%_-]*):(\d{1,5})(?:@(\d{1,5}))?$/;
const HOSTNAME = /^[0-9A-Za-z._-]+$/;
const FLAG = /^[a-z_-]+\??$/;
const UNSIGNED = /^\d+$/;
const SLOT_RANGE = /^(\d{1,5})(?:-(\d{1,5}))?$/;
/** `[slot->-peer]` on the migrating side, `[slot-<-peer]` on the importing side. */
const SLOT_MIGRATION = /^\[(\d{1,5})-([<>])-([^\]]*)\]$/;
const LINK_STATES = new Set(['connected', 'disconnected']);

/**
 * Parses CLUSTER NODES text. `options` does not matter here: the text carries one port per node,
 * the one matching the connection that asked (TLS or plain), so there is nothing to choose.
 */
export function parseClusterNodes(text: string, _options: ParseOptions): Topology {
  if (typeof text !== 'string') fail('CLUSTER NODES', `expected text, got ${show(text)}`);
  const lines: NodeLine[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() !== '') lines.push(parseNodeLine(line, `CLUSTER NODES line ${index + 1}`));
  });
  const members = lines.filter((line) => !line.node.flags.includes('handshake'));
  // Before grouping, which would fold two lines with the same primary id into one.
  rejectDuplicateNodes(
    'CLUSTER NODES',
    members.map((line) => line.node),
  );
  return assemble(
    'CLUSTER NODES',
    groupNodeLines(members),
    members.flatMap((line) => line.migrations),
    lines.length - members.length,
  );
}

function parseNodeLine(line: string, where: string): NodeLine {
  const fields = line.trim().split(/\s+/);
  if (fields.length < 8) fail(where, `expected at least 8 fields, got ${fields.length}`);
  const [id = '', address = '', flagList = '', master = '', ...rest] = fields;
  const [pingSent = '', pongReceived = '', configEpoch = '', linkState = '', ...slotTokens] = rest;
  if (!NODE_ID.test(id)) fail(where, `bad node id ${show(id)}`);
  const { host, port } = parseNodeAddress(address, where);
  const flags = flagList.split(',');
  if (!flags.every((flag) => FLAG.test(flag))) fail(where, `bad flags ${show(flagList)}`);
  if (master !== '-' && !NODE_ID.test(master)) fail(where, `bad master id ${show(master)}`);
  checkLinkFields(where, pingSent, pongReceived, configEpoch, linkState);
  const role: NodeRole = flags.includes('slave') ? 'replica' : 'primary';
  const node: NodeDraft = {
    id,
    host,
    port,
    address: formatAddress(host, port),
    role,
    health: flags.includes('fail') || flags.includes('fail?') ? 'failed' : 'online',
    flags,
    ...(role === 'replica' && master !== '-' && { primaryId: master }),
  };
  return parseSlotTokens(node, slotTokens, where);
}

/** Not used by slotwatch, but a line where they are wrong is not a line to trust. */
function checkLinkFields(
  where: string,
  pingSent: string,
  pongReceived: string,
  configEpoch: string,
  linkState: string,
): void {
  if (!UNSIGNED.test(pingSent)) fail(where, `bad ping-sent ${show(pingSent)}`);
  if (!UNSIGNED.test(pongReceived)) fail(where, `bad pong-recv ${show(pongReceived)}`);
  if (!UNSIGNED.test(configEpoch)) fail(where, `bad config-epoch ${show(configEpoch)}`);
  if (!LINK_STATES.has(linkState)) fail(where, `bad link-state ${show(linkState)}`);
}

/** `ip:port@cport[,hostname]`; Redis 7.2+ may append `key=value` aux fields, which are skipped. */
function parseNodeAddress(text: string, where: string): { host: string; port: number } {
  const [endpoint = '', hostname = ''] = text.split(',');
  const match = NODE_ADDRESS.exec(endpoint);
  const ip = match?.[1];
  const port = Number(match?.[2]);
  const busPort = Number(match?.[3] ?? 0);
  const announced = hostname !== '' && !hostname.includes('=');
  if (ip === undefined || port > MAX_PORT || busPort > MAX_PORT) {
    fail(where, `bad address ${show(text)}`);
  }
  if (announced && !HOSTNAME.test(hostname)) fail(where, `bad address ${show(text)}`);
  return { host: announced ? hostname : ip, port };
}

function parseSlotTokens(node: NodeDraft, tokens: readonly string[], where: string): NodeLine {
  const slots: SlotRange[] = [];
  const migrations: SlotMigration[] = [];
  for (const token of tokens) {
    const range = SLOT_RANGE.exec(token);
    const migration = SLOT_MIGRATION.exec(token);
    if (range !== null) {
      slots.push(readSlotRange(Number(range[1]), Number(range[2] ?? range[1]), where));
    } else if (migration !== null) {
      migrations.push(readMigration(node.id, migration, where));
    } else {
      fail(where, `bad slot ${show(token)}`);
    }
  }
  if (node.role === 'replica' && slots.length > 0) {
    fail(where, `replica ${node.id} claims slots ${formatSlotRanges(slots)}`);
  }
  return { node, slots, migrations };
}

function readMigration(nodeId: string, match: RegExpExecArray, where: string): SlotMigration {
  const slot = readSlotRange(Number(match[1]), Number(match[1]), where).start;
  const peerId = readNodeId(match[3], where, 'migration peer');
  return { slot, state: match[2] === '>' ? 'migrating' : 'importing', nodeId, peerId };
}

interface GroupDraft {
  readonly slots: SlotRange[];
  primary?: NodeDraft;
  readonly replicas: NodeDraft[];
}

/**
 * A primary leads its own group; a replica joins the group of the primary it names, even when
 * that primary is not in the list, so that replicas of the same lost primary stay together. A
 * replica that names none forms a group of its own.
 */
function groupNodeLines(lines: readonly NodeLine[]): ShardDraft[] {
  const groups = new Map<string, GroupDraft>();
  const groupFor = (key: string) => {
    const group = groups.get(key) ?? { slots: [], replicas: [] };
    groups.set(key, group);
    return group;
  };
  for (const { node, slots } of lines) {
    if (node.role === 'primary') {
      const group = groupFor(node.id);
      group.primary = node;
      group.slots.push(...slots);
    } else {
      groupFor(node.primaryId ?? node.id).replicas.push(node);
    }
  }
  return [...groups].map(([key, group]) => ({ key, ...group }));
}

// ---------------------------------------------------------------------------------------------
// Assembly: shared by both parsers so that they agree on ids and ordering
// ---------------------------------------------------------------------------------------------

function assemble(
  source: Topology['source'],
  drafts: readonly ShardDraft[],
  migrations: readonly SlotMigration[],
  handshakeNodes: number,
): Topology {
  const built = drafts.map(buildShard).sort((a, b) => compareShards(a.shard, b.shard));
  rejectSharedSlots(
    source,
    built.map(({ shard }) => shard),
  );
  return {
    source,
    shards: built.map(({ shard }) => shard),
    nodes: built.flatMap(({ nodes }) => nodes),
    migrations,
    handshakeNodes,
  };
}

function buildShard(draft: ShardDraft): { shard: Shard; nodes: TopologyNode[] } {
  const slots = normalizeSlotRanges(draft.slots);
  const id = shardIdFor(slots, draft.key);
  const nodes = membersOf(draft).map((node) => ({ ...node, shard: id }));
  const shard: Shard = {
    id,
    slots,
    ...(draft.primary !== undefined && { primaryId: draft.primary.id }),
    nodeIds: nodes.map((node) => node.id),
  };
  return { shard, nodes };
}

/** Primary first, then replicas by id, so every node's view of a shard lists it the same way. */
function membersOf(draft: ShardDraft): NodeDraft[] {
  const replicas = [...draft.replicas].sort((a, b) => compareText(a.id, b.id));
  return draft.primary === undefined ? replicas : [draft.primary, ...replicas];
}

function compareShards(a: Shard, b: Shard): number {
  const firstSlot = (shard: Shard) => shard.slots[0]?.start ?? SLOT_COUNT;
  return firstSlot(a) - firstSlot(b) || compareText(a.id, b.id);
}

function compareText(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function rejectDuplicateNodes(source: string, nodes: readonly NodeDraft[]): void {
  const seen = new Set<string>();
  for (const { id } of nodes) {
    if (seen.has(id)) fail(source, `node ${id} is listed twice`);
    seen.add(id);
  }
}

/** Every node keeps one owner per slot, so a slot in two shards means a garbled reply. */
function rejectSharedSlots(source: string, shards: readonly Shard[]): void {
  const owners = new Array<string | undefined>(SLOT_COUNT).fill(undefined);
  for (const shard of shards) {
    for (const { start, end } of shard.slots) {
      for (let slot = start; slot <= end; slot++) {
        const owner = owners[slot];
        if (owner !== undefined) fail(source, `slot ${slot} is in shards ${owner} and ${shard.id}`);
        owners[slot] = shard.id;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Validation: every check ends in a TopologyParseError that says where and what
// ---------------------------------------------------------------------------------------------

function fail(where: string, problem: string): never {
  throw new TopologyParseError(`${where}: ${problem}`);
}

/** A short, printable rendering of a bad value; never throws, whatever the value is. */
function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? typeof value;
  } catch {
    text = typeof value;
  }
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS - 3)}...` : text;
}

function expectArray(value: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(value)) fail(where, `expected an array, got ${show(value)}`);
  return value as readonly unknown[];
}

/**
 * RESP2 flattens a map into `[name, value, name, value, ...]`; a RESP3 client hands over a Map
 * (ioredis 6, node-redis), which is read the same way, names checked alike.
 */
function readFields(value: unknown, where: string): ReadonlyMap<string, unknown> {
  const flat: unknown = value instanceof Map ? [...(value as Map<unknown, unknown>)].flat() : value;
  if (!Array.isArray(flat)) fail(where, `expected an array or a map, got ${show(value)}`);
  const items = flat as readonly unknown[];
  if (items.length % 2 !== 0) fail(where, `expected name/value pairs, got ${items.length} items`);
  const fields = new Map<string, unknown>();
  for (let i = 0; i < items.length; i += 2) {
    const name = items[i];
    if (typeof name !== 'string') fail(where, `field name ${show(name)} is not a string`);
    fields.set(name, items[i + 1]);
  }
  return fields;
}

function readInteger(
  value: unknown,
  min: number,
  max: number,
  where: string,
  name: string,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(where, `"${name}" must be an integer in [${min}, ${max}], got ${show(value)}`);
  }
  return value;
}

function readOptionalPort(value: unknown, where: string, name: string): number | undefined {
  return value === undefined ? undefined : readInteger(value, 0, MAX_PORT, where, name);
}

function readOffset(value: unknown, where: string): number {
  return readInteger(value, 0, Number.MAX_SAFE_INTEGER, where, 'replication-offset');
}

function readOptionalString(value: unknown, where: string, name: string): string | undefined {
  if (value !== undefined && typeof value !== 'string') {
    fail(where, `"${name}" must be a string, got ${show(value)}`);
  }
  return value;
}

function readNodeId(value: unknown, where: string, name: string): string {
  if (typeof value !== 'string' || !NODE_ID.test(value)) {
    fail(where, `"${name}" must be a 40-character hex node id, got ${show(value)}`);
  }
  return value;
}

function readChoice<T>(
  value: unknown,
  choices: ReadonlyMap<string, T>,
  where: string,
  name: string,
): T {
  const choice = typeof value === 'string' ? choices.get(value) : undefined;
  if (choice === undefined) {
    fail(where, `"${name}" must be one of ${[...choices.keys()].join('|')}, got ${show(value)}`);
  }
  return choice;
}

function readSlotRange(start: unknown, end: unknown, where: string): SlotRange {
  const first = readInteger(start, 0, SLOT_COUNT - 1, where, 'slot');
  const last = readInteger(end, 0, SLOT_COUNT - 1, where, 'slot');
  if (first > last) fail(where, `slot range ${first}-${last} starts after it ends`);
  return { start: first, end: last };
}
