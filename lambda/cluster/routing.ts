/**
 * Sends a command to whichever primary serves a slot, following the cluster's redirects the way
 * a cluster client does: MOVED (the slot has a new owner: remember it), ASK (the slot is being
 * migrated: ask the importing node once, after ASKING) and TRYAGAIN (keys split mid-migration).
 */
import type { NodeTarget } from './connect.js';
import type { ConnectionPool } from './pool.js';
import { SLOT_COUNT } from './slots.js';

export interface Redirect {
  readonly kind: 'MOVED' | 'ASK';
  readonly slot: number;
  readonly target: NodeTarget;
}

/**
 * Parses `MOVED 3999 10.0.0.1:6381` / `ASK 3999 host:6381`; an empty host means "the same host".
 * A garbled one (a slot or port out of range) is no redirect: the reply then stands as an error.
 */
export function parseRedirect(message: string, currentHost: string): Redirect | undefined {
  const match = /^(MOVED|ASK) (\d{1,5}) (\S*):(\d{1,5})$/.exec(message.trim());
  if (!match) return undefined;
  const [, kind, slotText, host, portText] = match;
  const slot = Number(slotText);
  const port = Number(portText);
  if (slot >= SLOT_COUNT || port < 1 || port > 65_535) return undefined;
  return {
    kind: kind as Redirect['kind'],
    slot,
    target: { host: host ? host.replace(/^\[(.*)\]$/, '$1') : currentHost, port },
  };
}

export interface RouteState {
  /** Slot -> serving primary, seeded from the topology and corrected by MOVED replies. */
  readonly owners: Map<number, NodeTarget>;
  redirects: number;
}

export interface RouteOptions {
  readonly maxRedirects: number;
  /** TRYAGAIN replies retried before giving up (the caller may then split the command). */
  readonly maxTryAgain: number;
  /** Pause before retrying a TRYAGAIN reply. */
  readonly tryAgainDelayMs: number;
}

export const ROUTE_DEFAULTS: RouteOptions = {
  maxRedirects: 5,
  maxTryAgain: 2,
  tryAgainDelayMs: 20,
};

/** A multi-key command met keys split between two nodes mid-migration. */
export const isTryAgain = (error: unknown): boolean =>
  error instanceof Error && error.message.startsWith('TRYAGAIN');

export class RoutingError extends Error {}

export async function sendToSlot(
  pool: ConnectionPool,
  state: RouteState,
  slot: number,
  command: readonly [string, ...(string | number)[]],
  options: RouteOptions = ROUTE_DEFAULTS,
): Promise<unknown> {
  let target = state.owners.get(slot);
  if (!target) throw new RoutingError(`no primary serves slot ${slot}`);
  let asking = false;
  let tryAgain = 0;
  for (let attempt = 0; attempt <= options.maxRedirects + options.maxTryAgain; attempt++) {
    try {
      const current = target;
      return await pool.exec(current, async (client) => {
        if (!asking) return client.call(...command);
        const replies =
          (await client
            .pipeline()
            .call('ASKING')
            .call(...command)
            .exec()) ?? [];
        const [askingReply, commandReply] = replies;
        if (askingReply?.[0]) throw askingReply[0];
        if (commandReply?.[0]) throw commandReply[0];
        return commandReply?.[1];
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : '';
      const redirect = parseRedirect(message, target.host);
      if (redirect) {
        state.redirects++;
        target = redirect.target;
        asking = redirect.kind === 'ASK';
        if (redirect.kind === 'MOVED') state.owners.set(slot, redirect.target);
        continue;
      }
      if (isTryAgain(error) && tryAgain++ < options.maxTryAgain) {
        await new Promise((resolve) => setTimeout(resolve, options.tryAgainDelayMs));
        continue;
      }
      throw error;
    }
  }
  throw new RoutingError(`slot ${slot}: still redirected after ${options.maxRedirects} hops`);
}
