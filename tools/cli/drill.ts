/**
 * `npm run --silent drill -- [--json] [--shard ID] [--trigger T] [--report FILE]` (CONTRACT
 * section 2): one failover rehearsal. Events go to stderr as they happen (progress, possibly out
 * of order: a failure is known only once it times out); stdout then carries the timeline in time
 * order and the figures, or with --json exactly one drill report (without samples). Exit 0 when the shard recovered, 1 when it did not (or the drill
 * was aborted), 2 on a configuration error. Ctrl-C ends the drill early but still cleans up;
 * a second Ctrl-C quits at once.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadConfig } from '../../lambda/config.js';
import { runDrill, withoutSamples } from '../../lambda/drill/engine.js';
import { renderDrillHtml } from '../render/drill-picture.js';
import { DRILL_ENV, loadDrillSettings, type DrillFlags } from '../../lambda/drill/settings.js';
import { renderEvent, renderTimeline } from '../render/drill-timeline.js';
import { createLocalTrigger } from '../triggers/index.js';
import type { DrillReport } from '../../lambda/drill/types.js';
import { ConfigError } from '../../lambda/errors.js';
import { tokenSourceFor } from '../../lambda/token-source.js';
import { parseFlags } from './args.js';
import { commandEnv } from './local-env.js';
import { EXIT, runCommand } from './main.js';

/** Flags that override the drill's variables. */
const DRILL_FLAGS = {
  trigger: DRILL_ENV.trigger,
  shard: DRILL_ENV.shard,
  'time-limit-ms': DRILL_ENV.timeLimitMs,
  'write-interval-ms': DRILL_ENV.writeIntervalMs,
  'read-interval-ms': DRILL_ENV.readIntervalMs,
  'replication-group-id': DRILL_ENV.replicationGroupId,
} as const;

/** Reading the token (Secrets Manager, for a remote cluster) may take this long. */
const TOKEN_TIMEOUT_MS = 10_000;

async function drill(argv: readonly string[]): Promise<number> {
  const { values, flags } = parseFlags(argv, {
    json: { type: 'boolean' },
    report: { type: 'string' },
    local: { type: 'boolean' },
    'local-dir': { type: 'string' },
    ...Object.fromEntries(Object.keys(DRILL_FLAGS).map((flag) => [flag, { type: 'string' }])),
  });
  const env = commandEnv(values);
  const config = loadConfig({ env, flags, defaultSink: 'none' });
  const settings = loadDrillSettings(env, drillFlags(values), 'cluster-failover');
  const reportFile = reportPath(values.report);
  const json = values.json === true;
  const trigger = await createLocalTrigger(settings.trigger, settings);
  const tokens = tokenSourceFor(config);
  const token = await tokens.current(AbortSignal.timeout(TOKEN_TIMEOUT_MS));

  // Live events are progress, like logs: never mixed into what stdout carries.
  const live = process.stderr;
  const interrupt = new AbortController();
  const onInterrupt = (): void => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write('slotwatch: interrupted; cleaning up (Ctrl-C again to quit at once)\n');
    interrupt.abort();
  };
  process.on('SIGINT', onInterrupt);
  let report: DrillReport;
  try {
    report = await runDrill({
      config,
      ...(token !== undefined && { token }),
      tokens,
      trigger,
      ...(settings.shard !== undefined && { shard: settings.shard }),
      timeLimitMs: settings.timeLimitMs,
      writeIntervalMs: settings.writeIntervalMs,
      readIntervalMs: settings.readIntervalMs,
      onEvent: (event) => live.write(`${renderEvent(event)}\n`),
      signal: interrupt.signal,
    });
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }

  if (reportFile !== undefined) writeFileSync(reportFile, renderDrillHtml(report));
  process.stdout.write(
    json ? `${JSON.stringify(withoutSamples(report))}\n` : `\n${renderTimeline(report)}\n`,
  );
  if (reportFile !== undefined && !json) process.stdout.write(`picture: ${reportFile}\n`);
  return report.recovered ? EXIT.ok : EXIT.failed;
}

function drillFlags(values: Record<string, string | boolean | undefined>): DrillFlags {
  const flags: DrillFlags = {};
  for (const [flag, variable] of Object.entries(DRILL_FLAGS)) {
    const value = values[flag];
    if (typeof value === 'string') flags[variable] = { value, flag: `--${flag}` };
  }
  return flags;
}

/** `--report FILE`: checked before the drill, so a typo does not cost a failover. */
function reportPath(value: string | boolean | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const path = resolve(value);
  const dir = dirname(path);
  if (value.trim() === '' || !existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError(
      '--report',
      `--report must name a file in an existing directory, got ${JSON.stringify(value)}`,
    );
  }
  return path;
}

runCommand(() => drill(process.argv.slice(2)));
