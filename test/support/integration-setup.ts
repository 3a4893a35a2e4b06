/**
 * Global setup of the integration tier: its tests start real clusters, so redis-server must be
 * there. On a fresh Debian machine, as root, it is installed (as `npm run demo` does); elsewhere
 * the run stops at once with the one line that says how to install it.
 */
import { ensureServerInstalled } from '../../tools/local/ensure-server.js';

export default function setup(): void {
  ensureServerInstalled((line) => process.stdout.write(`${line}\n`));
}
