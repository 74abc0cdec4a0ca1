import { randomUUID } from 'node:crypto';

/**
 * Remote prompts in chat threads (Enter-PSSession in Slack and Discord). The core keys a remote
 * prompt by channel and `IncomingCommand.scope`; a chat adapter gives every command typed outside
 * a prompt thread a fresh scope of its own, so an Enter-PSSession there enters a prompt nobody
 * else shares (the channel itself is never inside a session). When the command comes back with a
 * prompt, the adapter opens a thread for it and remembers here which scope that thread carries;
 * later messages in the thread run with that scope, one after another, until the prompt ends.
 */
export interface PromptThread {
  /** The core's channel (`slack:T1/C1`, `discord:G/C`): the thread's parent channel. */
  channel: string;
  /** The scope the prompt was entered with. */
  scope: string;
  /** `[web1]: PS>`, as the core reported it. */
  prompt: string;
}

/** A scope no other command shares: a command typed outside a prompt thread gets one. */
export function freshScope(): string {
  return `chat-prompt:${randomUUID()}`;
}

/** The thread's title: PowerShell's prompt without its `>` (`[web1]: PS`). */
export function threadTitle(prompt: string): string {
  return prompt.replace(/>\s*$/, '').slice(0, 100);
}

/**
 * A message typed in a thread as the line it carries: a whole message in a code block
 * (```` ```ls``` ```` or `` `ls` ``) is the code inside it.
 */
export function threadLine(text: string): string {
  const t = text.trim();
  const fenced = /^```(?:[a-z0-9_+-]*\n)?([\s\S]*?)\n?```$/i.exec(t);
  if (fenced) return fenced[1]!.trim();
  const inline = /^`([^`]+)`$/.exec(t);
  return inline ? inline[1]!.trim() : t;
}

/** What a prompt thread says when its prompt ended: lines typed there no longer run. */
export const PROMPT_ENDED_NOTE = 'Messages in this thread are no longer run.';

export class PromptThreads {
  private readonly threads = new Map<string, PromptThread>();
  private readonly queues = new Map<string, Promise<unknown>>();

  /** At most `max` threads are remembered (the oldest forgotten first). */
  constructor(private readonly max = 1000) {}

  open(threadKey: string, thread: PromptThread): void {
    this.threads.delete(threadKey);
    this.threads.set(threadKey, thread);
    while (this.threads.size > this.max) this.close(this.threads.keys().next().value as string);
  }

  get(threadKey: string): PromptThread | undefined {
    return this.threads.get(threadKey);
  }

  /** The thread that carries `scope`'s prompt, with its key. */
  byScope(scope: string): [string, PromptThread] | undefined {
    for (const entry of this.threads) if (entry[1].scope === scope) return entry;
    return undefined;
  }

  close(threadKey: string): void {
    this.threads.delete(threadKey);
  }

  /** Runs `work` after everything queued for the thread before it: lines run in the order typed. */
  run<T>(threadKey: string, work: () => Promise<T>): Promise<T> {
    const before = this.queues.get(threadKey) ?? Promise.resolve();
    const next = before.then(work, work);
    const tail = next.catch(() => undefined);
    this.queues.set(threadKey, tail);
    void tail.then(() => {
      if (this.queues.get(threadKey) === tail) this.queues.delete(threadKey);
    });
    return next;
  }
}
