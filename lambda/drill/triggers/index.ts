/**
 * Trigger name -> trigger. The ElastiCache trigger is loaded only when asked for, so that local
 * drills never load the AWS SDK. Triggers that act on processes of this machine (`pause-primary`)
 * are not part of the Lambda: the local tools pass them in (tools/triggers/), so the drill bundle
 * holds no process-signal code.
 */
import { ConfigError } from '../../errors.js';
import { DRILL_ENV } from '../settings.js';
import type { Trigger, TriggerName } from '../types.js';
import { clusterFailoverTrigger } from './cluster-failover.js';

export interface TriggerOptions {
  /** For `elasticache`: the replication group (ELASTICACHE_REPLICATION_GROUP_ID). */
  readonly replicationGroupId?: string;
}

/**
 * @param local triggers that only the local tools have; a name found here is taken from here.
 */
export async function createTrigger(
  name: TriggerName,
  options: TriggerOptions,
  local: readonly Trigger[] = [],
): Promise<Trigger> {
  const given = local.find((trigger) => trigger.name === name);
  if (given !== undefined) return given;
  switch (name) {
    case 'cluster-failover':
      return clusterFailoverTrigger;
    case 'pause-primary':
      throw new ConfigError(
        DRILL_ENV.trigger,
        `${DRILL_ENV.trigger}=pause-primary stops a server process on this machine: it runs from the local tools (npm run drill), not in the Lambda`,
      );
    case 'elasticache': {
      const { replicationGroupId } = options;
      if (replicationGroupId === undefined) {
        throw new ConfigError(
          DRILL_ENV.replicationGroupId,
          `${DRILL_ENV.replicationGroupId} is required for the elasticache trigger`,
        );
      }
      const { elastiCacheTrigger } = await import('./elasticache.js');
      return elastiCacheTrigger({ replicationGroupId });
    }
  }
}
