import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSlackAdapter, type SlackAdapter, type SlackAdapterOptions } from '../../adapters/slack/index.js';
import { createPermissionsModule, type PermissionsModule } from '../../src/permissions/module.js';
import {
  FakeSlack,
  blockActionPayload,
  messageEventPayload,
  sendBlockAction,
  sendEvent,
  sendSlashCommand,
  slashCommandPayload,
  textOf,
  type BotResponse,
  type SignOptions,
  type StoredMessage,
} from '../fakes/slack-server.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * The Slack end-to-end rig: a fake Slack (Web API, response_url, Socket Mode) on loopback, the
 * real app (core, hub, SQLite, policy file) with real agent processes, and the real bolt
 * adapter in HTTP or Socket Mode between them.
 */

export const SECRET = 'test-signing-secret';
export const TEAM = 'T1';
/** Channels the policy allows (web* computers, every cmdlet). */
export const OPS = 'C1';
export const OPS2 = 'C2';
/** A channel no rule mentions. */
export const NOBODY = 'C9';

/**
 * The Web API methods the adapter calls and the bot scope each needs (api.slack.com/methods);
 * the manifest must ask for exactly these, and the e2e suites check no other method is called.
 * auth.test needs no scope.
 */
export const SCOPE_OF_METHOD: Record<string, string | null> = {
  'auth.test': null,
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'files.getUploadURLExternal': 'files:write', // files.uploadV2, step 1
  'files.completeUploadExternal': 'files:write', // files.uploadV2, step 2
  'users.info': 'users:read',
  'conversations.info': 'channels:read', // before a command runs: may the bot post here?
};

/**
 * The message events the adapter subscribes to (remote prompt threads) and the bot scope each
 * needs (api.slack.com/events): delivered to the bot, not called, so not in SCOPE_OF_METHOD.
 */
export const SCOPE_OF_EVENT: Record<string, string> = {
  'message.channels': 'channels:history',
  'message.groups': 'groups:history',
};

