/**
 * Where the AUTH token comes from: CLUSTER_AUTH_TOKEN (local runs), a Secrets Manager secret
 * (CLUSTER_AUTH_SECRET_ARN, the Lambda's way), an IAM auth token signed for CLUSTER_USERNAME
 * (CLUSTER_AUTH_MODE=iam, iam-auth-token.ts), or nowhere. A secret is read once and cached
 * across warm invocations; `refresh()` re-reads it, which the runner does once when AUTH fails,
 * so an ElastiCache token rotation never causes a false alarm.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ProbeConfig } from './config.js';
import { SecretError } from './errors.js';
import { IamTokenSource } from './iam-auth-token.js';
import { Secret } from './secret.js';

export interface TokenSource {
  /** The token to AUTH with, or undefined for a cluster without AUTH. Rejects with SecretError. */
  current(signal?: AbortSignal): Promise<Secret | undefined>;
  /** Re-reads the token where that can change anything; says whether it changed. */
  refresh(signal?: AbortSignal): Promise<boolean>;
  /**
   * Set when an AUTH does not last: kept connections must AUTH again, with the current token,
   * once their last AUTH is this old (IAM authentication). @default never
   */
  readonly reauthAfterMs?: number;
}

export function staticTokenSource(token: Secret | undefined): TokenSource {
  return {
    current: () => Promise.resolve(token),
    refresh: () => Promise.resolve(false),
  };
}

/**
 * The token inside a secret's value: the plain string, or the `token` (else `password`) field of
 * a JSON object, as the CDK-generated ElastiCache secret and hand-made ones hold it.
 */
export function tokenFromSecretValue(value: string, arn: string): string {
  const trimmed = value.trim();
  if (!trimmed.startsWith('{')) {
    if (trimmed === '') throw new SecretError(`secret ${arn} is empty`);
    return trimmed;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (error) {
    // JSON.parse quotes the text around the fault ("Unexpected token 'h', ..."{"token": hunter2"...),
    // so its error would carry part of the secret: keep only where parsing stopped.
    const position = /at position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    throw new SecretError(
      `secret ${arn} looks like JSON but does not parse${position === undefined ? '' : ` (at character ${position})`} (value not shown)`,
    );
  }
  const record = parsed as Record<string, unknown>;
  const token = typeof record.token === 'string' ? record.token : record.password;
  if (typeof token !== 'string' || token === '') {
    throw new SecretError(`secret ${arn} is JSON without a non-empty "token" or "password" field`);
  }
  return token;
}

export class SecretsManagerTokenSource implements TokenSource {
  readonly #arn: string;
  readonly #client: SecretsManagerClient;
  #cached: Secret | undefined;

  constructor(arn: string, client?: SecretsManagerClient) {
    this.#arn = arn;
    // Bounded: a Secrets Manager that does not answer must not eat the invocation.
    this.#client =
      client ??
      new SecretsManagerClient({
        maxAttempts: 3,
        requestHandler: new NodeHttpHandler({
          connectionTimeout: 1000,
          requestTimeout: 3000,
          // Without this the SDK only logs a warning when the timeout passes, and waits on.
          throwOnRequestTimeout: true,
        }),
      });
  }

  async current(signal?: AbortSignal): Promise<Secret> {
    this.#cached ??= await this.#read(signal);
    return this.#cached;
  }

  async refresh(signal?: AbortSignal): Promise<boolean> {
    const fresh = await this.#read(signal);
    const changed = this.#cached === undefined || fresh.reveal() !== this.#cached.reveal();
    this.#cached = fresh;
    return changed;
  }

  async #read(signal?: AbortSignal): Promise<Secret> {
    let value: string | undefined;
    try {
      const answer = await this.#client.send(new GetSecretValueCommand({ SecretId: this.#arn }), {
        ...(signal && { abortSignal: signal }),
      });
      value =
        answer.SecretString ??
        (answer.SecretBinary ? Buffer.from(answer.SecretBinary).toString('utf8') : undefined);
    } catch (cause) {
      const name = cause instanceof Error ? cause.name : 'Error';
      const message = cause instanceof Error ? cause.message : String(cause);
      throw new SecretError(`cannot read secret ${this.#arn}: ${name}: ${message}`, { cause });
    }
    if (value === undefined) throw new SecretError(`secret ${this.#arn} has no value`);
    return new Secret(tokenFromSecretValue(value, this.#arn));
  }
}

export function tokenSourceFor(
  config: Pick<ProbeConfig, 'authToken' | 'authSecretArn' | 'iam'>,
): TokenSource {
  if (config.iam) return new IamTokenSource({ target: config.iam });
  return config.authSecretArn
    ? new SecretsManagerTokenSource(config.authSecretArn)
    : staticTokenSource(config.authToken);
}
