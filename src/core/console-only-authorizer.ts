import type { Authorizer, AuthorizationRequest, Decision } from './authorizer';
import type { Invoker } from './ports';

/** Cmdlets every channel may use, even one no rule names. */
const ALWAYS_ALLOWED = new Set(['get-help', 'get-command']);

/**
 * The embedded default rule, for tests and for a bot started without the permissions module:
 * the console channel may use every cmdlet on every computer (an unknown or offline one then
 * fails its own child at run time); every other channel may only use Get-Help and Get-Command.
 * Deny by default, always with a reason. The permissions module replaces it in main.
 */
export class ConsoleOnlyAuthorizer implements Authorizer {
  constructor(private readonly admins: readonly string[] = []) {}

  async authorize(request: AuthorizationRequest): Promise<Decision> {
    if (ALWAYS_ALLOWED.has(request.cmdlet.toLowerCase())) {
      return { allowed: true, reason: `${request.cmdlet} is allowed in every channel` };
    }
    if (request.channel === 'console') {
      return { allowed: true, reason: 'the console channel may use everything (embedded default rule)' };
    }
    const first = request.computers[0];
    if (first !== undefined) {
      return { allowed: false, reason: `This channel may not target ${first}: no rule allows it` };
    }
    return { allowed: false, reason: `This channel may not use ${request.cmdlet}: no rule allows it` };
  }

  isAdmin(user: Invoker): boolean {
    const key = user.platform === 'console' ? 'console' : `${user.platform}:${user.userId}`;
    return this.admins.includes(key);
  }
}
