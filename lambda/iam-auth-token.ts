/**
 * ElastiCache IAM authentication: the AUTH password is a SigV4-presigned `connect` request for the
 * `elasticache` service, signed with the function's own credentials, valid for 15 minutes.
 *
 * The form (AWS ElastiCache documentation, "Authenticating with IAM"): a GET of
 * `http://<replication group id>/?Action=connect&User=<user id>` (both lower-cased), presigned
 * with X-Amz-Expires=900 and only `host` signed, with the `http://` scheme stripped. The client then
 * sends `AUTH <user id> <token>`. ElastiCache checks the token when AUTH arrives, so a connection
 * outlives its token; it closes IAM-authenticated connections after 12 hours unless they AUTH again.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { IamAuthTarget } from './config.js';
import { SecretError } from './errors.js';
import { Secret } from './secret.js';
import type { TokenSource } from './token-source.js';

/** ElastiCache accepts at most 15 minutes between signing and AUTH. */
export const IAM_TOKEN_VALIDITY_SECONDS = 900;

/**
 * A token is signed afresh once it is this old: five minutes before it expires, which is more than
 * a connection attempt, a sweep or a Lambda's clock skew can use up.
 */
export const IAM_TOKEN_REFRESH_AFTER_MS = 10 * 60_000;

/**
 * A kept connection AUTHs again (with the current token) once its last AUTH is this old. ElastiCache
 * would close it at 12 hours; re-authenticating as often as a token is signed instead keeps every
 * connection far from that limit whatever the Lambda's lifetime, and it means the probe proves
 * every 10 minutes that IAM authentication still works (a revoked policy or a user removed from
 * the user group shows as `auth:` failures within minutes, not 12 hours later, when applications
 * reconnect). The cost is one AUTH round trip per node every 10 minutes, made before the probes
 * start, so it is never part of a measured latency.
 */
export const IAM_REAUTH_AFTER_MS = IAM_TOKEN_REFRESH_AFTER_MS;

/** Where credentials come from: the SDK's default chain, or a fixed provider in tests. */
export type CredentialProvider = ReturnType<typeof defaultProvider>;
export type Credentials = Awaited<ReturnType<CredentialProvider>>;

/** Signing failed: no credentials, or credentials the signer refuses. */
export class IamTokenError extends SecretError {}

export interface IamTokenSigning {
  readonly target: IamAuthTarget;
  readonly credentials: Credentials | CredentialProvider;
  readonly signingDate: Date;
}

/** SHA-256 (and HMAC-SHA-256 with a key), as the signer wants its hash: a constructor. */
class Sha256 extends Hash {
  constructor(secret?: Parameters<typeof Hash.prototype.update>[0]) {
    super('sha256', secret);
  }
}

/** The IAM auth token: the presigned connect URL without its scheme. */
export async function signIamAuthToken({
  target,
  credentials,
  signingDate,
}: IamTokenSigning): Promise<string> {
  const host = target.replicationGroupId.toLowerCase();
  const signer = new SignatureV4({
    service: 'elasticache',
    region: target.region,
    credentials,
    sha256: Sha256,
  });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'http:',
      hostname: host,
      path: '/',
      query: { Action: 'connect', User: target.userId.toLowerCase() },
      headers: { host },
    },
    { expiresIn: IAM_TOKEN_VALIDITY_SECONDS, signingDate },
  );
  return `${host}/?${queryString(presigned.query ?? {})}`;
}

/**
 * The query in canonical order (names sorted, RFC 3986 escaping, as SigV4 signs it) with the
 * signature last, which is how presigned URLs are written.
 */
function queryString(query: Readonly<Record<string, string | readonly string[] | null>>): string {
  const pairs = Object.entries(query).flatMap(([name, value]) =>
    typeof value === 'string' ? [[escape(name), escape(value)] as const] : [],
  );
  const signature = pairs.filter(([name]) => name === 'X-Amz-Signature');
  const rest = pairs
    .filter(([name]) => name !== 'X-Amz-Signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [...rest, ...signature].map(([name, value]) => `${name}=${value}`).join('&');
}

const escape = (text: string): string =>
  encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

export interface IamTokenSourceOptions {
  readonly target: IamAuthTarget;
  /** @default the SDK's default chain: in Lambda, the function role's credentials */
  readonly credentials?: CredentialProvider;
  /** @default Date.now */
  readonly now?: () => number;
}

interface SignedToken {
  readonly token: Secret;
  readonly signedAt: number;
  readonly accessKeyId: string;
}

/**
 * Signs IAM auth tokens and keeps the last one until it is IAM_TOKEN_REFRESH_AFTER_MS old, so a
 * sweep's dozens of connections share one signature and none AUTHs with an expired token.
 */
export class IamTokenSource implements TokenSource {
  readonly reauthAfterMs = IAM_REAUTH_AFTER_MS;
  readonly #target: IamAuthTarget;
  readonly #credentials: CredentialProvider;
  readonly #now: () => number;
  #cached: SignedToken | undefined;
  #signing: Promise<SignedToken> | undefined;

  constructor(options: IamTokenSourceOptions) {
    this.#target = options.target;
    // The chain caches credentials and fetches new ones shortly before they expire.
    this.#credentials = options.credentials ?? defaultProvider();
    this.#now = options.now ?? ((): number => Date.now());
  }

  async current(signal?: AbortSignal): Promise<Secret> {
    const cached = this.#cached;
    const age = cached === undefined ? Infinity : this.#now() - cached.signedAt;
    // A clock that went backwards makes the age negative: sign again rather than trust it.
    if (cached !== undefined && age >= 0 && age < IAM_TOKEN_REFRESH_AFTER_MS) return cached.token;
    return (await this.#sign(signal)).token;
  }

  /** Signs again; says whether the credentials changed since (only then can AUTH fare better). */
  async refresh(signal?: AbortSignal): Promise<boolean> {
    const before = this.#cached?.accessKeyId;
    const fresh = await this.#sign(signal);
    return fresh.accessKeyId !== before;
  }

  /** Concurrent callers (the nodes of a cold sweep) share one signing. */
  #sign(signal?: AbortSignal): Promise<SignedToken> {
    this.#signing ??= this.#signOnce().finally(() => (this.#signing = undefined));
    return signal === undefined ? this.#signing : abortable(this.#signing, signal);
  }

  async #signOnce(): Promise<SignedToken> {
    const { userId, replicationGroupId } = this.#target;
    const signedAt = this.#now();
    let credentials: Credentials;
    let token: string;
    try {
      credentials = await this.#credentials();
      token = await signIamAuthToken({
        target: this.#target,
        credentials,
        signingDate: new Date(signedAt),
      });
    } catch (cause) {
      const name = cause instanceof Error ? cause.name : 'Error';
      const message = cause instanceof Error ? cause.message : String(cause);
      throw new IamTokenError(
        `cannot sign an IAM auth token for user ${userId} of ${replicationGroupId}: ${name}: ${message}`,
        { cause },
      );
    }
    this.#cached = { token: new Secret(token), signedAt, accessKeyId: credentials.accessKeyId };
    return this.#cached;
  }
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function abortError(signal: AbortSignal): IamTokenError {
  return new IamTokenError('signing the IAM auth token took too long', { cause: signal.reason });
}
