/**
 * The one error type the project throws on purpose. `code` is a stable string that callers
 * switch on (for example `AmbiguousParameter`, `AgentNotConnected`, `PermissionDenied`);
 * `message` is the user-facing text and is safe to show in chat.
 */
export class ChatOpsError extends Error {
  readonly code: string;
  /** The parameter, computer, job or setting the error is about, when there is one. */
  readonly target?: string;

  constructor(code: string, message: string, options?: { target?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChatOpsError';
    this.code = code;
    if (options?.target !== undefined) this.target = options.target;
  }
}

export function isChatOpsError(e: unknown): e is ChatOpsError {
  return e instanceof ChatOpsError;
}
