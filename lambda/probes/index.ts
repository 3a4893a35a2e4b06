import type { NodeRole } from '../cluster/topology.js';
import type { ProbeName } from '../report.js';
import { pipeline } from './pipeline.js';
import { ping } from './ping.js';
import { read } from './read.js';
import { replication } from './replication.js';
import type { Probe } from './types.js';
import { write } from './write.js';

/** The probes each role runs, in order; ping first, so a dead node is known after one timeout. */
export const PROBES_BY_ROLE: Record<NodeRole, readonly (readonly [ProbeName, Probe])[]> = {
  primary: [
    ['ping', ping],
    ['read', read],
    ['pipeline', pipeline],
    ['write', write],
  ],
  replica: [
    ['ping', ping],
    ['read', read],
    ['pipeline', pipeline],
    ['replication', replication],
  ],
};
