import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A fake Slack on 127.0.0.1: the Web API (`/api/METHOD`), file upload URLs, response_url
 * endpoints and a Socket Mode WebSocket server. It answers as Slack does (ok/error JSON,
 * 429 with Retry-After when told to, Block Kit limits enforced), records every call, and keeps
 * the messages it was sent, with their edits, so tests can assert what a channel would show.
 */

export interface RecordedCall {
  method: string;
  params: Record<string, unknown>;
  /** Bearer token the call carried. */
  token: string | undefined;
  at: number;
  /** HTTP status the fake answered with. */
  status: number;
  /** `error` of an ok:false answer. */
  error?: string;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks: any[];
  /** Every content this message had, oldest first (the post, then each chat.update). */
  versions: Array<{ text: string; blocks: any[]; at: number }>;
}

export interface StoredFile {
  id: string;
  filename: string;
  title?: string;
  content: string;
  channel?: string;
  threadTs?: string;
}

export interface ResponseUrlPost {
  id: string;
  body: any;
  at: number;
}

export type Failure = { status: 429; retryAfter: number } | { status: 500 | 502 | 503 } | { error: string } | { drop: true };

export interface FakeSlackOptions {
  botToken?: string;
  appToken?: string;
  teamId?: string;
  users?: Record<string, { name: string; realName?: string; displayName?: string }>;
}

