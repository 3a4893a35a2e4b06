/**
 * The drill's triggers as the local tools have them: the Lambda's, plus those that act on server
 * processes of this machine.
 */
import type { TriggerOptions } from '../../lambda/drill/triggers/index.js';
import { createTrigger } from '../../lambda/drill/triggers/index.js';
import type { Trigger, TriggerName } from '../../lambda/drill/types.js';
import { pausePrimaryTrigger } from './pause-primary.js';

export const LOCAL_TRIGGERS: readonly Trigger[] = [pausePrimaryTrigger];

export function createLocalTrigger(name: TriggerName, options: TriggerOptions): Promise<Trigger> {
  return createTrigger(name, options, LOCAL_TRIGGERS);
}
