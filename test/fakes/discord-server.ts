import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A local stand-in for Discord at the edge of the world: the REST routes the adapter and
 * discord.js use (under `/api/v10`), and the gateway WebSocket (JSON encoding, no compression):
 * HELLO → IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME with replay, and dispatches the
 * test asks for (INTERACTION_CREATE for commands, buttons and autocomplete).
 *
 * It behaves like Discord where the adapter depends on it: bot routes need `Authorization: Bot
 * <token>`, interaction routes need none; an interaction is acknowledged once; a message Discord
 * would refuse is refused with a 400 (content over 2,000 characters, embeds over their limits,
 * more than 5 rows of at most 5 buttons, labels over 80 characters, custom ids over 100 or
 * repeated); only the flags Discord lets a bot set are kept (SUPPRESS_EMBEDS, and EPHEMERAL on
 * interaction messages; an edit changes SUPPRESS_EMBEDS only), and SUPPRESS_EMBEDS hides every
 * embed of the message; a link in a message without it "unfurls" (recorded in `unfurled`); after
 * a component's interaction is answered with an update (type 6 or 7), its `@original` is the
 * message that carried the component; a thread started from a message gets the message's id and
 * a second one is refused with code 160004; a queued failure answers the next matching call with
 * a 429 (Retry-After and X-RateLimit-* headers, JSON body with retry_after) or a 5xx.
 */

export interface FakeDiscordOptions {
  token: string;
  applicationId: string;
  guildId: string;
  /** Text channels of the guild; the first is the default for interactions. */
  channelIds: string[];
  /** Guild roles besides @everyone. */
  roles?: Array<{ id: string; name: string }>;
  heartbeatIntervalMs?: number;
  /**
   * Deliver the bot's own channel messages back to it as MESSAGE_CREATE, as Discord does (with
   * the GuildMessages intent). Off by default, so suites that do not read messages see the
   * gateway traffic they always saw.
   */
  echoBotMessages?: boolean;
  /**
   * Intents this application may not use (privileged ones not turned on in the Developer
   * Portal): an IDENTIFY asking for any of them is closed with 4014, as Discord does.
   */
  disallowedIntents?: number;
}

export interface RecordedFile {
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface RecordedCall {
  method: string;
  /** Path after `/api/v10`, e.g. `/channels/2/messages`. */
  path: string;
  query: URLSearchParams;
  authorization?: string;
  /** JSON body, or the `payload_json` part of a multipart body. */
  body: any;
  files: RecordedFile[];
  status: number;
  at: number;
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: FakeUser;
  content: string;
  embeds: any[];
  components: any[];
  attachments: any[];
  flags: number;
  webhook_id?: string;
  interaction_token?: string;
  deleted: boolean;
  /** Every body that set this message's content, oldest first (the post, then each edit). */
  history: any[];
  /**
   * The links Discord would preview under the message: every http(s) URL in the content not
   * wrapped in `<…>`, unless the message has SUPPRESS_EMBEDS. Discord unfurls a link in a code
   * block too, so the fake does.
   */
  unfurled: string[];
  allowed_mentions?: unknown;
  thread?: { id: string; name: string };
}

export interface FakeUser {
  id: string;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: null;
  bot?: boolean;
}

export interface FakeInteraction {
  id: string;
  token: string;
  type: number;
  dispatchedAt: number;
  /** The callback (type 4, 5, 6, 7, 8…) with its data, once the bot answered. */
  callback?: { type: number; data?: any; at: number };
  original?: FakeMessage;
  followups: FakeMessage[];
  /** For a component interaction: the message that carried the component. */
  messageId?: string;
}

export interface QueuedFailure {
  method: string;
  path: RegExp;
  status: number;
  retryAfterSeconds?: number;
  global?: boolean;
}

interface Session {
  id: string;
  seq: number;
  /** Every dispatch of the session, for replay on RESUME. */
  events: Array<{ s: number; t: string; d: unknown }>;
  socket?: WebSocket;
}

const EPOCH = 1420070400000n;
let increment = 0n;
/** Discord snowflakes: milliseconds since 2015 shifted left 22 bits, plus a counter. */
export function snowflake(): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(Date.now()) - EPOCH) << 22n) | increment).toString();
}

export class FakeDiscord {
  readonly calls: RecordedCall[] = [];
  readonly messages = new Map<string, FakeMessage>();
  readonly interactions = new Map<string, FakeInteraction>();
  /** Registered commands by scope (`global` or the guild id). */
  readonly commands = new Map<string, any[]>();
  readonly threads = new Map<string, { id: string; parent_id: string; name: string }>();
  readonly gatewayOps: Array<{ op: number; d: any }> = [];
  identifies = 0;
  resumes = 0;
  /** The intents the bot's last IDENTIFY asked for (a bit set, as Discord reads it). */
  intents = 0;
  readonly botUser: FakeUser;
  private readonly failures: QueuedFailure[] = [];
  private session?: Session;
  private readonly waiters = new Set<() => void>();
  private port = 0;

