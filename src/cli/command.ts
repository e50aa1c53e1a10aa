/** The shape of a `vigil` subcommand. Each lives in its own file under src/cli/. */
export interface Command {
  /** The word after `vigil`. */
  readonly name: string;
  /** One line for `vigil --help`. */
  readonly summary: string;
  /** Full text for `vigil NAME --help`: usage, options with defaults, an example. */
  readonly help: string;
  /**
   * Runs the command with the arguments after its name.
   * @returns the process exit code. Bad usage prints one clear line on stderr and returns 2.
   */
  run(args: readonly string[]): Promise<number>;
}
