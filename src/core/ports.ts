import type { NeutralMessage } from '../messages/model.js';

/**
 * The ports between the core and the chat adapters (console, Slack, Discord). Adapters turn
 * platform events into `IncomingCommand`s and implement `ChatSink` to draw neutral messages.
 */

export type Platform = 'console' | 'slack' | 'discord';

export interface Invoker {
  platform: Platform;
  /** Platform user id (Slack `U123`, Discord snowflake, `console` for the local user). */
  userId: string;
  displayName: string;
  /** Platform roles, when the platform has them (Discord role ids). */
  roles?: string[];
}

export interface IncomingCommand {
  /**
   * Platform-qualified channel id: `console`, `slack:T1/C123`, `discord:G1/C2`.
   * The channel is the team's local session: jobs, sessions and variables belong to it.
   */
  channel: string;
  user: Invoker;
  /** One or more lines of the command language. */
  text: string;
  /** A button press arrives as the equivalent command text with `source: 'button'`. */
  source: 'command' | 'button';
  /**
   * Cancels the command (the console's Ctrl-C): a synchronous Invoke-Command stops the job it
   * started, as Stop-Job does (process trees killed, the stop confirmed), Wait-Job and
   * Receive-Job -Wait stop waiting (their jobs keep running, as in PowerShell), and no further
   * statement of the message runs.
   */
  signal?: AbortSignal;
  /**
   * Where a remote prompt (Enter-PSSession) lives inside the channel: one console host, one chat
   * thread. Lines with the same channel and scope run in the session entered there.
   */
  scope?: string;
}

/** Opaque handle to a posted message, so it can be edited or replied to in a thread. */
export interface MessageHandle {
  readonly id: string;
}

export interface ChatSink {
  /** Only the invoker sees it (Slack ephemeral, Discord ephemeral, console: printed). */
  replyPrivately(message: NeutralMessage): Promise<void>;
  /** A message in the channel, visible to everyone. */
  post(message: NeutralMessage): Promise<MessageHandle>;
  /** Edit a message posted earlier (status updates). Adapters coalesce to their rate limits. */
  update(handle: MessageHandle, message: NeutralMessage): Promise<void>;
  /** A reply in the thread under `parent` (per-computer results). */
  postInThread(parent: MessageHandle, message: NeutralMessage): Promise<MessageHandle>;
  /**
   * Clear-Host: clears the screen. Only a terminal offers it; chat sinks leave it out (a channel
   * is not cleared) and the core says so instead.
   */
  clearScreen?(): Promise<void>;
}

export interface CommandOutcome {
  /** False when any statement failed to parse, bind, was refused, or a job ended Failed. */
  ok: boolean;
  /** Ids of jobs the command created. */
  jobIds: number[];
  /**
   * Set while a remote prompt is entered in the command's scope (after Enter-PSSession, until
   * Exit-PSSession): PowerShell's prompt prefix, `[web1]: PS>`.
   */
  prompt?: string;
}

/**
 * Something the core tells a place unasked: a session its agent closed (idle timeout, its shell
 * exited) or lost. The adapter shows `message` where `channel` and `scope` are drawn: a remote
 * prompt's thread or console host when `scope` is set, else the channel itself.
 */
export interface CoreNotice {
  channel: string;
  /** The scope of the remote prompt the notice is about (see `IncomingCommand.scope`). */
  scope?: string;
  /**
   * Set when the notice ends the remote prompt entered in `scope`: the prompt it was
   * (`[web1]: PS>`). The adapter goes back to its own prompt (a chat thread stops running lines).
   */
  endedPrompt?: string;
  message: NeutralMessage;
}

export interface Core {
  /**
   * Runs every statement of `command.text` in order. Resolves when synchronous work is done:
   * a plain Invoke-Command when all its children finished and results were posted; an
   * `-AsJob` call as soon as the job exists. Never rejects for user errors: those are shown
   * through `sink` and reported in the outcome.
   */
  handle(command: IncomingCommand, sink: ChatSink): Promise<CommandOutcome>;
  /**
   * Autocomplete: computers `user` may target from `channel` / the channel's job ids, starting
   * with `prefix`. A hint only; what is then typed is decided like any command.
   */
  complete(channel: string, user: Invoker, kind: 'computer' | 'job', prefix: string): Promise<string[]>;
  /**
   * After a restart: an adapter hands over a sink for each channel of its own (`undefined` for
   * any other channel), and the core follows on the status messages a previous bot process
   * posted there and left unfinished: edits, the -AsJob state note, a synchronous call's results.
   * Sinks must work from a stored handle alone. Returns how many status messages it picked up.
   */
  reattach(sinkFor: (channel: string) => ChatSink | undefined): number;
  /**
   * Calls `listener` with every notice (see `CoreNotice`); returns the unsubscribe. The listener
   * returns true when it showed the notice where it belongs (for a notice that ends a remote
   * prompt: the place is back at its own prompt, so the core leaves the prompt too). Otherwise
   * the next line typed at that prompt is told the prompt ended, and not run.
   */
  onNotice(listener: (notice: CoreNotice) => boolean): () => void;
}