  private constructor(
    readonly options: FakeDiscordOptions,
    private readonly http: Server,
    private readonly wss: WebSocketServer,
  ) {
    this.botUser = {
      id: options.applicationId,
      username: 'chatops',
      discriminator: '0',
      global_name: 'ChatOps',
      avatar: null,
      bot: true,
    };
  }

  static async start(options: FakeDiscordOptions): Promise<FakeDiscord> {
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true });
    const fake = new FakeDiscord(options, http, wss);
    http.on('request', (req, res) => void fake.onRequest(req, res));
    http.on('upgrade', (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => fake.onSocket(ws, req));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    fake.port = (http.address() as AddressInfo).port;
    return fake;
  }

  /** What DISCORD_API_URL is set to: @discordjs/rest appends `/v10`. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }

  get connected(): boolean {
    return this.session?.socket?.readyState === 1;
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  /** Answers the next call matching `method` and `path` with a failure, once. */
  failNext(f: QueuedFailure): void {
    this.failures.push(f);
  }

  /** Resolves when `predicate` holds (checked after every call and gateway event). */
  async waitFor<T>(what: string, predicate: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = predicate();
      if (v !== undefined && v !== false) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.min(left, 200));
        function done(): void {
          clearTimeout(t);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  callsTo(method: string, path: RegExp): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && path.test(c.path));
  }

  /** Messages visible in a channel (or thread), oldest first, deleted ones left out. */
  channelMessages(channelId: string): FakeMessage[] {
    return [...this.messages.values()].filter((m) => m.channel_id === channelId && !m.deleted && !m.webhook_id);
  }

  private notify(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  // ---------------------------------------------------------------- gateway

  /** Dispatches an event to the bot (buffered for replay when the connection is down). */
  dispatch(t: string, d: unknown): number {
    const session = this.session;
    if (!session) throw new Error('no gateway session: the bot has not identified');
    const s = ++session.seq;
    session.events.push({ s, t, d });
    if (session.socket?.readyState === 1) session.socket.send(JSON.stringify({ op: 0, s, t, d }));
    return s;
  }

  /**
   * Sends an interaction already delivered once again, byte for byte (same id and token): what a
   * captured and replayed INTERACTION_CREATE would look like. Discord itself refuses a second
   * callback for it (40060), as this fake does.
   */
  replayInteraction(id: string): number {
    const raw = this.session?.events.find((e) => e.t === 'INTERACTION_CREATE' && (e.d as { id?: string }).id === id);
    if (!raw) throw new Error(`no interaction ${id} was dispatched`);
    return this.dispatch('INTERACTION_CREATE', raw.d);
  }

  /** Closes the bot's gateway connection with a resumable close code (4000: unknown error). */
  dropConnection(code = 4000): void {
    this.session?.socket?.close(code, 'fake: dropped');
    if (this.session) this.session.socket = undefined;
  }

  private onSocket(ws: WebSocket, req: IncomingMessage): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.searchParams.get('encoding') !== 'json' || url.searchParams.has('compress')) {
      ws.close(4002, 'fake supports only encoding=json without compression');
      return;
    }
    const send = (p: object): void => ws.send(JSON.stringify(p));
    send({ op: 10, d: { heartbeat_interval: this.options.heartbeatIntervalMs ?? 41_250 }, s: null, t: null });
    ws.on('message', (raw) => {
      let p: { op: number; d: any };
      try {
        p = JSON.parse(raw.toString());
      } catch {
        ws.close(4002, 'decode error');
        return;
      }
      this.gatewayOps.push(p);
      switch (p.op) {
        case 1:
          send({ op: 11, d: null, s: null, t: null });
          break;
        case 2: {
          if (p.d?.token !== this.options.token) {
            ws.close(4004, 'Authentication failed.');
            return;
          }
          if (Number(p.d?.intents ?? 0) & (this.options.disallowedIntents ?? 0)) {
            ws.close(4014, 'Disallowed intent(s).');
            return;
          }
          this.identifies++;
          this.intents = Number(p.d?.intents ?? 0);
          this.session = { id: randomBytes(16).toString('hex'), seq: 0, events: [], socket: ws };
          this.dispatch('READY', {
            v: 10,
            user: this.botUser,
            guilds: [{ id: this.options.guildId, unavailable: true }],
            session_id: this.session.id,
            resume_gateway_url: this.gatewayUrl,
            shard: [0, 1],
            application: { id: this.options.applicationId, flags: 0 },
            private_channels: [],
            user_settings: {},
            presences: [],
            relationships: [],
            guild_join_requests: [],
            geo_ordered_rtc_regions: [],
          });
          this.dispatch('GUILD_CREATE', this.guildPayload());
          break;
        }
        case 6: {
          const session = this.session;
          if (!session || p.d?.session_id !== session.id || p.d?.token !== this.options.token) {
            send({ op: 9, d: false, s: null, t: null });
            return;
          }
          this.resumes++;
          session.socket = ws;
          for (const e of session.events.filter((ev) => ev.s > Number(p.d.seq))) {
            send({ op: 0, s: e.s, t: e.t, d: e.d });
          }
          this.dispatch('RESUMED', {});
          break;
        }
        default:
          break;
      }
      this.notify();
    });
  }

  private guildPayload(): object {
    const { guildId, channelIds, roles = [] } = this.options;
    return {
      id: guildId,
      name: 'Test guild',
      icon: null,
      splash: null,
      discovery_splash: null,
      owner_id: '1',
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      roles: [
        {
          id: guildId,
          name: '@everyone',
          permissions: '0',
          position: 0,
          color: 0,
          hoist: false,
          managed: false,
          mentionable: false,
          flags: 0,
        },
        ...roles.map((r, i) => ({
          id: r.id,
          name: r.name,
          permissions: '0',
          position: i + 1,
          color: 0,
          hoist: false,
          managed: false,
          mentionable: false,
          flags: 0,
        })),
      ],
      emojis: [],
      stickers: [],
      features: [],
      mfa_level: 0,
      system_channel_id: null,
      system_channel_flags: 0,
      rules_channel_id: null,
      joined_at: new Date().toISOString(),
      large: false,
      unavailable: false,
      member_count: 1,
      voice_states: [],
      members: [{ user: this.botUser, roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 }],
      channels: channelIds.map((id, i) => ({
        id,
        type: 0,
        guild_id: guildId,
        name: `channel-${i + 1}`,
        position: i,
        permission_overwrites: [],
        topic: null,
        nsfw: false,
        last_message_id: null,
        parent_id: null,
        rate_limit_per_user: 0,
      })),
      threads: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      premium_tier: 0,
      preferred_locale: 'en-US',
      nsfw_level: 0,
      premium_progress_bar_enabled: false,
    };
  }

  // ----------------------------------------------------------- interactions

  private member(user: { id: string; name: string; roles?: string[] }): object {
    return {
      user: { id: user.id, username: user.name.toLowerCase(), discriminator: '0', global_name: user.name, avatar: null },
      roles: user.roles ?? [],
      joined_at: new Date().toISOString(),
      deaf: false,
      mute: false,
      flags: 0,
      nick: null,
      avatar: null,
      permissions: '2248473465835073',
    };
  }

  private interactionBase(type: number, channelId: string, user: { id: string; name: string; roles?: string[] }): any {
    const id = snowflake();
    const token = `itok_${randomBytes(24).toString('base64url')}`;
    this.interactions.set(id, { id, token, type, dispatchedAt: Date.now(), followups: [] });
    return {
      id,
      application_id: this.options.applicationId,
      type,
      token,
      version: 1,
      guild_id: this.options.guildId,
      channel_id: channelId,
      channel: this.threads.has(channelId)
        ? {
            id: channelId,
            type: 11,
            guild_id: this.options.guildId,
            parent_id: this.threads.get(channelId)!.parent_id,
            name: this.threads.get(channelId)!.name,
            thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: new Date().toISOString(), locked: false },
            permissions: '2248473465835073',
          }
        : { id: channelId, type: 0, guild_id: this.options.guildId, name: 'channel', permissions: '2248473465835073' },
      member: this.member(user),
      app_permissions: '2248473465835073',
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': this.options.guildId },
      context: 0,
      attachment_size_limit: 10_485_760,
    };
  }

  private commandId(name: string): string {
    for (const list of this.commands.values()) {
      const c = list.find((x) => x.name === name);
      if (c) return c.id as string;
    }
    throw new Error(`command /${name} is not registered`);
  }

  /**
   * A slash command as Discord sends it. `options` are the top-level options (or, for a
   * subcommand, `{ sub: 'receive', options: [...] }`), each `{ name, type, value }`.
   */
  sendCommand(
    name: string,
    options: any[],
    opts: { user?: { id: string; name: string; roles?: string[] }; channelId?: string } = {},
  ): FakeInteraction {
    const user = opts.user ?? { id: '5001', name: 'Alice' };
    const i = this.interactionBase(2, opts.channelId ?? this.options.channelIds[0]!, user);
    i.data = { id: this.commandId(name), name, type: 1, guild_id: this.options.guildId, options };
    this.dispatch('INTERACTION_CREATE', i);
    return this.interactions.get(i.id)!;
  }

  /** An autocomplete request; one option carries `focused: true`. */
  sendAutocomplete(
    name: string,
    options: any[],
    opts: { user?: { id: string; name: string; roles?: string[] }; channelId?: string } = {},
  ): FakeInteraction {
    const user = opts.user ?? { id: '5001', name: 'Alice' };
    const i = this.interactionBase(4, opts.channelId ?? this.options.channelIds[0]!, user);
    i.data = { id: this.commandId(name), name, type: 1, guild_id: this.options.guildId, options };
    this.dispatch('INTERACTION_CREATE', i);
    return this.interactions.get(i.id)!;
  }

  /**
   * A button press on a message the bot posted. `{ forgedIn: channelId }` instead of a message
   * id makes up a message in that channel (a forged or replayed component payload).
   */
  pressButton(
    message: string | { forgedIn: string },
    customId: string,
    opts: { user?: { id: string; name: string; roles?: string[] } } = {},
  ): FakeInteraction {
    const m = typeof message === 'string' ? this.messages.get(message) : this.newMessage(message.forgedIn, { content: 'forged' }, []);
    if (!m) throw new Error(`no message ${String(message)}`);
    if (typeof message !== 'string') m.deleted = true; // not part of the channel's visible history
    const user = opts.user ?? { id: '5001', name: 'Alice' };
    const i = this.interactionBase(3, m.channel_id, user);
    i.data = { custom_id: customId, component_type: 2 };
    i.message = this.messageObject(m);
    const it = this.interactions.get(i.id)!;
    it.messageId = m.id;
    this.dispatch('INTERACTION_CREATE', i);
    return it;
  }

  /**
   * A member's plain message in a channel or thread, as Discord delivers it: stored, then sent as
   * MESSAGE_CREATE (author, partial member with roles). As Discord does, nothing is dispatched
   * without the GuildMessages intent, and without MessageContent (privileged) the content,
   * embeds, attachments and components arrive empty (the bot is not mentioned in them).
   */
  sendMessage(
    channelId: string,
    content: string,
    opts: { user?: { id: string; name: string; roles?: string[]; bot?: boolean } } = {},
  ): FakeMessage {
    if (!this.channelExists(channelId)) throw new Error(`no channel ${channelId}`);
    const user = opts.user ?? { id: '5001', name: 'Alice' };
    const author: FakeUser = {
      id: user.id,
      username: user.name.toLowerCase(),
      discriminator: '0',
      global_name: user.name,
      avatar: null,
      ...(user.bot ? { bot: true } : {}),
    };
    const m = this.newMessage(channelId, { content }, [], { author });
    if (this.intents & GUILD_MESSAGES) this.dispatchMessageCreate(m, user.roles ?? []);
    return m;
  }

  private dispatchMessageCreate(m: FakeMessage, roles: string[]): void {
    const readable = (this.intents & MESSAGE_CONTENT) !== 0;
    const { user: _user, ...member } = this.member({ id: m.author.id, name: m.author.global_name ?? m.author.username, roles }) as Record<
      string,
      unknown
    >;
    this.dispatch('MESSAGE_CREATE', {
      ...this.messageObject(m),
      ...(readable ? {} : { content: '', embeds: [], attachments: [], components: [] }),
      member,
    });
  }

  // ------------------------------------------------------------------- REST

  private messageObject(m: FakeMessage): object {
    return {
      id: m.id,
      channel_id: m.channel_id,
      ...(m.guild_id ? { guild_id: m.guild_id } : {}),
      author: m.author,
      content: m.content,
      embeds: m.embeds,
      components: m.components,
      attachments: m.attachments,
      flags: m.flags,
      timestamp: new Date().toISOString(),
      edited_timestamp: m.history.length > 1 ? new Date().toISOString() : null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      pinned: false,
      type: m.webhook_id ? 20 : 0,
      ...(m.webhook_id ? { webhook_id: m.webhook_id, application_id: this.options.applicationId } : {}),
      ...(m.thread ? { thread: { id: m.thread.id, name: m.thread.name, type: 11, parent_id: m.channel_id } } : {}),
    };
  }

  private channelExists(id: string): boolean {
    return this.options.channelIds.includes(id) || this.threads.has(id);
  }

  private newMessage(channelId: string, body: any, files: RecordedFile[], extra: Partial<FakeMessage> = {}): FakeMessage {
    // A bot may set only these when it creates a message; EPHEMERAL only on an interaction's
    // messages. Anything else it sends is not set.
    const settable = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | (extra.webhook_id ? EPHEMERAL : 0);
    const loading = (extra.flags ?? 0) & LOADING;
    body = { ...body, flags: (Number(body?.flags ?? 0) & settable) | loading };
    const m: FakeMessage = {
      id: snowflake(),
      channel_id: channelId,
      guild_id: this.options.guildId,
      author: this.botUser,
      content: '',
      embeds: [],
      components: [],
      attachments: [],
      flags: 0,
      deleted: false,
      history: [],
      unfurled: [],
      ...extra,
    };
    this.applyBody(m, body, files, true);
    this.messages.set(m.id, m);
    return m;
  }

  private applyBody(m: FakeMessage, body: any, files: RecordedFile[], creating = false): void {
    if (body?.content !== undefined) m.content = String(body.content);
    if (body?.embeds !== undefined) m.embeds = body.embeds;
    if (body?.components !== undefined) m.components = body.components;
    if (body?.flags !== undefined && body.flags !== null) {
      // An edit may set or clear SUPPRESS_EMBEDS only; every other flag stays as it was.
      m.flags = creating ? Number(body.flags) : (m.flags & ~SUPPRESS_EMBEDS) | (Number(body.flags) & SUPPRESS_EMBEDS);
    }
    // "Do not include any embeds when serializing this message": the bot's own embeds as well.
    if (m.flags & SUPPRESS_EMBEDS) m.embeds = [];
    m.unfurled = m.flags & SUPPRESS_EMBEDS ? [] : links(m.content);
    if (body?.allowed_mentions !== undefined) m.allowed_mentions = body.allowed_mentions;
    if (files.length > 0) {
      m.attachments = files.map((f, i) => ({
        id: snowflake(),
        filename: f.filename,
        size: f.data.length,
        content_type: f.contentType,
        url: `http://127.0.0.1:${this.port}/attachments/${m.id}/${i}/${f.filename}`,
        proxy_url: `http://127.0.0.1:${this.port}/attachments/${m.id}/${i}/${f.filename}`,
      }));
    }
    m.history.push({ ...body, files: files.map((f) => ({ filename: f.filename, data: f.data.toString('utf8') })) });
  }

  private validateBody(body: any, files: RecordedFile[] = [], creating = false): string | undefined {
    const empty =
      (body?.content ?? '') === '' && (body?.embeds ?? []).length === 0 && files.length === 0 && (body?.components ?? []).length === 0;
    if (creating && empty) return 'Cannot send an empty message';
    if (typeof body?.content === 'string' && body.content.length > 2000) {
      return 'content: Must be 2000 or fewer in length.';
    }
    return validateEmbeds(body?.embeds ?? []) ?? validateComponents(body?.components ?? []);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const raw = await readBody(req);
    const method = req.method ?? 'GET';
    if (!url.pathname.startsWith('/api/v10/')) {
      res.writeHead(404).end();
      return;
    }
    const path = decodeURIComponent(url.pathname.slice('/api/v10'.length));
    let body: any;
    let files: RecordedFile[] = [];
    const ctype = req.headers['content-type'] ?? '';
    if (ctype.startsWith('multipart/form-data')) {
      const parts = parseMultipart(raw, ctype);
      const pj = parts.find((p) => p.field === 'payload_json');
      body = pj ? JSON.parse(pj.data.toString('utf8')) : {};
      files = parts.filter((p) => p.field !== 'payload_json');
    } else if (raw.length > 0) {
      body = JSON.parse(raw.toString('utf8'));
    }
    const call: RecordedCall = {
      method,
      path,
      query: url.searchParams,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      body,
      files,
      status: 0,
      at: Date.now(),
    };
    this.calls.push(call);
    const reply = (status: number, json?: unknown, headers: Record<string, string> = {}): void => {
      call.status = status;
      if (json === undefined) res.writeHead(status, headers).end();
      else res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(json));
      this.notify();
    };

    const fi = this.failures.findIndex((f) => f.method === method && f.path.test(path));
    if (fi >= 0) {
      const f = this.failures.splice(fi, 1)[0]!;
      if (f.status === 429) {
        const after = f.retryAfterSeconds ?? 0.2;
        reply(
          429,
          { message: 'You are being rate limited.', retry_after: after, global: f.global ?? false },
          {
            'retry-after': String(after),
            'x-ratelimit-limit': '5',
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset': String(Date.now() / 1000 + after),
            'x-ratelimit-reset-after': String(after),
            'x-ratelimit-bucket': 'fake-bucket',
            'x-ratelimit-scope': f.global ? 'global' : 'user',
            ...(f.global ? { 'x-ratelimit-global': 'true' } : {}),
          },
        );
      } else {
        reply(f.status, { message: 'fake: injected failure', code: 0 });
      }
      return;
    }

    const botAuth = req.headers.authorization === `Bot ${this.options.token}`;
    const app = this.options.applicationId;
    let m: RegExpExecArray | null;

    // Interaction routes are authenticated by the interaction token in the path.
    if ((m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path)) && method === 'POST') {
      const it = this.interactions.get(m[1]!);
      if (!it || it.token !== m[2]) return reply(404, { message: 'Unknown interaction', code: 10062 });
      if (it.callback) return reply(400, { message: 'Interaction has already been acknowledged.', code: 40060 });
      if (body?.type === 4 || body?.type === 7) {
        const bad = this.validateBody(body?.data ?? {}, files, body?.type === 4);
        if (bad) return reply(400, { message: `Invalid Form Body: ${bad}`, code: 50035 });
      }
      if ((body?.type === 6 || body?.type === 7) && it.messageId === undefined) {
        return reply(400, { message: 'Interaction callback type is only valid for component interactions', code: 50035 });
      }
      it.callback = { type: body?.type, data: body?.data, at: Date.now() };
      if (body?.type === 6 || body?.type === 7) {
        // Updating the message the component was on: that message is now the original response.
        it.original = this.messages.get(it.messageId!);
        if (body.type === 7 && it.original) this.applyBody(it.original, body.data ?? {}, files);
      }
      if (body?.type === 4 || body?.type === 5) {
        const data = body.type === 5 ? { flags: body.data?.flags ?? 0 } : (body.data ?? {});
        it.original = this.newMessage(this.channelOfInteraction(it), { content: '', ...data }, files, {
          webhook_id: app,
          interaction_token: it.token,
          ...(body.type === 5 ? { flags: LOADING } : {}),
        });
      }
      return reply(204);
    }
    if ((m = /^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/([^/]+))?$/.exec(path))) {
      const it = [...this.interactions.values()].find((x) => x.token === m![2]);
      if (m[1] !== app || !it || !it.callback) return reply(404, { message: 'Unknown Webhook', code: 10015 });
      const target = m[3];
      if (target === undefined && method === 'POST') {
        const bad = this.validateBody(body, files, true);
        if (bad) return reply(400, { message: `Invalid Form Body: ${bad}`, code: 50035 });
        const msg = this.newMessage(this.channelOfInteraction(it), body, files, {
          webhook_id: app,
          interaction_token: it.token,
        });
        it.followups.push(msg);
        return reply(200, this.messageObject(msg));
      }
      const msg = target === '@original' ? it.original : it.followups.find((f) => f.id === target);
      if (!msg || msg.deleted) return reply(404, { message: 'Unknown Message', code: 10008 });
      if (method === 'PATCH') {
        const bad = this.validateBody(body);
        if (bad) return reply(400, { message: `Invalid Form Body: ${bad}`, code: 50035 });
        this.applyBody(msg, body, files);
        msg.flags &= ~128;
        return reply(200, this.messageObject(msg));
      }
      if (method === 'DELETE') {
        msg.deleted = true;
        return reply(204);
      }
      if (method === 'GET') return reply(200, this.messageObject(msg));
      return reply(405, { message: '405: Method Not Allowed', code: 0 });
    }

    if (!botAuth) return reply(401, { message: '401: Unauthorized', code: 0 });

    if (path === '/gateway/bot' && method === 'GET') {
      return reply(200, {
        url: this.gatewayUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
      });
    }
    if (path === '/users/@me' && method === 'GET') return reply(200, this.botUser);
    if ((m = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path))) {
      if (m[1] !== app) return reply(403, { message: 'Missing Access', code: 50001 });
      const scope = m[2] ?? 'global';
      if (m[2] !== undefined && m[2] !== this.options.guildId) return reply(403, { message: 'Missing Access', code: 50001 });
      if (method === 'PUT') {
        const bad = validateCommands(body);
        if (bad) return reply(400, { message: `Invalid Form Body: ${bad}`, code: 50035 });
        const list = (body as any[]).map((c) => ({ ...c, id: snowflake(), application_id: app, version: snowflake() }));
        this.commands.set(scope, list);
        return reply(200, list);
      }
      if (method === 'GET') return reply(200, this.commands.get(scope) ?? []);
    }
    if ((m = /^\/channels\/(\d+)\/messages$/.exec(path)) && method === 'POST') {
      if (!this.channelExists(m[1]!)) return reply(404, { message: 'Unknown Channel', code: 10003 });
      const bad = this.validateBody(body, files, true);
      if (bad) return reply(400, { message: `Invalid Form Body: ${bad}`, code: 50035 });
      const msg = this.newMessage(m[1]!, body, files);
      if (this.options.echoBotMessages && this.intents & GUILD_MESSAGES && this.session) this.dispatchMessageCreate(msg, []);
      return reply(200, this.messageObject(msg));
    }
    if ((m = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path))) {
      const msg = this.messages.get(m[2]!);
      if (!msg || msg.channel_id !== m[1] || msg.deleted) return reply(404, { message: 'Unknown Message', code: 10008 });
      if (method === 'PATCH') {
        const bad = this.validateBody(body);
        if (bad) return reply(400, { message: `Invalid Form Body: ${bad}`, code: 50035 });
        this.applyBody(msg, body, files);
        return reply(200, this.messageObject(msg));
      }
      if (method === 'GET') return reply(200, this.messageObject(msg));
      if (method === 'DELETE') {
        msg.deleted = true;
        return reply(204);
      }
    }
    if ((m = /^\/channels\/(\d+)\/messages\/(\d+)\/threads$/.exec(path)) && method === 'POST') {
      const msg = this.messages.get(m[2]!);
      if (!msg || msg.channel_id !== m[1]) return reply(404, { message: 'Unknown Message', code: 10008 });
      if (this.threads.has(m[1]!)) {
        return reply(400, { message: 'Cannot execute action on this channel type', code: 50024 });
      }
      if (msg.thread) {
        return reply(400, { message: 'A thread has already been created for this message', code: 160004 });
      }
      const name = String(body?.name ?? '');
      if (name.length < 1 || name.length > 100) {
        return reply(400, { message: 'Invalid Form Body: name must be 1 to 100 characters', code: 50035 });
      }
      const thread = { id: msg.id, parent_id: m[1]!, name };
      this.threads.set(thread.id, thread);
      msg.thread = { id: thread.id, name };
      const channel = {
        id: thread.id,
        type: 11,
        guild_id: this.options.guildId,
        parent_id: m[1],
        name,
        owner_id: this.botUser.id,
        message_count: 0,
        member_count: 1,
        rate_limit_per_user: 0,
        thread_metadata: {
          archived: false,
          auto_archive_duration: body?.auto_archive_duration ?? 1440,
          archive_timestamp: new Date().toISOString(),
          locked: false,
        },
        total_message_sent: 0,
      };
      if (this.session) this.dispatch('THREAD_CREATE', { ...channel, newly_created: true });
      return reply(201, channel);
    }
    return reply(404, { message: `fake: no route ${method} ${path}`, code: 0 });
  }

  private channelOfInteraction(it: FakeInteraction): string {
    const e = this.session?.events.find((ev) => ev.t === 'INTERACTION_CREATE' && (ev.d as any).id === it.id);
    return ((e?.d as any)?.channel_id as string | undefined) ?? this.options.channelIds[0]!;
  }
}

