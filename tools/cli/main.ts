/** Shared process plumbing for the CLI commands: exit codes, one-line errors, signals. */
import { ConfigError, SlotwatchError } from '../../lambda/errors.js';

export const EXIT = { ok: 0, failed: 1, config: 2 } as const;

/**
 * Runs a command and sets the exit status: a ConfigError is one line on stderr and status 2;
 * any other error is a bug or an environment problem and prints its message (status 1).
 */
export function runCommand(command: () => Promise<number>): void {
  command().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof ConfigError) {
        process.stderr.write(`slotwatch: ${error.message}\n`);
        process.exitCode = EXIT.config;
        return;
      }
      const message =
        error instanceof SlotwatchError || error instanceof Error ? error.message : String(error);
      process.stderr.write(`slotwatch: ${message}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
