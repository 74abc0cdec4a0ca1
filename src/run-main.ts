/**
 * Runs a program's `main` and ends the process with its exit code: at once after a short grace
 * (a stray handle must not keep a finished program alive), or with 1 and the error on stderr.
 */
export function runMain(main: () => Promise<number>): void {
  void main().then(
    (code) => {
      process.exitCode = code;
      setTimeout(() => process.exit(code), 200).unref();
    },
    (e: unknown) => {
      process.stderr.write(`chatops: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
