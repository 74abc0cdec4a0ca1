/**
 * PowerShell sessions (New-PSSession) as the bot keeps them: which channel owns each, the
 * computer and agent it lives on, its configuration and state. The session itself (a shell or a
 * pwsh runspace) lives on the agent; this is the bot's record of it, stored before it is shown.
 */

/**
 * PowerShell's RunspaceState names as Get-PSSession shows them. `Opening` while the agent has not
 * answered yet; `Disconnected` while the agent keeps its command's output for a later
 * Receive-PSSession; `Broken` when the agent restarted or was lost (the session is gone with it).
 */
export type PSSessionState = 'Opening' | 'Opened' | 'Disconnected' | 'Closed' | 'Broken';

export interface PSSessionRecord {
  id: number;
  instanceId: string;
  name: string;
  channel: string;
  /** The computer name as typed (shown as ComputerName). */
  computer: string;
  /** The agent it resolved to. */
  agent: string;
  configurationName: string;
  state: PSSessionState;
  reason?: string;
  idleTimeoutMs: number;
  createdBy: string;
  createdAt: string;
  /** The job of the last command run in it (Receive-PSSession receives its output). */
  jobId?: number;
}

export interface NewPSSession {
  /** Default `Runspace<Id>`, as PowerShell names sessions it opens. */
  name?: string;
  channel: string;
  computer: string;
  agent: string;
  configurationName: string;
  idleTimeoutMs: number;
  createdBy: string;
}

export interface SessionStore {
  createSession(s: NewPSSession): PSSessionRecord;
  getSession(id: number): PSSessionRecord | undefined;
  sessionByInstanceId(instanceId: string): PSSessionRecord | undefined;
  /** Sorted by Id; only `channel`'s unless channel is undefined (admins). Removed ones are not listed. */
  listSessions(channel?: string): PSSessionRecord[];
  /** Sessions on an agent that are not Closed or Broken. */
  liveSessionsOfAgent(agent: string): PSSessionRecord[];
  updateSession(id: number, update: { state: PSSessionState; reason?: string | null }): void;
  setSessionJob(id: number, jobId: number): void;
  deleteSession(id: number): void;
  /**
   * Remove-PSSession: the session is Closed and no longer listed, but a variable that holds it
   * still finds it (a command on it then fails as PowerShell's does: the session state is Closed).
   */
  removeSession(id: number): void;
}
