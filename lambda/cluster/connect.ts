/**
 * One connection to one node: TLS with verified certificates, AUTH, READONLY, all bounded by the
 * probe timeout. ioredis's own reconnects, retries and offline queue are switched off: a dead node
 * must fail within the timeout, and the pool (pool.ts) decides when to dial again.
 */
import {
  createSecureContext,
  rootCertificates,
  type ConnectionOptions,
  type SecureContext,
} from 'node:tls';
import { isIP } from 'node:net';
import { Redis } from 'ioredis';
import { redactSignedQueries, type Secret } from '../secret.js';

export interface ConnectionSettings {
  readonly tls: boolean;
  /** Extra CA certificates (PEM) trusted beside the system store. */
  readonly caPem?: string;
  readonly username?: string;
  readonly token?: Secret;
  readonly timeoutMs: number;
}

export interface NodeTarget {
  readonly host: string;
  readonly port: number;
}

/** Raised by `withTimeout`; `phase` says what was waited for. */
export class TimeoutError extends Error {
  constructor(
    readonly phase: string,
    readonly ms: number,
  ) {
    super(`timeout after ${ms} ms (${phase})`);
    this.name = 'TimeoutError';
  }
}

/** `phase` may be a function, asked when the time is up, for work whose stage only then shows. */
export function withTimeout<T>(
  work: Promise<T>,
  ms: number,
  phase: string | (() => string),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(typeof phase === 'string' ? phase : phase(), ms)),
      ms,
    );
  });
  return Promise.race([work, expiry]).finally(() => clearTimeout(timer));
}

export function tlsOptions(settings: ConnectionSettings, host: string): ConnectionOptions {
  return {
    secureContext: secureContextFor(settings.caPem),
    // SNI and certificate checks use the announced hostname (ElastiCache TLS clusters announce
    // hostnames); for an IP, Node checks the IP SANs and SNI must be left out.
    ...(isIP(host) === 0 && { servername: host }),
    rejectUnauthorized: true,
  };
}

const secureContexts = new Map<string, SecureContext>();

/**
 * The trust store (the system CAs, plus `caPem` when given), built once per CA and shared by
 * every connection: building it parses some 140 certificates, about 25 ms of CPU, which every
 * connection of a cold sweep used to pay again (a 256 MB Lambda pays it seven times over).
 */
export function secureContextFor(caPem?: string): SecureContext {
  const key = caPem ?? '';
  let context = secureContexts.get(key);
  if (context === undefined) {
    context = createSecureContext({
      ca: caPem ? [...rootCertificates, caPem] : [...rootCertificates],
      minVersion: 'TLSv1.2',
    });
    secureContexts.set(key, context);
  }
  return context;
}

/**
 * Dials `target` and completes the handshake (AUTH, READONLY so replicas serve reads of their
 * slots, CLIENT SETNAME so operators can tell probe connections apart). Resolves only when the
 * connection can serve commands; on any failure the client is disconnected before rejecting.
 */
