import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  IAM_REAUTH_AFTER_MS,
  IAM_TOKEN_REFRESH_AFTER_MS,
  IamTokenError,
  IamTokenSource,
  signIamAuthToken,
  type Credentials,
} from '../../lambda/iam-auth-token.js';
import { tokenSourceFor } from '../../lambda/token-source.js';
import { expectedConnectToken } from '../support/sigv4-presign.js';

const TARGET = {
  replicationGroupId: 'Orders-Cache',
  userId: 'Slotwatch-Probe',
  region: 'eu-west-1',
};
const KEYS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const SESSION = { ...KEYS, sessionToken: 'IQoJb3JpZ2luX2VjE/+session=token' };
const SIGNED_AT = new Date('2026-12-01T13:45:07.123Z');

/** The token's query as ordered name/value pairs, values decoded. */
function queryOf(token: string): [string, string][] {
  const query = token.slice(token.indexOf('?') + 1);
  return query.split('&').map((pair) => {
    const [name = '', value = ''] = pair.split('=');
    return [name, decodeURIComponent(value)];
  });
}

describe('signIamAuthToken', () => {
  it('is the documented presigned connect URL, scheme stripped, ids lower-cased', async () => {
    // Act
    const token = await signIamAuthToken({
      target: TARGET,
      credentials: SESSION,
      signingDate: SIGNED_AT,
    });

    // Assess
    expect(token.startsWith('orders-cache/?Action=connect&User=slotwatch-probe&')).toBe(true);
    expect(token).not.toMatch(/^https?:/);
    expect(queryOf(token).map(([name]) => name)).toEqual([
      'Action',
      'User',
      'X-Amz-Algorithm',
      'X-Amz-Credential',
      'X-Amz-Date',
      'X-Amz-Expires',
      'X-Amz-Security-Token',
      'X-Amz-SignedHeaders',
      'X-Amz-Signature',
    ]);
    expect(Object.fromEntries(queryOf(token))).toMatchObject({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIAIOSFODNN7EXAMPLE/20261201/eu-west-1/elasticache/aws4_request',
      'X-Amz-Date': '20261201T134507Z',
      'X-Amz-Expires': '900',
      'X-Amz-Security-Token': SESSION.sessionToken,
      'X-Amz-SignedHeaders': 'host',
    });
    // Reserved characters of the session token and the credential scope are percent-encoded.
    expect(token).toContain('X-Amz-Security-Token=IQoJb3JpZ2luX2VjE%2F%2Bsession%3Dtoken&');
    expect(token).toContain('X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261201%2Feu-west-1%2F');
    expect(token).toMatch(/&X-Amz-Signature=[0-9a-f]{64}$/);
  });

  it.each([
    ['session credentials', SESSION],
    ['long-term keys (no security token)', KEYS],
  ])('matches an independent SigV4 derivation with %s', async (_, credentials) => {
    // Act
    const token = await signIamAuthToken({ target: TARGET, credentials, signingDate: SIGNED_AT });

    // Assess
    expect(token).toBe(
      expectedConnectToken({
        ...TARGET,
        ...credentials,
        date: SIGNED_AT,
      }),
    );
    expect(token.includes('X-Amz-Security-Token')).toBe('sessionToken' in credentials);
  });

  it('signs every input: another user, group, region, key or second gives another signature', async () => {
    const sign = (change: Partial<typeof TARGET>, date = SIGNED_AT, keys = KEYS) =>
      signIamAuthToken({ target: { ...TARGET, ...change }, credentials: keys, signingDate: date });
    const signatureOf = (token: string) => token.slice(token.lastIndexOf('=') + 1);

    const tokens = await Promise.all([
      sign({}),
      sign({ userId: 'other' }),
      sign({ replicationGroupId: 'other' }),
      sign({ region: 'us-east-1' }),
      sign({}, new Date(SIGNED_AT.getTime() + 1000)),
      sign({}, SIGNED_AT, { ...KEYS, secretAccessKey: `${KEYS.secretAccessKey}x` }),
    ]);

    expect(new Set(tokens.map(signatureOf)).size).toBe(tokens.length);
  });
});

/** A credentials provider that counts its calls and can be switched to other keys. */
function credentialsProvider(initial: Credentials) {
  const provider = Object.assign(
    () => {
      provider.calls++;
      return Promise.resolve(provider.credentials);
    },
    { calls: 0, credentials: initial },
  );
  return provider;
}

function clock(start = SIGNED_AT.getTime()) {
  const time = { now: start };
  return { now: () => time.now, advance: (ms: number) => (time.now += ms) };
}