/** Discord's rules for command definitions that a mistake would break. */
function validateCommands(cmds: any[]): string | undefined {
  if (!Array.isArray(cmds) || cmds.length > 100) return 'expected at most 100 commands';
  const check = (o: any, where: string): string | undefined => {
    if (typeof o.name !== 'string' || !/^[-_\p{Ll}\p{N}]{1,32}$/u.test(o.name)) return `${where}.name invalid: ${o.name}`;
    if (typeof o.description !== 'string' || o.description.length < 1 || o.description.length > 100) {
      return `${where}.description must be 1 to 100 characters`;
    }
    const opts: any[] = o.options ?? [];
    if (opts.length > 25) return `${where}.options: at most 25`;
    let optionalSeen = false;
    for (const [k, x] of opts.entries()) {
      if (x.required && optionalSeen) return `${where}.options[${k}]: required options must come first`;
      if (!x.required) optionalSeen = true;
      if (x.autocomplete && ![3, 4, 10].includes(x.type)) return `${where}.options[${k}]: autocomplete needs a string or number type`;
      const inner = check(x, `${where}.options[${k}]`);
      if (inner) return inner;
    }
    return undefined;
  };
  for (const [k, c] of cmds.entries()) {
    const bad = check(c, `[${k}]`);
    if (bad) return bad;
    const perms = c.default_member_permissions;
    if (perms !== undefined && perms !== null && (typeof perms !== 'string' || !/^\d+$/.test(perms))) {
      return `[${k}].default_member_permissions must be a permission bit set as a string of digits, or null`;
    }
    if (
      c.contexts !== undefined &&
      c.contexts !== null &&
      (!Array.isArray(c.contexts) || c.contexts.some((x: unknown) => ![0, 1, 2].includes(x as number)))
    ) {
      return `[${k}].contexts must list interaction context types (0, 1, 2)`;
    }
  }
  return undefined;
}

