/**
 * A local stand-in for the two AWS APIs slotwatch calls, for tests that run the real SDK: it
 * speaks enough of AWS JSON 1.0 (CloudWatch PutMetricData, awsQueryCompatible) and AWS JSON 1.1
 * (Secrets Manager GetSecretValue) to succeed, fail the way the services fail, or hang.
 * Point clients at it with `aws.env`: the SDK reads AWS_ENDPOINT_URL_<SERVICE> itself.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export const TARGET = {
  putMetricData: 'GraniteServiceVersion20100801.PutMetricData',
  getSecretValue: 'secretsmanager.GetSecretValue',
} as const;
export type Target = (typeof TARGET)[keyof typeof TARGET];

const CONTENT_TYPE: Record<Target, string> = {
  [TARGET.putMetricData]: 'application/x-amz-json-1.0',
  [TARGET.getSecretValue]: 'application/x-amz-json-1.1',
};

/** A PutMetricData MetricDatum as it arrives on the wire (Timestamp in epoch seconds). */
export interface WireMetricDatum {
  readonly MetricName: string;
  readonly Dimensions?: readonly { readonly Name: string; readonly Value: string }[];
  readonly Timestamp?: number;
  readonly Value?: number;
  readonly Values?: readonly number[];
  readonly Counts?: readonly number[];
  readonly Unit?: string;
  readonly StorageResolution?: number;
}

export interface PutMetricDataBody {
  readonly [member: string]: unknown;
  readonly Namespace: string;
  readonly MetricData: readonly WireMetricDatum[];
}