export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  readonly messages: StoredMessage[] = [];
  readonly files: StoredFile[] = [];
  readonly responses: ResponseUrlPost[] = [];
  readonly ephemerals: Array<{ channel: string; user: string; text: string; blocks: any[]; threadTs?: string }> = [];
  /**
   * Channels the bot is not a member of: chat.postMessage and chat.postEphemeral there answer
   * not_in_channel, conversations.info says is_member false (as Slack does for a public channel).
   */
  readonly notMemberOf = new Set<string>();
  readonly botToken: string;
  readonly appToken: string;
  readonly teamId: string;
  private readonly users: NonNullable<FakeSlackOptions['users']>;
  private readonly failures = new Map<string, Array<{ failure: Failure; match?: (params: Record<string, unknown>) => boolean }>>();
  private readonly sockets = new Set<WebSocket>();
  private readonly ackWaiters = new Map<string, (payload: unknown) => void>();
  private readonly listeners = new Set<() => void>();
  private tsCounter = 0;
  private fileCounter = 0;
  private responseCounter = 0;
  private server!: Server;
  private wss!: WebSocketServer;
  port = 0;

  private constructor(options: FakeSlackOptions) {
    this.botToken = options.botToken ?? 'xoxb-fake-bot-token';
    this.appToken = options.appToken ?? 'xapp-fake-app-token';
    this.teamId = options.teamId ?? 'T1';
    this.users = options.users ?? { U1: { name: 'alice', realName: 'Alice Example', displayName: 'alice.e' } };
  }

  static async start(options: FakeSlackOptions = {}): Promise<FakeSlack> {
    const fake = new FakeSlack(options);
    await fake.listen();
    return fake;
  }

  /** Base URL for `clientOptions.slackApiUrl` / SLACK_API_URL. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** A fresh response_url for a slash command or interaction; posts to it land in `responses`. */
  newResponseUrl(): string {
    return `http://127.0.0.1:${this.port}/response/R${++this.responseCounter}`;
  }

  /**
   * Answer the next `times` calls to `method` (those whose params satisfy `match`, when given)
   * with `failure`, then normally again.
   */
  failNext(method: string, failure: Failure, times = 1, match?: (params: Record<string, unknown>) => boolean): void {
    const list = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(match ? { failure, match } : { failure });
    this.failures.set(method, list);
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  message(ts: string): StoredMessage | undefined {
    return this.messages.find((m) => m.ts === ts);
  }

  /** Replies in the thread under `ts`, oldest first. */
  thread(ts: string): StoredMessage[] {
    return this.messages.filter((m) => m.threadTs === ts);
  }

  /** Resolves with the predicate's first truthy result, re-checked after every request. */
  waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        const v = predicate();
        if (v) {
          cleanup();
          resolve(v);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`FakeSlack: timed out after ${timeoutMs} ms waiting for ${what}; calls: ${this.calls.map((c) => c.method).join(', ')}`),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (): void => void check();
      if (!check()) this.listeners.add(listener);
    });
  }

  // ---------------------------------------------------------------- Socket Mode

  /** Socket Mode connections open now. */
  get socketCount(): number {
    return this.sockets.size;
  }

  /** Socket Mode connections accepted so far (reconnects count). */
  socketsAccepted = 0;

  /**
   * Sends a Socket Mode envelope (`slash_commands`, `interactive`, `events_api`) to the
   * connected app and resolves with its ack and the time the ack took.
   */
  async sendEnvelope(type: string, payload: unknown, timeoutMs = 5000): Promise<{ ack: any; ms: number }> {
    // The newest open connection: during a reconnect the old one may still be closing.
    const ws = [...this.sockets].reverse().find((w) => w.readyState === w.OPEN);
    if (!ws) throw new Error('FakeSlack: no Socket Mode connection');
    const envelopeId = randomUUID();
    const started = Date.now();
    const acked = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.ackWaiters.delete(envelopeId);
        reject(new Error(`FakeSlack: envelope ${type} not acknowledged within ${timeoutMs} ms`));
      }, timeoutMs);
      this.ackWaiters.set(envelopeId, (p) => {
        clearTimeout(timer);
        resolve(p);
      });
    });
    ws.send(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type !== 'events_api' }));
    const ack = await acked;
    return { ack, ms: Date.now() - started };
  }

  /** Asks the app to reconnect, as Slack does routinely (`refresh_requested`, `warning`). */
  sendDisconnect(reason = 'refresh_requested'): void {
    for (const ws of this.sockets) ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'fake-slack' } }));
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---------------------------------------------------------------- HTTP

  private async listen(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.route(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/socket')) {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private onSocket(ws: WebSocket): void {
    this.sockets.add(ws);
    this.socketsAccepted++;
    ws.on('close', () => {
      this.sockets.delete(ws);
      this.notify();
    });
    ws.on('message', (data) => {
      let msg: { envelope_id?: string; payload?: unknown };
      try {
        msg = JSON.parse(String(data));
      } catch {
        return;
      }
      if (msg.envelope_id) this.ackWaiters.get(msg.envelope_id)?.(msg.payload ?? {});
      if (msg.envelope_id) this.ackWaiters.delete(msg.envelope_id);
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake-slack' }, connection_info: { app_id: 'A1' } }));
    this.notify();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname.startsWith('/response/')) {
      this.responses.push({ id: url.pathname.slice('/response/'.length), body: JSON.parse(raw.toString('utf8') || '{}'), at: Date.now() });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      this.notify();
      return;
    }
    if (url.pathname.startsWith('/upload/')) {
      const id = url.pathname.slice('/upload/'.length);
      const file = this.files.find((f) => f.id === id);
      if (!file) {
        res.writeHead(404);
        res.end();
        return;
      }
      file.content = extractUpload(raw, String(req.headers['content-type'] ?? ''));
      this.calls.push({ method: 'upload', params: { id }, token: bearer(req), at: Date.now(), status: 200 });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`OK - ${raw.length}`);
      this.notify();
      return;
    }
    if (!url.pathname.startsWith('/api/')) {
      res.writeHead(404);
      res.end();
      return;
    }
    const method = url.pathname.slice('/api/'.length);
    const params = parseParams(raw, String(req.headers['content-type'] ?? ''));
    const token = bearer(req) ?? (typeof params.token === 'string' ? params.token : undefined);
    const call: RecordedCall = { method, params, token, at: Date.now(), status: 200 };
    this.calls.push(call);

    const queue = this.failures.get(method) ?? [];
    const index = queue.findIndex((f) => !f.match || f.match(params));
    const failure = index >= 0 ? queue.splice(index, 1)[0]!.failure : undefined;
    if (failure) {
      if ('drop' in failure) {
        call.status = 0;
        req.socket.destroy();
        this.notify();
        return;
      }
      if ('status' in failure) {
        call.status = failure.status;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (failure.status === 429) headers['retry-after'] = String(failure.retryAfter);
        res.writeHead(failure.status, headers);
        res.end(JSON.stringify({ ok: false, error: failure.status === 429 ? 'ratelimited' : 'internal_error' }));
        this.notify();
        return;
      }
      this.reply(res, call, { ok: false, error: failure.error });
      return;
    }
    this.reply(res, call, this.answer(method, params, token));
  }

  private reply(res: ServerResponse, call: RecordedCall, body: Record<string, unknown>): void {
    if (body.ok === false) call.error = String(body.error);
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
    this.notify();
  }

  /** Web API semantics, as far as our bot uses them. */
  private answer(method: string, p: Record<string, unknown>, token: string | undefined): Record<string, unknown> {
    if (method === 'apps.connections.open') {
      if (token !== this.appToken) return { ok: false, error: 'invalid_auth' };
      return { ok: true, url: `ws://127.0.0.1:${this.port}/socket?ticket=${randomUUID()}` };
    }
    if (token !== this.botToken) return { ok: false, error: token ? 'invalid_auth' : 'not_authed' };
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://fake.slack.test/',
          team: 'Fake Team',
          user: 'chatops',
          team_id: this.teamId,
          user_id: 'UBOT',
          bot_id: 'BBOT',
          is_enterprise_install: false,
        };
      case 'users.info': {
        const u = this.users[String(p.user)];
        if (!u) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: {
            id: p.user,
            team_id: this.teamId,
            name: u.name,
            real_name: u.realName ?? u.name,
            profile: { display_name: u.displayName ?? '', real_name: u.realName ?? u.name },
          },
        };
      }
      case 'conversations.info': {
        const id = String(p.channel ?? '');
        if (!/^[CGD][A-Z0-9]+$/.test(id)) return { ok: false, error: 'channel_not_found' };
        return { ok: true, channel: { id, is_channel: id.startsWith('C'), is_archived: false, is_member: !this.notMemberOf.has(id) } };
      }
      case 'chat.postMessage': {
        if (this.notMemberOf.has(String(p.channel))) return { ok: false, error: 'not_in_channel' };
        const invalid = this.checkMessage(p);
        if (invalid) return { ok: false, error: invalid };
        const ts = this.nextTs();
        const msg: StoredMessage = {
          channel: String(p.channel),
          ts,
          text: String(p.text ?? ''),
          blocks: asBlocks(p.blocks),
          versions: [],
          ...(p.thread_ts ? { threadTs: String(p.thread_ts) } : {}),
        };
        if (msg.threadTs && !this.message(msg.threadTs)) return { ok: false, error: 'thread_not_found' };
        msg.versions.push({ text: msg.text, blocks: msg.blocks, at: Date.now() });
        this.messages.push(msg);
        return { ok: true, channel: msg.channel, ts, message: { type: 'message', text: msg.text, ts, bot_id: 'BBOT', blocks: msg.blocks } };
      }
      case 'chat.update': {
        const msg = this.messages.find((m) => m.ts === String(p.ts) && m.channel === String(p.channel));
        if (!msg) return { ok: false, error: 'message_not_found' };
        const invalid = this.checkMessage(p);
        if (invalid) return { ok: false, error: invalid };
        msg.text = String(p.text ?? '');
        msg.blocks = asBlocks(p.blocks);
        msg.versions.push({ text: msg.text, blocks: msg.blocks, at: Date.now() });
        return { ok: true, channel: msg.channel, ts: msg.ts, text: msg.text };
      }
      case 'chat.postEphemeral': {
        if (this.notMemberOf.has(String(p.channel))) return { ok: false, error: 'not_in_channel' };
        const invalid = this.checkMessage(p);
        if (invalid) return { ok: false, error: invalid };
        this.ephemerals.push({
          channel: String(p.channel),
          user: String(p.user),
          text: String(p.text ?? ''),
          blocks: asBlocks(p.blocks),
          ...(p.thread_ts ? { threadTs: String(p.thread_ts) } : {}),
        });
        return { ok: true, message_ts: this.nextTs() };
      }
      case 'files.getUploadURLExternal': {
        const id = `F${++this.fileCounter}`;
        this.files.push({ id, filename: String(p.filename), content: '' });
        return { ok: true, upload_url: `http://127.0.0.1:${this.port}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const list = (typeof p.files === 'string' ? JSON.parse(p.files) : p.files) as Array<{ id: string; title?: string }>;
        const out = [];
        for (const f of list) {
          const file = this.files.find((x) => x.id === f.id);
          if (!file) return { ok: false, error: 'file_not_found' };
          if (f.title !== undefined) file.title = f.title;
          if (p.channel_id) file.channel = String(p.channel_id);
          if (p.thread_ts) file.threadTs = String(p.thread_ts);
          out.push({ id: file.id, name: file.filename, title: file.title ?? file.filename });
        }
        return { ok: true, files: out };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  /** Slack's Block Kit limits: 50 blocks, 3,000 characters per section text, 40,000 of text. */
  private checkMessage(p: Record<string, unknown>): string | undefined {
    if (!p.channel) return 'channel_not_found';
    const blocks = asBlocks(p.blocks);
    if (blocks.length > 50) return 'invalid_blocks';
    for (const b of blocks) {
      if (b?.type === 'section' && typeof b.text?.text === 'string' && b.text.text.length > 3000) return 'invalid_blocks';
      if (b?.type === 'section' && (!b.text || b.text.text === '')) return 'invalid_blocks';
    }
    if (String(p.text ?? '').length > 40_000) return 'msg_too_long';
    if (blocks.length === 0 && !p.text) return 'no_text';
    return undefined;
  }

  private nextTs(): string {
    const seconds = Math.floor(Date.now() / 1000);
    return `${seconds}.${String(++this.tsCounter).padStart(6, '0')}`;
  }
}

// ------------------------------------------------------------------ request helpers

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice('Bearer '.length) : undefined;
}

/** The Web API takes form-encoded (JSON-valued fields such as `blocks` as strings) or JSON bodies. */
function parseParams(raw: Buffer, contentType: string): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (contentType.includes('application/json')) return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(text)) out[k] = v;
  return out;
}

function asBlocks(v: unknown): any[] {
  if (v === undefined || v === null || v === '') return [];
  const parsed = typeof v === 'string' ? JSON.parse(v) : v;
  return Array.isArray(parsed) ? parsed : [];
}

/** The upload URL receives the file as multipart/form-data (what @slack/web-api sends) or raw bytes. */
function extractUpload(raw: Buffer, contentType: string): string {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!m) return raw.toString('utf8');
  const boundary = `--${m[1] ?? m[2]}`;
  const text = raw.toString('utf8');
  for (const part of text.split(boundary)) {
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) continue;
    const headers = part.slice(0, headerEnd);
    if (!/filename=/.test(headers) && !/name="(body|file)"/.test(headers)) continue;
    return part.slice(headerEnd + 4).replace(/\r\n$/, '');
  }
  return '';
}

// ------------------------------------------------------------------ signed requests to the bot

export function slackSignature(secret: string, timestamp: number, body: string): string {
  return 'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
}

export interface SignOptions {
  /** Seconds since the epoch; default now. */
  timestamp?: number;
  /** Sign with this secret instead (a forgery). */
  secret?: string;
}

export interface BotResponse {
  status: number;
  body: string;
  ms: number;
}

/** POSTs a form body to the bot's `/slack/events`, signed as Slack signs it: HMAC-SHA256 of `v0:TS:BODY`. */
export async function postSigned(botUrl: string, secret: string, body: string, options: SignOptions = {}): Promise<BotResponse> {
  const ts = options.timestamp ?? Math.floor(Date.now() / 1000);
  const started = Date.now();
  const res = await fetch(botUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': slackSignature(options.secret ?? secret, ts, body),
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text, ms: Date.now() - started };
}

export interface SlashCommandFields {
  command: string;
  text: string;
  team_id?: string;
  channel_id?: string;
  user_id?: string;
  user_name?: string;
  response_url: string;
}

export function slashCommandPayload(f: SlashCommandFields): Record<string, string> {
  return {
    token: 'deprecated-verification-token',
    team_id: f.team_id ?? 'T1',
    team_domain: 'fake',
    channel_id: f.channel_id ?? 'C1',
    channel_name: 'ops',
    user_id: f.user_id ?? 'U1',
    user_name: f.user_name ?? 'alice',
    command: f.command,
    text: f.text,
    api_app_id: 'A1',
    is_enterprise_install: 'false',
    response_url: f.response_url,
    trigger_id: `${Date.now()}.trigger`,
  };
}

export function sendSlashCommand(botUrl: string, secret: string, f: SlashCommandFields, options?: SignOptions): Promise<BotResponse> {
  return postSigned(botUrl, secret, new URLSearchParams(slashCommandPayload(f)).toString(), options);
}

export interface BlockActionFields {
  actionId: string;
  value: string;
  /** ts of the message carrying the button. */
  messageTs: string;
  /** That message as the channel shows it now: Slack sends its text and blocks with the press. */
  message?: { text: string; blocks: any[]; threadTs?: string };
  team_id?: string;
  channel_id?: string;
  user_id?: string;
  response_url: string;
}

export function blockActionPayload(f: BlockActionFields): Record<string, unknown> {
  const team = f.team_id ?? 'T1';
  return {
    type: 'block_actions',
    user: { id: f.user_id ?? 'U1', username: 'alice', name: 'alice', team_id: team },
    api_app_id: 'A1',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: f.messageTs, channel_id: f.channel_id ?? 'C1', is_ephemeral: false },
    trigger_id: `${Date.now()}.trigger`,
    team: { id: team, domain: 'fake' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: f.channel_id ?? 'C1', name: 'ops' },
    message: {
      type: 'message',
      ts: f.messageTs,
      text: f.message?.text ?? '',
      user: 'UBOT',
      bot_id: 'BBOT',
      ...(f.message ? { blocks: f.message.blocks } : {}),
      ...(f.message?.threadTs ? { thread_ts: f.message.threadTs } : {}),
    },
    response_url: f.response_url,
    actions: [
      {
        type: 'button',
        action_id: f.actionId,
        block_id: 'job-actions',
        text: { type: 'plain_text', text: f.actionId },
        value: f.value,
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
}

export function sendBlockAction(botUrl: string, secret: string, f: BlockActionFields, options?: SignOptions): Promise<BotResponse> {
  return postSigned(botUrl, secret, new URLSearchParams({ payload: JSON.stringify(blockActionPayload(f)) }).toString(), options);
}

/** How Slack escapes message text in events: `&`, `<` and `>` as HTML entities. */
export function slackEscapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface MessageEventFields {
  team_id?: string;
  channel: string;
  user: string;
  /** As typed: escaped here as Slack escapes it. */
  text: string;
  /** Set for a reply in a thread. */
  thread_ts?: string;
  /** A message the bot (or another app) posted. */
  bot_id?: string;
  subtype?: string;
  ts?: string;
}

let eventCounter = 0;

/** An Events API `event_callback` carrying a `message` event (message.channels / message.groups). */
export function messageEventPayload(f: MessageEventFields): Record<string, unknown> {
  const team = f.team_id ?? 'T1';
  const ts = f.ts ?? `${Math.floor(Date.now() / 1000)}.${String(900_000 + ++eventCounter).padStart(6, '0')}`;
  return {
    token: 'deprecated-verification-token',
    team_id: team,
    api_app_id: 'A1',
    event: {
      type: 'message',
      channel: f.channel,
      user: f.user,
      text: slackEscapeText(f.text),
      ts,
      team,
      channel_type: f.channel.startsWith('G') ? 'group' : 'channel',
      event_ts: ts,
      ...(f.thread_ts ? { thread_ts: f.thread_ts } : {}),
      ...(f.bot_id ? { bot_id: f.bot_id } : {}),
      ...(f.subtype ? { subtype: f.subtype } : {}),
    },
    type: 'event_callback',
    event_id: `Ev${eventCounter}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: team, user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  };
}

