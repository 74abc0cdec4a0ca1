import { ChatOpsError } from './errors.js';

/**
 * A socket the bot could not bind (the hub, Slack's HTTP receiver), as one line an operator can
 * act on: where, why in plain words, and which setting moves it. Node's own error is kept as the
 * cause; its stack says nothing the operator needs.
 */
export function listenError(err: unknown, host: string, port: number, setting: string): ChatOpsError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  // On Windows, WinRM (the service real PowerShell remoting talks to) holds 5985 and 5986.
  const winrm = process.platform === 'win32' && (port === 5985 || port === 5986);
  const why =
    code === 'EADDRINUSE'
      ? `in use (${winrm ? 'WinRM listens there on Windows; ' : ''}another bot? set ${setting})`
      : code === 'EACCES'
        ? `permission denied (ports below 1024 need root; set ${setting})`
        : code === 'EADDRNOTAVAIL'
          ? `this computer has no such address (set ${setting})`
          : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
            ? `unknown host name (set ${setting})`
            : `${err instanceof Error ? err.message : String(err)} (set ${setting})`;
  return new ChatOpsError('ListenFailed', `could not listen on ${where}: ${why}`, { target: setting, cause: err });
}
