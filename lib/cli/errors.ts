// Exit codes of the command line and the errors that carry them.

/** The process exit codes of `symtensor`. */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Failed: the message is on stderr. */
  failed: 1,
  /** Bad usage: unknown option, bad job file, wrong arguments. */
  usage: 2,
  /** Stopped by SIGINT after writing a checkpoint (128 + 2). */
  sigint: 130,
  /** Stopped by SIGTERM after writing a checkpoint (128 + 15). */
  sigterm: 143,
} as const;

/**
 * An error the command line reports as one message (no stack trace unless --verbose), exiting
 * with `exitCode`: EXIT.usage for bad input from the user, EXIT.failed otherwise.
 */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.failed) {
    super(message);
    this.name = 'CliError';
  }
}

/** A usage error: exit code 2. */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage);
}
