import type { IncomingCommand } from '../../src/core/ports.js';
import { ChatOpsError } from '../../src/errors.js';

/**
 * Slack payloads -> neutral commands. The channel is qualified by the team, so the same
 * channel id in two workspaces never shares jobs: `slack:T1/C123`.
 */
export function slackChannel(teamId: string, channelId: string): string {
  return `slack:${teamId}/${channelId}`;
}

/** The inverse of `slackChannel`: undefined for a channel this adapter did not make (console, Discord, ...). */
export function parseSlackChannel(channel: string): { teamId: string; channelId: string } | undefined {
  const m = /^slack:([^/|]+)\/([^/|]+)$/.exec(channel);
  return m ? { teamId: m[1]!, channelId: m[2]! } : undefined;
}

/** `/icm ARGS` is `/ps Invoke-Command ARGS`; `/ps LINE` is LINE. Empty when nothing was typed. */
export function commandLine(kind: 'ps' | 'icm', text: string): string {
  const line = text.trim();
  if (line === '') return '';
  return kind === 'icm' ? `Invoke-Command ${line}` : line;
}

/**
 * A message's text as the person typed it. Slack sends `&`, `<` and `>` as entities, and wraps
 * what it turned into links in raw angle brackets: `<http://x>`, `<http://x|x>`, `<mailto:a@b|a@b>`.
 * Links become their address again before the entities are decoded, so a typed `<` stays one.
 */
export function messageText(text: string): string {
  return text
    .replace(/<((?:https?|ftp):\/\/[^|>]+)(?:\|[^>]*)?>/g, '$1')
    .replace(/<mailto:([^|>]+)(?:\|[^>]*)?>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

const BUTTON_CMDLETS = { 'stop-job': 'Stop-Job', 'receive-job': 'Receive-Job' } as const;

/**
 * A button press carries only its action and a job id; anything else in the payload is
 * ignored. The id must be a plain decimal so nothing but a job id can reach the command text;
 * whether this channel may touch that job is the core's decision, as for a typed command.
 */
export function buttonCommandText(actionId: string, value: string | undefined): string {
  const action = actionId.split(':')[0] as keyof typeof BUTTON_CMDLETS;
  const cmdlet = BUTTON_CMDLETS[action];
  if (!cmdlet) throw new ChatOpsError('InvalidButton', `Unknown button action '${actionId}'`);
  if (value === undefined || !/^[1-9]\d{0,9}$/.test(value)) {
    throw new ChatOpsError('InvalidButton', 'This button does not name a valid job id');
  }
  return `${cmdlet} -Id ${value}`;
}

export function buttonCommand(
  teamId: string,
  channelId: string,
  userId: string,
  displayName: string,
  actionId: string,
  value: string | undefined,
): IncomingCommand {
  return {
    channel: slackChannel(teamId, channelId),
    user: { platform: 'slack', userId, displayName },
    text: buttonCommandText(actionId, value),
    source: 'button',
  };
}
