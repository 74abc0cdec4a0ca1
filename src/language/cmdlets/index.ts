import type { CmdletDefinition } from '../definition';
import { invokeCommand } from './invoke-command';
import { newPSSession } from './new-pssession';
import { getPSSession } from './get-pssession';
import { removePSSession } from './remove-pssession';
import { enterPSSession } from './enter-pssession';
import { exitPSSession } from './exit-pssession';
import { disconnectPSSession } from './disconnect-pssession';
import { connectPSSession } from './connect-pssession';
import { receivePSSession } from './receive-pssession';
import { newPSSessionOption } from './new-pssessionoption';
import { getJob } from './get-job';
import { receiveJob } from './receive-job';
import { waitJob } from './wait-job';
import { stopJob } from './stop-job';
import { removeJob } from './remove-job';
import { startJob } from './start-job';
import { getAgent } from './get-agent';
import { getVariable } from './get-variable';
import { removeVariable } from './remove-variable';
import { getHelp } from './get-help';
import { getCommand } from './get-command';
import { getChannelPermission } from './get-channelpermission';
import { grantChannelPermission } from './grant-channelpermission';
import { revokeChannelPermission } from './revoke-channelpermission';

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
  getChannelPermission,
  grantChannelPermission,
  revokeChannelPermission,
];
