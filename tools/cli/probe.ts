/**
 * `npm run --silent probe -- [--json] [--rounds N] [--interval-ms M]` (CONTRACT section 2):
 * N sweeps over one set of warm connections, a table or one JSON line per round on stdout,
 * exit 0 when the last round passed, 1 when it failed, 2 on a configuration error.
 */
import { loadConfig } from '../../lambda/config.js';
import type { Logger } from '../../lambda/log.js';
import { createSink } from '../../lambda/metrics/sink.js';
import { ProbeRunner } from '../../lambda/runner.js';
import { tokenSourceFor } from '../../lambda/token-source.js';
import { integerFlag, parseFlags } from './args.js';
import { EXIT, runCommand, sleep } from './main.js';
import { commandEnv } from './local-env.js';
import { renderReport } from '../render/sweep-table.js';

async function probe(argv: readonly string[]): Promise<number> {
  const { values, flags } = parseFlags(argv, {
    json: { type: 'boolean' },
    rounds: { type: 'string' },
    'interval-ms': { type: 'string' },
    local: { type: 'boolean' },
    'local-dir': { type: 'string' },
  });
  const rounds = integerFlag(values, 'rounds', 1, 1, 1_000_000);
  const intervalMs = integerFlag(values, 'interval-ms', 1000, 0, 3_600_000);
  const config = loadConfig({ env: commandEnv(values), flags, defaultSink: 'none' });
  const json = values.json === true;

  // Metrics go where METRICS_SINK says; EMF lines go to stderr under --json, whose stdout
  // carries the reports alone.
  const emfOut = json ? process.stderr : process.stdout;
  const runner = new ProbeRunner(config, {
    sink: createSink(config.metricsSink, config.metricsNamespace, {
      write: (line) => emfOut.write(`${line}\n`),
    }),
    tokens: tokenSourceFor(config),
    log: errorsOnly,
  });
  let ok = false;
  try {
    for (let round = 1; round <= rounds; round++) {
      const roundStart = performance.now();
      const { report } = await runner.sweep({
        deadlineMs: config.deadlineMs,
        publishTimeoutMs: PUBLISH_TIMEOUT_MS,
      });
      ok = report.ok;
      process.stdout.write(
        json
          ? `${JSON.stringify(report)}\n`
          : `${renderReport(report, `round ${round}/${rounds} at ${report.startedAt}`)}\n\n`,
      );
      if (round < rounds) await sleep(Math.max(0, intervalMs - (performance.now() - roundStart)));
    }
  } finally {
    runner.close();
  }
  return ok ? EXIT.ok : EXIT.failed;
}

/** Publishing from the CLI may take this long per round. */
const PUBLISH_TIMEOUT_MS = 10_000;

/** The CLI prints reports itself; of the runner's log lines it shows only errors, as text. */
const errorsOnly: Logger = {
  log(level, message, fields = {}) {
    if (level === 'error')
      process.stderr.write(
        `slotwatch: ${message}: ${typeof fields.error === 'string' ? fields.error : ''}\n`,
      );
  },
};

runCommand(() => probe(process.argv.slice(2)));
