/**
 * Structured logs: one JSON object per line (CloudWatch Logs Insights can query every field).
 * Values pass through as given, so never hand a Secret's revealed value to a logger; a Secret
 * itself serialises as "[redacted]".
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

export function jsonLogger(write: (line: string) => void): Logger {
  return {
    log(level, message, fields = {}) {
      write(JSON.stringify({ timestamp: new Date().toISOString(), level, message, ...fields }));
    },
  };
}

export const stdoutLogger = (): Logger => jsonLogger((line) => process.stdout.write(`${line}\n`));
export const stderrLogger = (): Logger => jsonLogger((line) => process.stderr.write(`${line}\n`));