describe('IamTokenSource', () => {
  it('keeps a token until it is 10 minutes old, then signs one for the current time', async () => {
    // Prepare
    const credentials = credentialsProvider(SESSION);
    const time = clock();
    const source = new IamTokenSource({ target: TARGET, credentials, now: time.now });

    // Act
    const first = await source.current();
    time.advance(IAM_TOKEN_REFRESH_AFTER_MS - 1);
    const stillFirst = await source.current();
    time.advance(1);
    const second = await source.current();

    // Assess
    expect(stillFirst).toBe(first);
    expect(second).not.toBe(first);
    expect(credentials.calls).toBe(2);
    expect(first.reveal()).toBe(expectedConnectToken({ ...TARGET, ...SESSION, date: SIGNED_AT }));
    expect(second.reveal()).toBe(
      expectedConnectToken({
        ...TARGET,
        ...SESSION,
        date: new Date(SIGNED_AT.getTime() + IAM_TOKEN_REFRESH_AFTER_MS),
      }),
    );
    // Re-signed with 5 of its 15 minutes left: still good for a connection attempt and a sweep.
    expect(900_000 - IAM_TOKEN_REFRESH_AFTER_MS).toBeGreaterThanOrEqual(5 * 60_000);
  });

  it('asks connections to AUTH again long before the 12-hour limit', () => {
    const source = new IamTokenSource({ target: TARGET, credentials: credentialsProvider(KEYS) });

    expect(source.reauthAfterMs).toBe(IAM_REAUTH_AFTER_MS);
    expect(IAM_REAUTH_AFTER_MS).toBeLessThan(12 * 3600_000);
    expect(tokenSourceFor({ iam: TARGET })).toBeInstanceOf(IamTokenSource);
    expect(tokenSourceFor({}).reauthAfterMs).toBeUndefined();
  });

  it('signs again when the clock went backwards', async () => {
    const time = clock();
    const credentials = credentialsProvider(KEYS);
    const source = new IamTokenSource({ target: TARGET, credentials, now: time.now });
    const first = await source.current();

    time.advance(-60_000);
    const second = await source.current();

    expect(second).not.toBe(first);
    expect(credentials.calls).toBe(2);
  });

  it('shares one signing among concurrent callers', async () => {
    const credentials = credentialsProvider(KEYS);
    const source = new IamTokenSource({ target: TARGET, credentials, now: clock().now });

    const tokens = await Promise.all(Array.from({ length: 20 }, () => source.current()));

    expect(new Set(tokens).size).toBe(1);
    expect(credentials.calls).toBe(1);
  });

  it('refresh re-signs, and says a retry can help only when the credentials changed', async () => {
    // Prepare
    const credentials = credentialsProvider(SESSION);
    const time = clock();
    const source = new IamTokenSource({ target: TARGET, credentials, now: time.now });
    const first = await source.current();

    // Act
    time.advance(1000);
    const sameKeys = await source.refresh();
    const afterSameKeys = await source.current();
    credentials.credentials = { ...SESSION, accessKeyId: 'ASIAROTATEDEXAMPLE' };
    const newKeys = await source.refresh();

    // Assess
    expect(sameKeys).toBe(false);
    expect(afterSameKeys).not.toBe(first);
    expect(newKeys).toBe(true);
    expect((await source.current()).reveal()).toContain('X-Amz-Credential=ASIAROTATEDEXAMPLE%2F');
  });

  it('fails with an IamTokenError naming the user and the cause when there are no credentials', async () => {
    const source = new IamTokenSource({
      target: TARGET,
      credentials: () => Promise.reject(new Error('Could not load credentials from any providers')),
    });

    const error: unknown = await source.current().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(IamTokenError);
    expect((error as Error).message).toBe(
      'cannot sign an IAM auth token for user Slotwatch-Probe of Orders-Cache: Error: Could not load credentials from any providers',
    );
  });

  it('gives up waiting when the signal aborts, and never shows the token', async () => {
    const never = new Promise<Credentials>(() => undefined);
    const source = new IamTokenSource({ target: TARGET, credentials: () => never });

    await expect(source.current(AbortSignal.timeout(10))).rejects.toThrow(
      'signing the IAM auth token took too long',
    );

    const signed = await new IamTokenSource({
      target: TARGET,
      credentials: credentialsProvider(SESSION),
    }).current();
    const shown = [String(signed), JSON.stringify({ signed }), inspect(signed)].join(' ');
    expect(shown).not.toContain('X-Amz');
    expect(shown).toContain('[redacted]');
  });
});