/** POSTs an Events API payload to the bot's `/slack/events` as JSON, signed as Slack signs it. */
export async function sendEvent(
  botUrl: string,
  secret: string,
  payload: Record<string, unknown>,
  options: SignOptions = {},
): Promise<BotResponse> {
  const body = JSON.stringify(payload);
  const ts = options.timestamp ?? Math.floor(Date.now() / 1000);
  const started = Date.now();
  const res = await fetch(botUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': slackSignature(options.secret ?? secret, ts, body),
    },
    body,
  });
  return { status: res.status, body: await res.text(), ms: Date.now() - started };
}

/** Finds the buttons (action_id -> value) in a stored message's blocks. */
export function buttonsOf(blocks: any[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const b of blocks) {
    if (b?.type !== 'actions') continue;
    for (const e of b.elements ?? []) if (e?.type === 'button') out[e.action_id] = e.value;
  }
  return out;
}

/** All mrkdwn/plain text of a message's blocks, joined: what a reader would see. */
export function textOf(blocks: any[]): string {
  const parts: string[] = [];
  for (const b of blocks) {
    if (b?.text?.text) parts.push(b.text.text);
    for (const e of b?.elements ?? []) if (typeof e?.text === 'string') parts.push(e.text);
    for (const f of b?.fields ?? []) if (f?.text) parts.push(f.text);
  }
  return parts.join('\n');
}
