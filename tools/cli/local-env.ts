/**
 * `--local [--local-dir D]`: the settings `npm run cluster:up` wrote, as the CONTRACT variables
 * they stand for, for commands run against the local cluster.
 */
import { ConfigError } from '../../lambda/errors.js';
import { readLocalClusterSettings } from '../local/local-cluster.js';

export const DEFAULT_LOCAL_DIR = '.slotwatch/local-cluster';

export function localEnv(dir: string): Record<string, string> {
  let settings;
  try {
    settings = readLocalClusterSettings(dir);
  } catch (cause) {
    throw new ConfigError(
      '--local',
      `--local: no local cluster settings in ${JSON.stringify(dir)}; start one with npm run cluster:up`,
      { cause },
    );
  }
  return {
    CLUSTER_ENDPOINT: settings.endpoint,
    CLUSTER_TLS: 'true',
    CLUSTER_TLS_CA_FILE: settings.caFile,
    CLUSTER_AUTH_TOKEN: settings.token,
  };
}

/** The process environment, with the local cluster's settings over it when `--local` asks. */
export function commandEnv(
  values: Record<string, string | boolean | undefined>,
): NodeJS.ProcessEnv {
  const dir = typeof values['local-dir'] === 'string' ? values['local-dir'] : undefined;
  return values.local === true || dir !== undefined
    ? { ...process.env, ...localEnv(dir ?? DEFAULT_LOCAL_DIR) }
    : process.env;
}
