import type { IncomingCommand } from './ports.js';

/**
 * Enter-PSSession: a remote prompt. After it, every line typed in the same place (the channel and
 * the command's scope: one console host, one chat thread) runs in the session, as
 * `Invoke-Command -Session` would run it, until `Exit-PSSession` (or `exit`). A session opened by
 * Enter-PSSession -ComputerName is closed on exit, as PowerShell's temporary one is; an existing
 * session entered with -Session, -Id, -Name or -InstanceId stays open.
 */
export interface RemotePrompt {
  sessionId: number;
  /** Opened by Enter-PSSession itself: closed on exit. */
  temporary: boolean;
  /**
   * Set when the session ended under the prompt (its agent closed it or lost it): why. The next
   * line typed there is not run; it is answered with this and the prompt is left.
   */
  ended?: string;
}

/** Where a remote prompt is entered. */
export interface PromptPlace {
  channel: string;
  scope?: string;
}

/** The remote prompts entered, by channel and scope. */
export class RemotePrompts {
  private readonly entered = new Map<string, RemotePrompt>();

  static key(command: Pick<IncomingCommand, 'channel' | 'scope'>): string {
    return `${command.channel}\u0000${command.scope ?? ''}`;
  }

  /**
   * Marks every prompt entered in session `sessionId` as ended (see `RemotePrompt.ended`) and
   * returns where they are. Only a few prompts are ever entered at once: a scan is enough.
   */
  endSession(sessionId: number, why: string): PromptPlace[] {
    const places: PromptPlace[] = [];
    for (const [key, prompt] of this.entered) {
      if (prompt.sessionId !== sessionId || prompt.ended !== undefined) continue;
      prompt.ended = why;
      const [channel, scope] = key.split('\u0000') as [string, string];
      places.push({ channel, ...(scope !== '' ? { scope } : {}) });
    }
    return places;
  }

  get(command: Pick<IncomingCommand, 'channel' | 'scope'>): RemotePrompt | undefined {
    return this.entered.get(RemotePrompts.key(command));
  }

  set(command: Pick<IncomingCommand, 'channel' | 'scope'>, prompt: RemotePrompt): void {
    this.entered.set(RemotePrompts.key(command), prompt);
  }

  delete(command: Pick<IncomingCommand, 'channel' | 'scope'>): void {
    this.entered.delete(RemotePrompts.key(command));
  }
}