/** Discord's embed limits; the total counts every embed of the message. */
function validateEmbeds(embeds: any[]): string | undefined {
  if (!Array.isArray(embeds)) return 'embeds must be an array';
  if (embeds.length > 10) return 'embeds: Must be 10 or fewer in length.';
  let total = 0;
  for (const e of embeds) {
    const text = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
    if (text(e.title).length > 256) return 'embeds.title: Must be 256 or fewer in length.';
    if (text(e.description).length > 4096) return 'embeds.description: Must be 4096 or fewer in length.';
    if (text(e.footer?.text).length > 2048) return 'embeds.footer.text: Must be 2048 or fewer in length.';
    if (text(e.author?.name).length > 256) return 'embeds.author.name: Must be 256 or fewer in length.';
    const fields: any[] = e.fields ?? [];
    if (fields.length > 25) return 'embeds.fields: Must be 25 or fewer in length.';
    for (const f of fields) {
      if (text(f.name).length < 1 || text(f.name).length > 256) return 'embeds.fields.name: Must be between 1 and 256 in length.';
      if (text(f.value).length < 1 || text(f.value).length > 1024) return 'embeds.fields.value: Must be between 1 and 1024 in length.';
    }
    total +=
      text(e.title).length +
      text(e.description).length +
      text(e.footer?.text).length +
      text(e.author?.name).length +
      fields.reduce((n: number, f: any) => n + text(f.name).length + text(f.value).length, 0);
  }
  if (total > 6000) return 'embeds: Embed size exceeds maximum size of 6000';
  return undefined;
}

