/**
 * An ElastiCache IAM auth token computed from the SigV4 specification with node:crypto alone, so
 * tests can check the production signer (which uses @smithy/signature-v4) against an independent
 * derivation: same inputs, same token, byte for byte.
 */
import { createHash, createHmac } from 'node:crypto';

export interface ConnectTokenInput {
  readonly replicationGroupId: string;
  readonly userId: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly date: Date;
}

const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');
const hmac = (key: string | Buffer, text: string): Buffer =>
  createHmac('sha256', key).update(text).digest();
/** RFC 3986: everything but A-Z a-z 0-9 - _ . ~ is percent-encoded. */
const rfc3986 = (text: string): string =>
  encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

export function expectedConnectToken(input: ConnectTokenInput): string {
  const host = input.replicationGroupId.toLowerCase();
  const amzDate = input.date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${input.region}/elasticache/aws4_request`;
  // Already in canonical (byte) order of the names.
  const params: [string, string][] = [
    ['Action', 'connect'],
    ['User', input.userId.toLowerCase()],
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${input.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', '900'],
    ...(input.sessionToken === undefined
      ? []
      : [['X-Amz-Security-Token', input.sessionToken] as [string, string]]),
    ['X-Amz-SignedHeaders', 'host'],
  ];
  const query = params.map(([name, value]) => `${rfc3986(name)}=${rfc3986(value)}`).join('&');
  const canonicalRequest = ['GET', '/', query, `host:${host}\n`, 'host', sha256Hex('')].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${input.secretAccessKey}`, day), input.region), 'elasticache'),
    'aws4_request',
  );
  const signature = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  return `${host}/?${query}&X-Amz-Signature=${signature}`;
}
