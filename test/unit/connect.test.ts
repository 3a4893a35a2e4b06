import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import {
  TimeoutError,
  describeError,
  isConnectionFailure,
  isStaleConnectionError,
  secureContextFor,
  tlsOptions,
  withTimeout,
} from '../../lambda/cluster/connect.js';
import { Secret } from '../../lambda/secret.js';

const errno = (code: string, message = code): NodeJS.ErrnoException =>
  Object.assign(new Error(message), { code });

describe('describeError', () => {
  it.each<[string, unknown, string]>([
    ['a timeout', new TimeoutError('reply', 500), 'timeout after 500 ms (reply)'],
    [
      'a refused connection',
      errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'),
      'refused: nothing listens on that port',
    ],
    [
      'an unresolvable name',
      errno('ENOTFOUND', 'getaddrinfo ENOTFOUND nowhere.invalid'),
      'dns: host name does not resolve',
    ],
    [
      'an untrusted certificate',
      errno('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'),
      'tls: self-signed certificate in certificate chain',
    ],
    [
      'a wrong host name',
      errno('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"),
      "tls: Hostname/IP does not match certificate's altnames",
    ],
    [
      'a wrong password',
      new Error('WRONGPASS invalid username-password pair or user is disabled.'),
      'auth: WRONGPASS invalid username-password pair or user is disabled.',
    ],
    [
      'a missing password',
      new Error('NOAUTH Authentication required.'),
      'auth: NOAUTH Authentication required.',
    ],
    [
      'a forbidden command',
      new Error("NOPERM this user has no permissions to run the 'get' command"),
      "acl: NOPERM this user has no permissions to run the 'get' command",
    ],
    ['a closed connection', new Error('Connection is closed.'), 'closed by server'],
    [
      'a node without cluster mode',
      new Error('ERR This instance has cluster support disabled'),
      'not a cluster: cluster mode is disabled on this node',
    ],
    [
      'any other reply',
      new Error('LOADING Redis is loading the dataset in memory'),
      'LOADING Redis is loading the dataset in memory',
    ],
    ['a non-error', 'boom', 'boom'],
  ])('describes %s', (_case, error, cause) => {
    expect(describeError(error)).toBe(cause);
  });

  it('scrubs the secret and keeps causes short', () => {
    const secret = new Secret('p4ssw0rd-token');
    expect(describeError(new Error('ERR weird echo of p4ssw0rd-token here'), secret)).toBe(
      'ERR weird echo of [redacted] here',
    );
    expect(describeError(new Error('x'.repeat(500))).length).toBe(160);
  });

  it('redacts any IAM auth token, even one it was not given (they are re-signed every 10 minutes)', () => {
    const token =
      'orders/?Action=connect&User=probe&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE%2F20261201%2Feu-west-1%2Felasticache%2Faws4_request&X-Amz-Signature=0123abcd';

    const described = describeError(new Error(`ERR echo of ${token} here`), new Secret('other'));

    expect(described).toBe('ERR echo of [redacted] here');
  });
});

describe('connection failure classification', () => {
  it('treats a timeout as a failed connection but not as a stale one worth one redial', () => {
    expect(isConnectionFailure(new TimeoutError('reply', 1))).toBe(true);
    expect(isStaleConnectionError(new TimeoutError('reply', 1))).toBe(false);
  });

  it('treats a server-closed connection as stale', () => {
    expect(isStaleConnectionError(new Error('Connection is closed.'))).toBe(true);
    expect(isStaleConnectionError(errno('ECONNRESET', 'read ECONNRESET'))).toBe(true);
  });

  it('does not treat reply errors as connection failures', () => {
    expect(isConnectionFailure(new Error('MOVED 1 127.0.0.1:7000'))).toBe(false);
    expect(isConnectionFailure(new Error('WRONGPASS invalid username-password pair'))).toBe(false);
  });
});

describe('withTimeout', () => {
  it('rejects with a TimeoutError naming the phase when the work is slow', async () => {
    const slow = new Promise((resolve) => setTimeout(resolve, 200));
    await expect(withTimeout(slow, 10, 'connect')).rejects.toThrow('timeout after 10 ms (connect)');
  });

  it('asks a phase function only when the time is up, so it can say what was still pending', async () => {
    // Prepare
    let stage = 'connect';
    const slow = new Promise((resolve) => setTimeout(resolve, 200));
    const timed = withTimeout(slow, 20, () => stage);

    // Act
    stage = 'tls handshake';

    // Assess
    await expect(timed).rejects.toThrow('timeout after 20 ms (tls handshake)');
  });

  it('passes the result through when the work is quick', async () => {
    await expect(withTimeout(Promise.resolve(7), 100, 'reply')).resolves.toBe(7);
  });
});

describe('tlsOptions', () => {
  const settings = { tls: true, timeoutMs: 1000 };

  it('sends the announced host name as SNI and verifies against it', () => {
    const options = tlsOptions(settings, 'orders-0001-001.abc.use1.cache.amazonaws.com');
    expect(options.servername).toBe('orders-0001-001.abc.use1.cache.amazonaws.com');
    expect(options.rejectUnauthorized).toBe(true);
  });

  it('leaves SNI out for an IP address', () => {
    const options = tlsOptions(settings, '10.0.0.1');
    expect(options.servername).toBeUndefined();
    expect(options.rejectUnauthorized).toBe(true);
  });

  it('builds the trust store once per extra CA and shares it between connections', () => {
    // Prepare: any valid PEM will do as the "private" CA.
    const extraCa = rootCertificates[0] ?? '';

    // Act
    const first = tlsOptions({ ...settings, caPem: extraCa }, '10.0.0.1').secureContext;
    const second = tlsOptions({ ...settings, caPem: extraCa }, 'other.example').secureContext;
    const systemOnly = tlsOptions(settings, '10.0.0.1').secureContext;

    // Assess
    expect(first).toBeDefined();
    expect(second).toBe(first);
    expect(systemOnly).toBe(secureContextFor());
    expect(systemOnly).not.toBe(first);
  });
});
