/** One example of a cmdlet's help, as PowerShell's help files hold it. */
export interface HelpExample {
  /** The explanation, one paragraph per entry. */
  remarks: readonly string[];
  /** The commands as typed at the prompt (`PS C:\>` included) and what they print. */
  code: readonly string[];
  /**
   * What of the example works with this bot, and how (shown after PowerShell's text), starting
   * `Works here:`, `Partly here:` or `Not here:`.
   */
  here?: string;
}