export interface RecordedRequest<Body = Record<string, unknown>> {
  readonly target: string;
  /** The decoded JSON body (gunzipped first when it came compressed). */
  readonly body: Body;
  readonly headers: IncomingHttpHeaders;
  /** Size of the body as sent, and after gunzip. */
  readonly wireBytes: number;
  readonly bodyBytes: number;
  readonly gzipped: boolean;
  /** Date.now() when the body had arrived. */
  readonly receivedAt: number;
  /** The HTTP status answered; undefined while (or because) the request hangs. */
  readonly status: number | undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Scripted failures, as the services answer them. `queryError` is CloudWatch's awsQueryCompatible
 * header (the query-protocol code the SDK names the error after); Secrets Manager ignores it.
 */
const FAULTS = {
  throttle: {
    status: 400,
    type: 'ThrottlingException',
    queryError: 'Throttling;Sender',
    message: 'Rate exceeded',
  },
  'internal-error': {
    status: 500,
    type: 'InternalServiceError',
    queryError: 'InternalServiceError;Receiver',
    message: 'An internal error occurred.',
  },
  'not-found': {
    status: 400,
    type: 'ResourceNotFoundException',
    queryError: 'ResourceNotFound;Sender',
    message: "Secrets Manager can't find the specified secret.",
  },
  'access-denied': {
    status: 400,
    type: 'AccessDeniedException',
    queryError: 'AccessDenied;Sender',
    message:
      'User: arn:aws:sts::123456789012:assumed-role/test is not authorized to perform this action',
  },
  /** A front end that is overloaded or down: 503, which the SDK retries. */
  unavailable: {
    status: 503,
    type: 'ServiceUnavailable',
    queryError: 'ServiceUnavailable;Receiver',
    message: 'Service is unavailable. Try again later.',
  },
  /** Accepts the request and never answers; close() ends it. */
  hang: undefined,
  /** Reads the request, then drops the connection without an answer (a network failure). */
  reset: undefined,
} as const;
export type Fault = keyof typeof FAULTS;

interface ScriptedFault {
  readonly target: Target;
  readonly fault: Fault;
  remaining: number;
  /** Only requests whose decoded body matches; all when absent. */
  readonly matches?: (body: Record<string, unknown>) => boolean;
}

export interface FakeAws {
  /** AWS_* variables that point both SDK clients here: endpoints, region, dummy credentials. */
  readonly env: Readonly<Record<string, string>>;
  readonly url: string;
  /** Every request since start (or reset), failed and hanging ones included, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /**
   * The PutMetricData requests that were accepted (HTTP 200): what CloudWatch would have stored.
   * Failed, throttled and hanging attempts are only in `requests`.
   */
  readonly putMetricData: readonly RecordedRequest<PutMetricDataBody>[];
  /** GetSecretValue for `arn` (or its name) answers `secretString`. */
  setSecret(arn: string, secretString: string): void;
  /**
   * The next `times` matching calls of `target` answer `fault` instead of succeeding; `Infinity`
   * for a service that stays down.
   */
  fail(
    target: Target,
    fault: Fault,
    times?: number,
    matches?: (body: Record<string, unknown>) => boolean,
  ): void;
  /** Forgets recorded requests and scripted faults; keeps secrets. */
  reset(): void;
  /** Stops listening and ends every open connection, hanging answers included. */
  close(): Promise<void>;
}

interface Secret {
  readonly arn: string;
  readonly name: string;
  readonly value: string;
  readonly versionId: string;
  readonly createdDate: number;
}

export interface FakeAwsOptions {
  /**
   * Keep connections open between requests, as AWS does. Off, every answer closes its
   * connection, so that a test can count this process's sockets and see only the client's.
   * @default true
   */
  readonly keepAlive?: boolean;
}

export async function startFakeAws(options: FakeAwsOptions = {}): Promise<FakeAws> {
  const keepAlive = options.keepAlive ?? true;
  const requests: RecordedRequest[] = [];
  const secrets = new Map<string, Secret>();
  let faults: ScriptedFault[] = [];

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, errorAnswer(500, 'InternalFailure', String(error)));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const gzipped = req.headers['content-encoding'] === 'gzip';
    const decoded = gzipped ? gunzipSync(raw) : raw;
    const body = parseJson(decoded);
    const record: Mutable<RecordedRequest> = {
      target: String(req.headers['x-amz-target'] ?? ''),
      body: body ?? {},
      headers: req.headers,
      wireBytes: raw.length,
      bodyBytes: decoded.length,
      gzipped,
      receivedAt: Date.now(),
      status: undefined,
    };
    requests.push(record);
    const answer = decide(record.target, req.headers['content-type'], body);
    if (answer === 'reset') {
      req.socket.destroy();
      return;
    }
    if (answer === undefined) return; // a hang: the response stays open until close()
    record.status = answer.status;
    if (!keepAlive) res.shouldKeepAlive = false;
    send(res, answer);
  }

  function decide(
    target: string,
    contentType: string | undefined,
    body: Record<string, unknown> | undefined,
  ): Answer | 'reset' | undefined {
    if (!isTarget(target)) return errorAnswer(400, 'UnknownOperationException', target);
    if (body === undefined || contentType !== CONTENT_TYPE[target]) {
      return errorAnswer(400, 'SerializationException', 'body or content type not as expected');
    }
    const fault = takeFault(target, body);
    if (fault === 'reset') return 'reset';
    if (fault !== undefined) return faultAnswer(target, fault);
    if (target === TARGET.putMetricData) return jsonAnswer(200, target, {});
    return secretAnswer(body);
  }

  function takeFault(target: Target, body: Record<string, unknown>): Fault | undefined {
    const scripted = faults.find(
      (f) => f.target === target && f.remaining > 0 && (f.matches?.(body) ?? true),
    );
    if (scripted === undefined) return undefined;
    scripted.remaining -= 1;
    return scripted.fault;
  }

  function secretAnswer(body: Record<string, unknown>): Answer | undefined {
    const secret = secrets.get(String(body.SecretId));
    if (secret === undefined) return faultAnswer(TARGET.getSecretValue, 'not-found');
    return jsonAnswer(200, TARGET.getSecretValue, {
      ARN: secret.arn,
      Name: secret.name,
      SecretString: secret.value,
      VersionId: secret.versionId,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: secret.createdDate,
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    env: {
      AWS_ENDPOINT_URL_CLOUDWATCH: url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    requests,
    get putMetricData() {
      return requests.filter(
        (r): r is RecordedRequest<PutMetricDataBody> =>
          r.target === TARGET.putMetricData && r.status === 200,
      );
    },
    setSecret(arn, secretString) {
      const secret: Secret = {
        arn,
        name: secretNameOf(arn),
        value: secretString,
        versionId: randomUUID(),
        createdDate: Math.floor(Date.now() / 1000),
      };
      secrets.set(arn, secret);
      secrets.set(secret.name, secret);
    },
    fail(target, fault, times = 1, matches) {
      faults.push({ target, fault, remaining: times, matches });
    },
    reset() {
      requests.length = 0;
      faults = [];
    },
    close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Hanging answers keep their sockets open; server.close alone would wait for them forever.
      server.closeAllConnections();
      return closed;
    },
  };
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

function jsonAnswer(
  status: number,
  target: Target,
  body: unknown,
  headers: Record<string, string> = {},
): Answer {
  return {
    status,
    headers: { 'content-type': CONTENT_TYPE[target], 'x-amzn-requestid': randomUUID(), ...headers },
    body,
  };
}

/** The JSON protocols' error shape; CloudWatch adds its query-protocol error code as a header. */
function faultAnswer(target: Target, fault: Fault): Answer | undefined {
  const shape = FAULTS[fault];
  if (shape === undefined) return undefined; // hang (reset never gets here)
  const headers: Record<string, string> =
    target === TARGET.putMetricData ? { 'x-amzn-query-error': shape.queryError } : {};
  return jsonAnswer(shape.status, target, { __type: shape.type, message: shape.message }, headers);
}

function errorAnswer(status: number, type: string, message: string): Answer {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: { __type: type, message: `fake-aws: ${message}` },
  };
}

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(JSON.stringify(answer.body));
}

function isTarget(value: unknown): value is Target {
  return Object.values(TARGET).some((target) => target === value);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseJson(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** `arn:aws:secretsmanager:…:secret:NAME-AbCdEf` -> NAME (the ARN ends in 6 random characters). */
export function secretNameOf(arn: string): string {
  const name = arn.split(':secret:')[1];
  return name === undefined ? arn : name.replace(/-[A-Za-z0-9]{6}$/, '');
}

/**
 * Sets `vars` in process.env and returns the function that puts every one of them back. SDK
 * clients read their configuration lazily, at their first request, so restore only after that.
 */
export function applyEnv(vars: Readonly<Record<string, string>>): () => void {
  const saved = Object.keys(vars).map((name) => [name, process.env[name]] as const);
  Object.assign(process.env, vars);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
