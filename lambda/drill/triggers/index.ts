/**
 * Trigger name -> trigger. The ElastiCache trigger is loaded only when asked for, so that local
 * drills never load the AWS SDK.
 */
import { ConfigError } from '../../errors.js';
import { DRILL_ENV } from '../settings.js';
import type { Trigger, TriggerName } from '../types.js';
import { clusterFailoverTrigger } from './cluster-failover.js';
import { pausePrimaryTrigger } from './pause-primary.js';

export interface TriggerOptions {
  /** For `elasticache`: the replication group (ELASTICACHE_REPLICATION_GROUP_ID). */
  readonly replicationGroupId?: string;
}

export async function createTrigger(name: TriggerName, options: TriggerOptions): Promise<Trigger> {
  switch (name) {
    case 'cluster-failover':
      return clusterFailoverTrigger;
    case 'pause-primary':
      return pausePrimaryTrigger;
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
