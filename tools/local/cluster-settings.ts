/**
 * The settings a client needs to reach the local cluster. They hold its AUTH token, so the object
 * that carries them prints the token as "[redacted]" while `token` still reads the real value.
 */
import { inspect } from 'node:util';
import { Secret } from '../../lambda/secret.js';

export interface LocalClusterSettings {
  /** `127.0.0.1:<port of the first node>` */
  readonly endpoint: string;
  /** CA certificate (PEM) that verifies the servers. */
  readonly caFile: string;
  /** AUTH token (requirepass / masterauth). */
  readonly token: string;
}

/** `settings` in an object that console.log, util.inspect and JSON.stringify show redacted. */
export function redactedSettings(settings: LocalClusterSettings): LocalClusterSettings {
  return new RedactedSettings(settings);
}

/** The settings as plain data, token included: only for the state file that must hold it. */
export function revealedSettings(settings: LocalClusterSettings): LocalClusterSettings {
  const { endpoint, caFile, token } = settings;
  return { endpoint, caFile, token };
}

class RedactedSettings implements LocalClusterSettings {
  readonly endpoint: string;
  readonly caFile: string;
  declare readonly token: string;
  readonly #token: Secret;

  constructor({ endpoint, caFile, token }: LocalClusterSettings) {
    this.endpoint = endpoint;
    this.caFile = caFile;
    this.#token = new Secret(token);
    // An own, enumerable getter rather than a prototype one, so that equality checks (toEqual)
    // still compare the token; printing goes through toJSON and inspect below.
    Object.defineProperty(this, 'token', { enumerable: true, get: () => this.#token.reveal() });
  }

  toJSON(): Record<string, unknown> {
    return { endpoint: this.endpoint, caFile: this.caFile, token: this.#token };
  }

  [inspect.custom](): Record<string, unknown> {
    return this.toJSON();
  }
}
