/**
 * An expected failure of an operator command (bad file, unknown id, schema not migrated…).
 * `main` prints its message as one line on stderr and exits with `exitCode`; never a stack.
 */
export class CliError extends Error {
  readonly exitCode: number = 1;
}

/** The command line itself is wrong: exit code 2, as for any Unix command. */
export class UsageError extends CliError {
  override readonly exitCode: number = 2;
}
