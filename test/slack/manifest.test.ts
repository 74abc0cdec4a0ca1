import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { SCOPE_OF_EVENT, SCOPE_OF_METHOD } from './harness.js';

/**
 * adapters/slack/manifest.yml is what an admin pastes into "Create New App → From an app
 * manifest". It must create exactly the app the adapter expects: Slack's manifest schema
 * (display_information, features.bot_user / slash_commands, oauth_config.scopes.bot,
 * settings.interactivity / socket_mode_enabled), the commands the adapter listens for by
 * default, every scope its Web API calls need and no more.
 */

const manifest = parse(readFileSync(join(__dirname, '../../adapters/slack/manifest.yml'), 'utf8'));

describe('Slack app manifest', () => {
  it("has only keys of Slack's manifest schema at the top level, with a name and a bot user", () => {
    expect(Object.keys(manifest).sort()).toEqual(['display_information', 'features', 'oauth_config', 'settings']);
    expect(manifest.display_information.name).toMatch(/\S/);
    expect(manifest.display_information.name.length).toBeLessThanOrEqual(35);
    expect(manifest.features.bot_user.display_name).toMatch(/^[a-z0-9._-]{1,80}$/);
  });

  it('creates the slash commands the adapter answers by default, unescaped, at /slack/events', () => {
    const slack = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-x', SLACK_SIGNING_SECRET: 's' }).slack!;
    const commands = manifest.features.slash_commands as Array<Record<string, unknown>>;
    expect(commands.map((c) => c.command)).toEqual([slack.psCommand, slack.icmCommand]);
    for (const c of commands) {
      // should_escape false: the adapter gets `<@U123>` as typed, not rewritten user links.
      expect(c.should_escape, String(c.command)).toBe(false);
      expect(c.url, String(c.command)).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
      expect(String(c.description).length).toBeGreaterThan(0);
      expect(String(c.description).length).toBeLessThanOrEqual(100);
      expect(String(c.usage_hint ?? '').length).toBeLessThanOrEqual(1000);
    }
  });

  it('asks for exactly the bot scopes the adapter uses', () => {
    const needed = new Set(['commands', ...Object.values(SCOPE_OF_METHOD).filter((x) => x !== null), ...Object.values(SCOPE_OF_EVENT)]);
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...needed].sort());
    expect(manifest.oauth_config.scopes.user).toBeUndefined();
  });

  it('subscribes to the message events of remote prompt threads, at /slack/events', () => {
    expect(manifest.settings.event_subscriptions).toEqual({
      request_url: expect.stringMatching(/^https:\/\/[^/]+\/slack\/events$/),
      bot_events: Object.keys(SCOPE_OF_EVENT),
    });
    expect(new URL(manifest.settings.event_subscriptions.request_url).host).toBe(new URL(manifest.settings.interactivity.request_url).host);
  });

  it('turns on interactivity (buttons) at /slack/events and Socket Mode', () => {
    expect(manifest.settings.interactivity).toEqual({
      is_enabled: true,
      request_url: expect.stringMatching(/^https:\/\/[^/]+\/slack\/events$/),
    });
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    // The commands and the interactivity point at the same host, so HTTP mode is one replacement.
    const hosts = new Set(
      [manifest.settings.interactivity.request_url, ...manifest.features.slash_commands.map((c: { url: string }) => c.url)].map(
        (u) => new URL(u).host,
      ),
    );
    expect(hosts.size).toBe(1);
  });
});
