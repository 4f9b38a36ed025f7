/** Bad command-line usage: the CLI prints the message with the command's usage line and exits 64. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