export async function openConnection(
  settings: ConnectionSettings,
  target: NodeTarget,
): Promise<Redis> {
  const client = new Redis({
    host: target.host,
    port: target.port,
    ...(settings.tls && { tls: tlsOptions(settings, target.host) }),
    lazyConnect: true,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    autoResubscribe: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    // Only a backstop: withTimeout below bounds the dial and names the phase that hung, which
    // ioredis's own "connect ETIMEDOUT" would not.
    connectTimeout: 2 * settings.timeoutMs,
    // A dropped probe connection has nothing worth draining; ioredis would otherwise keep a 2 s
    // timer alive after disconnecting a socket that never opened, delaying process exit.
    disconnectTimeout: 100,
    noDelay: true,
    keepAlive: 15_000,
    // ioredis would otherwise send two CLIENT SETINFO ahead of our AUTH, which the server
    // refuses (two errors in its error stats per probe connection), and hold connect() until
    // they are answered: a round trip more per dial, and a server that completes TLS and then
    // stays silent would be reported as timing out in "connect" instead of in "auth".
    disableClientInfo: true,
  });
  // connect() rejects with a bare "Connection is closed." while the socket's real error (refused,
  // TLS verification, DNS) arrives as an event: keep it to report the actual cause. The listener
  // also stops ioredis from printing "Unhandled error event" to stderr.
  let socketError: Error | undefined;
  client.on('error', (error: Error) => {
    socketError ??= error;
  });
  // A listener that accepts the TCP connection and never completes the TLS handshake (an
  // overloaded node, a middlebox) is another fault than a host that never accepts: say which.
  const connectPhase = (): string => {
    // ioredis sets `stream` only once it dials; the type does not say so.
    const stream: { readonly connecting: boolean } | undefined = client.stream;
    return settings.tls && stream?.connecting === false ? 'tls handshake' : 'connect';
  };
  try {
    await withTimeout(client.connect(), settings.timeoutMs, connectPhase);
    const handshake = client.pipeline();
    if (settings.token) handshake.call('AUTH', ...authArguments(settings.username, settings.token));
    handshake.call('READONLY');
    handshake.call('CLIENT', 'SETNAME', 'slotwatch');
    const replies = (await withTimeout(handshake.exec(), settings.timeoutMs, 'auth')) ?? [];
    for (const [error] of replies) if (error) throw error;
    return client;
  } catch (error) {
    client.disconnect();
    throw socketError && !(error instanceof TimeoutError) ? socketError : error;
  }
}

/** AUTH's arguments: `[user] token`. The one place besides a test that reveals the token. */
export function authArguments(username: string | undefined, token: Secret): string[] {
  return username ? [username, token.reveal()] : [token.reveal()];
}

const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'EPROTO',
]);

const NETWORK_CAUSES: Record<string, string> = {
  ECONNREFUSED: 'refused: nothing listens on that port',
  ECONNRESET: 'reset by peer',
  EPIPE: 'closed by server',
  ENOTFOUND: 'dns: host name does not resolve',
  EAI_AGAIN: 'dns: lookup failed (temporary)',
  EHOSTUNREACH: 'unreachable: no route to host',
  ENETUNREACH: 'unreachable: network unreachable',
  ETIMEDOUT: 'timeout (connect)',
};

const MAX_CAUSE_LENGTH = 160;

/**
 * A short, human-readable cause for the report's `error` field: `timeout …`, `auth: …`,
 * `tls: …`, `refused …`, `closed by server`, or the server's own reply. Never includes a secret.
 */
export function describeError(error: unknown, secret?: Secret): string {
  const text = causeOf(error);
  const scrubbed = redactSignedQueries(secret ? secret.scrub(text) : text);
  return scrubbed.length > MAX_CAUSE_LENGTH
    ? `${scrubbed.slice(0, MAX_CAUSE_LENGTH - 1)}…`
    : scrubbed;
}

function causeOf(error: unknown): string {
  if (error instanceof TimeoutError) return error.message;
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  if (code && TLS_CODES.has(code)) return `tls: ${error.message}`;
  if (code && NETWORK_CAUSES[code]) return NETWORK_CAUSES[code];
  const message = error.message.split('\n')[0] ?? '';
  if (/^(WRONGPASS|NOAUTH)\b|^ERR (AUTH|invalid (username|password))/i.test(message)) {
    return `auth: ${message}`;
  }
  if (/^NOPERM\b/.test(message)) return `acl: ${message}`;
  if (/^Connection is closed|^Stream isn't writeable/i.test(message)) return 'closed by server';
  if (/cluster support disabled/i.test(message))
    return 'not a cluster: cluster mode is disabled on this node';
  return message;
}

/** True when the connection itself is unusable (as opposed to a reply error from a live server). */
export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof TimeoutError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code && (NETWORK_CAUSES[code] !== undefined || TLS_CODES.has(code))) return true;
  return /^Connection is closed|^Stream isn't writeable|^read ECONNRESET|socket hang up/i.test(
    error.message,
  );
}

/** A stale connection is one the server closed while we were not looking: worth one redial. */
export function isStaleConnectionError(error: unknown): boolean {
  return isConnectionFailure(error) && !(error instanceof TimeoutError);
}
