import type { BoundCall } from '../../language/bound-call.js';
import type { PsValue } from '../../language/values.js';
import type { ExecContext } from '../context.js';
import { ChatOpsError } from '../../errors.js';

/** Persistent and disconnected sessions are on the roadmap (DEVELOPERS.md); refused clearly until then. */
export const SESSION_CMDLETS = [
  'New-PSSession',
  'Get-PSSession',
  'Remove-PSSession',
  'Enter-PSSession',
  'Exit-PSSession',
  'Disconnect-PSSession',
  'Connect-PSSession',
  'Receive-PSSession',
  'New-PSSessionOption',
];

export function sessionRoadmapError(what: string): ChatOpsError {
  return new ChatOpsError(
    'NotSupported',
    `${what} is not supported yet: persistent and disconnected sessions (New-PSSession, Enter-PSSession, -Session, -InDisconnectedSession, Receive-PSSession) are on the roadmap. For now use Invoke-Command -ComputerName ..., with -AsJob for long-running work.`,
    { target: what },
  );
}

export async function refuseSessionCmdlet(call: BoundCall, _ctx: ExecContext): Promise<PsValue> {
  throw sessionRoadmapError(call.cmdlet);
}

export async function refuseStartJob(_call: BoundCall, _ctx: ExecContext): Promise<PsValue> {
  throw new ChatOpsError(
    'NotSupported',
    "Start-Job is not supported: it would run the script inside the bot. Use Invoke-Command -ComputerName localhost { ... } -AsJob to run it on this computer's agent as a job.",
  );
}
