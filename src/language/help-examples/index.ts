import { INVOKE_COMMAND_EXAMPLES } from './invoke-command.js';
import type { HelpExample } from './types.js';

export type { HelpExample } from './types.js';

/** Get-Help -Examples data per cmdlet (canonical name). Cmdlets without an entry have none. */
export const HELP_EXAMPLES: Readonly<Record<string, readonly HelpExample[]>> = {
  'Invoke-Command': INVOKE_COMMAND_EXAMPLES,
};
