/**
 * Every error slotwatch raises on purpose is a SlotwatchError. An unhealthy cluster is not an
 * error (it is a result in the sweep report); these classes are for configuration mistakes,
 * malformed server replies and misuse of the local tooling.
 */
export class SlotwatchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A bad environment variable or flag. `setting` names it; the message never holds a secret. */
export class ConfigError extends SlotwatchError {
  constructor(
    readonly setting: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A CLUSTER SHARDS / CLUSTER NODES / CLUSTER SLOTS reply that does not have the documented shape. */
export class TopologyParseError extends SlotwatchError {}

/** The local test cluster could not be started, inspected or stopped. */
export class LocalClusterError extends SlotwatchError {}

/** Some or all metrics could not be published; every batch was attempted first. */
export class MetricsPublishError extends SlotwatchError {}

/** The AUTH token could not be read from Secrets Manager. */
export class SecretError extends SlotwatchError {}
