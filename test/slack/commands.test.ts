import { describe, expect, it } from 'vitest';
import { buttonCommand, buttonCommandText, commandLine, slackChannel } from '../../adapters/slack/commands.js';

describe('Slack payloads to commands', () => {
  it('qualifies the channel by team', () => {
    expect(slackChannel('T1', 'C123')).toBe('slack:T1/C123');
  });

  it('/icm is Invoke-Command with its arguments; /ps is the line itself', () => {
    expect(commandLine('icm', ' web1 { uptime } ')).toBe('Invoke-Command web1 { uptime }');
    expect(commandLine('ps', ' Get-Job ')).toBe('Get-Job');
    expect(commandLine('ps', '   ')).toBe('');
    expect(commandLine('icm', '  ')).toBe('');
  });

  it('a button becomes Stop-Job / Receive-Job with the job id and nothing else', () => {
    expect(buttonCommandText('stop-job', '7')).toBe('Stop-Job -Id 7');
    expect(buttonCommandText('receive-job', '12')).toBe('Receive-Job -Id 12');
    expect(buttonCommandText('receive-job:12', '12')).toBe('Receive-Job -Id 12');
    expect(buttonCommand('T1', 'C1', 'U1', 'alice', 'stop-job', '7')).toEqual({
      channel: 'slack:T1/C1',
      user: { platform: 'slack', userId: 'U1', displayName: 'alice' },
      text: 'Stop-Job -Id 7',
      source: 'button',
    });
  });

  it('refuses forged button values that are not a job id', () => {
    for (const v of ['7; Remove-Item /', '7 -Force', '-1', '0', '', '1e3', '７', ' 7', undefined]) {
      expect(() => buttonCommandText('stop-job', v), String(v)).toThrow(/valid job id/);
    }
    expect(() => buttonCommandText('remove-job', '7')).toThrow(/Unknown button action/);
  });
});