/** Discord's rules for buttons: at most 5 rows of at most 5, labels and ids within limits, ids unique. */
function validateComponents(rows: any[]): string | undefined {
  if (!Array.isArray(rows)) return 'components must be an array';
  if (rows.length > 5) return 'components: Must be 5 or fewer in length.';
  const ids = new Set<string>();
  for (const row of rows) {
    if (row?.type !== 1) return 'components: a top-level component must be an action row';
    const items: any[] = row.components ?? [];
    if (items.length < 1 || items.length > 5) return 'components.components: Must be between 1 and 5 in length.';
    for (const b of items) {
      if (b?.type !== 2) continue;
      if (typeof b.label === 'string' && b.label.length > 80) return 'components.components.label: Must be 80 or fewer in length.';
      if (b.style === 5) continue; // a link button has a url, no custom id
      const id = b.custom_id;
      if (typeof id !== 'string' || id.length < 1 || id.length > 100)
        return 'components.components.custom_id: Must be between 1 and 100 in length.';
      if (ids.has(id)) return 'components.components.custom_id: Component custom id cannot be duplicated';
      ids.add(id);
    }
  }
  return undefined;
}

/** Gateway intents (discord.com/developers/docs/events/gateway#gateway-intents). */
const GUILD_MESSAGES = 1 << 9;
const MESSAGE_CONTENT = 1 << 15;

