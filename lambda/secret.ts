import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A value that must never reach a log, a report or an error message. Every way of turning it into
 * text (template strings, JSON.stringify, console.log, util.inspect) yields "[redacted]"; only
 * `reveal()` gives the value, and only the AUTH command should call it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  /** Replaces every occurrence of the secret in `text`, for messages that echo server input. */
  scrub(text: string): string {
    return this.#value.length > 0 ? text.split(this.#value).join(REDACTED) : text;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/**
 * Replaces anything shaped like a SigV4-presigned query (an IAM auth token, signed afresh every few
 * minutes, so no single Secret can scrub them all) with "[redacted]".
 */
export function redactSignedQueries(text: string): string {
  return text.replace(/\S*X-Amz-(?:Credential|Security-Token|Signature)=\S*/g, REDACTED);
}
