import type { CmdletDefinition } from '../definition.js';
import { invokeCommand } from './invoke-command.js';
import { newPSSession } from './new-pssession.js';
import { getPSSession } from './get-pssession.js';
import { removePSSession } from './remove-pssession.js';
import { enterPSSession } from './enter-pssession.js';
import { exitPSSession } from './exit-pssession.js';
import { disconnectPSSession } from './disconnect-pssession.js';
import { connectPSSession } from './connect-pssession.js';
import { receivePSSession } from './receive-pssession.js';
import { newPSSessionOption } from './new-pssessionoption.js';
import { getJob } from './get-job.js';
import { receiveJob } from './receive-job.js';
import { waitJob } from './wait-job.js';
import { stopJob } from './stop-job.js';
import { removeJob } from './remove-job.js';
import { startJob } from './start-job.js';
import { getAgent } from './get-agent.js';
import { getVariable } from './get-variable.js';
import { removeVariable } from './remove-variable.js';
import { getHelp } from './get-help.js';
import { getCommand } from './get-command.js';
import { clearHost } from './clear-host.js';
import { getChannelPermission } from './get-channelpermission.js';
import { grantChannelPermission } from './grant-channelpermission.js';
import { revokeChannelPermission } from './revoke-channelpermission.js';

/**
 * Every cmdlet the language knows. Adding one = one file in this folder + one line here.
 * Order is the order Get-Command lists them.
 */
export const CMDLETS: readonly CmdletDefinition[] = [
  invokeCommand,
  newPSSession,
  getPSSession,
  removePSSession,
  enterPSSession,
  exitPSSession,
  disconnectPSSession,
  connectPSSession,
  receivePSSession,
  newPSSessionOption,
  getJob,
  receiveJob,
  waitJob,
  stopJob,
  removeJob,
  startJob,
  getAgent,
  getVariable,
  removeVariable,
  getHelp,
  getCommand,
  clearHost,
  getChannelPermission,
  grantChannelPermission,
  revokeChannelPermission,
];