const SUPPRESS_EMBEDS = 1 << 2;
const EPHEMERAL = 1 << 6;
const LOADING = 1 << 7;
const SUPPRESS_NOTIFICATIONS = 1 << 12;

/** The http(s) links in content that Discord would preview (`<…>` around a link stops it). */
function links(content: string): string[] {
  return [...content.matchAll(/(?<!<)https?:\/\/[^\s<>]+/gi)].map((m) => m[0]);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A small multipart/form-data reader: enough for payload_json and files[n] parts. */
function parseMultipart(raw: Buffer, contentType: string): RecordedFile[] {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) return [];
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  const parts: RecordedFile[] = [];
  let pos = raw.indexOf(boundary);
  while (pos >= 0) {
    const start = pos + boundary.length;
    if (raw.subarray(start, start + 2).toString() === '--') break;
    const next = raw.indexOf(boundary, start);
    if (next < 0) break;
    const part = raw.subarray(start + 2, next - 2); // skip CRLF after boundary and before the next
    const sep = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, sep).toString('utf8');
    const data = part.subarray(sep + 4);
    const field = /name="([^"]*)"/.exec(head)?.[1] ?? '';
    const filename = /filename="([^"]*)"/.exec(head)?.[1] ?? '';
    const ct = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? '';
    parts.push({ field, filename, contentType: ct, data: Buffer.from(data) });
    pos = next;
  }
  return parts;
}