export interface SlackRig {
  fake: FakeSlack;
  rt: TestRuntime;
  adapter: SlackAdapter;
  mode: 'http' | 'socket';
  /** http://127.0.0.1:PORT/slack/events (HTTP mode). */
  botUrl: string;
  /** Sends a slash command as Slack would (signed POST or Socket Mode envelope); returns the ack. */
  slash(
    text: string,
    o?: { command?: string; channel?: string; user?: string },
    sign?: SignOptions,
  ): Promise<Ack & { responseUrl: string }>;
  /**
   * A person's message in a thread (a message event, Socket Mode envelope or signed HTTP POST),
   * its text escaped as Slack escapes it. `botId`: a message the bot itself posted.
   */
  threadMessage(text: string, threadTs: string, o?: { channel?: string; user?: string; botId?: string }): Promise<Ack>;
  /** Presses a button as Slack would. */
  press(
    actionId: string,
    value: string,
    messageTs: string,
    o?: { channel?: string; user?: string },
  ): Promise<Ack & { responseUrl: string }>;
  /** The status message (top-level, in `channel`) whose text mentions `needle`, once it exists. */
  statusMessage(needle: string, channel?: string): Promise<StoredMessage>;
  /** Waits until the message's latest version satisfies `pred` (e.g. a final state). */
  waitVersion(msg: StoredMessage, pred: (text: string, blocks: unknown[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface Ack {
  status: number;
  ms: number;
}

/** `agentEnv`: extra environment per agent (scripts see it); every agent gets TEST_ROLE=group-a unless overridden. */
export async function startSlackRig(
  mode: 'http' | 'socket',
  adapterOptions: SlackAdapterOptions = {},
  agentEnv: Record<string, Record<string, string>> = {},
  /** More rules, as YAML list items under `rules:` (two-space indented). */
  extraRules = '',
): Promise<SlackRig> {
  const fake = await FakeSlack.start({
    teamId: TEAM,
    users: { U1: { name: 'alice', realName: 'Alice Example', displayName: 'alice.e' }, U2: { name: 'bob' }, U3: { name: 'carol' } },
  });
  const dir = mkdtempSync(join(tmpdir(), 'slack-e2e-'));
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(
    policyFile,
    `rules:\n  - name: slack-ops\n    channels: [slack:${TEAM}/${OPS}, slack:${TEAM}/${OPS2}]\n    computers: ['web*']\n    cmdlets: ['*']\n${extraRules}`,
  );
  const permissions: PermissionsModule = createPermissionsModule();
  let rt: TestRuntime | undefined;
  let adapter: SlackAdapter | undefined;
  try {
    rt = await startTestRuntime({
      agents: ['web1', 'web2', 'web3'].map((name) => ({ name, env: { TEST_ROLE: 'group-a', ...agentEnv[name] } })),
      authorizer: permissions.authorizer,
      extraCmdlets: permissions.extraCmdlets,
      env: {
        CHATOPS_POLICY_FILE: policyFile,
        SLACK_BOT_TOKEN: fake.botToken,
        // Socket Mode runs without a signing secret: nothing arrives over inbound HTTP.
        ...(mode === 'http' ? { SLACK_SIGNING_SECRET: SECRET } : {}),
        SLACK_API_URL: fake.apiUrl,
        SLACK_PORT: '0',
        // U2 (bob) administers the bot; U1 (alice) does not.
        CHATOPS_ADMINS: 'slack:U2',
        ...(mode === 'socket' ? { SLACK_APP_TOKEN: fake.appToken } : {}),
      },
    });
    adapter = await startSlackAdapter(
      { core: rt.core, config: rt.config },
      {
        host: '127.0.0.1',
        retryConfig: { retries: 2, factor: 1, minTimeout: 20, maxTimeout: 50 },
        updateIntervalMs: 250,
        ...adapterOptions,
      },
    );
  } catch (e) {
    await rt?.stop();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const botUrl = `http://127.0.0.1:${adapter.port ?? 0}/slack/events`;

  const rig: SlackRig = {
    fake,
    rt,
    adapter,
    mode,
    botUrl,
    async slash(text, o = {}, sign) {
      const responseUrl = fake.newResponseUrl();
      const fields = {
        command: o.command ?? '/ps',
        text,
        team_id: TEAM,
        channel_id: o.channel ?? OPS,
        user_id: o.user ?? 'U1',
        response_url: responseUrl,
      };
      if (mode === 'http') {
        const r: BotResponse = await sendSlashCommand(botUrl, SECRET, fields, sign);
        return { status: r.status, ms: r.ms, responseUrl };
      }
      const { ms } = await fake.sendEnvelope('slash_commands', slashCommandPayload(fields));
      return { status: 200, ms, responseUrl };
    },
    async threadMessage(text, threadTs, o = {}) {
      const payload = messageEventPayload({
        team_id: TEAM,
        channel: o.channel ?? OPS,
        user: o.user ?? 'U1',
        text,
        thread_ts: threadTs,
        ...(o.botId ? { bot_id: o.botId } : {}),
      });
      if (mode === 'http') {
        const r = await sendEvent(botUrl, SECRET, payload);
        return { status: r.status, ms: r.ms };
      }
      const { ms } = await fake.sendEnvelope('events_api', payload);
      return { status: 200, ms };
    },
    async press(actionId, value, messageTs, o = {}) {
      const responseUrl = fake.newResponseUrl();
      const shown = fake.message(messageTs);
      const fields = {
        actionId,
        value,
        messageTs,
        team_id: TEAM,
        channel_id: o.channel ?? OPS,
        user_id: o.user ?? 'U1',
        response_url: responseUrl,
        ...(shown ? { message: { text: shown.text, blocks: shown.blocks, ...(shown.threadTs ? { threadTs: shown.threadTs } : {}) } } : {}),
      };
      if (mode === 'http') {
        const r = await sendBlockAction(botUrl, SECRET, fields);
        return { status: r.status, ms: r.ms, responseUrl };
      }
      const { ms } = await fake.sendEnvelope('interactive', blockActionPayload(fields));
      return { status: 200, ms, responseUrl };
    },
    statusMessage(needle, channel = OPS) {
      return fake.waitFor(
        () => fake.messages.find((m) => m.channel === channel && !m.threadTs && textOf(m.versions[0]!.blocks).includes(needle)),
        15_000,
        `a status message mentioning ${needle}`,
      );
    },
    async waitVersion(msg, pred, what, timeoutMs = 15_000) {
      await fake.waitFor(() => pred(textOf(msg.blocks), msg.blocks), timeoutMs, what);
    },
    async stop() {
      await adapter!.stop();
      permissions.close();
      await rt!.stop();
      await fake.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return rig;
}

/** Finds the job id in a status message's text (`*Job7* (Id 7)`). */
export function jobIdOf(msg: StoredMessage): number {
  const m = /\(Id (\d+)\)/.exec(textOf(msg.versions[0]!.blocks));
  if (!m) throw new Error(`no job id in status message: ${textOf(msg.versions[0]!.blocks)}`);
  return Number(m[1]);
}
