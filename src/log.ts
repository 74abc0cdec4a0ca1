/**
 * A small levelled logger writing one line per event to stderr. Secrets never reach it in the
 * clear: `maskSecrets` runs over every line, and callers register the secrets they hold
 * (tokens from config, agent secrets) with `addSecret` as soon as they learn them.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /**
   * Registers a value that must never be printed; it is replaced by `***`. Only for secrets the
   * process holds or has verified (its own settings, a credential it checked): never for a value
   * a peer merely presented. The list is bounded (MAX_MASKED_SECRETS); credentials of our own
   * format need no registration, SECRET_PATTERNS masks them.
   */
  addSecret(secret: string): void;
  /** How many secrets are registered (tests count it: it must not grow with peers' input). */
  maskedCount(): number;
}

/** Masking costs one pass over each log line per secret: a handful of settings, never thousands. */
export const MAX_MASKED_SECRETS = 64;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Shapes of credentials worth masking even when nobody registered them. */
const SECRET_PATTERNS: RegExp[] = [
  /xox[abposr]-[A-Za-z0-9-]+/g, // Slack tokens
  /xapp-[A-Za-z0-9-]+/g, // Slack app-level tokens
  /\b[MN][A-Za-z\d_-]{23,25}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}\b/g, // Discord bot tokens
  /\b(cht|chs)_[A-Za-z0-9_-]{16,}\b/g, // our enrolment tokens and agent secrets
];

export function maskSecrets(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  for (const s of secrets) if (s.length >= 6) out = out.split(s).join('***');
  for (const p of SECRET_PATTERNS) out = out.replace(p, '***');
  return out;
}

/**
 * Log lines reach a terminal too: control characters a peer put in a name or a reason (C0 but
 * newline and tab, DEL, and C1, which JSON.stringify leaves raw) are written as `\u` escapes.
 */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

function showControls(line: string): string {
  return line.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Logger {
  const secrets = new Set<string>();
  let full = false;
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    const extra = fields && Object.keys(fields).length > 0 ? ' ' + JSON.stringify(fields) : '';
    write(showControls(maskSecrets(`${new Date().toISOString()} ${lvl.toUpperCase()} ${msg}${extra}`, secrets)));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    addSecret: (s) => {
      if (s.length < 6 || secrets.has(s)) return;
      if (secrets.size >= MAX_MASKED_SECRETS) {
        // A bug, not an attack (only verified secrets come here): say so once, loudly.
        if (!full)
          write(
            `${new Date().toISOString()} ERROR more than ${MAX_MASKED_SECRETS} secrets registered for masking; later ones are not masked`,
          );
        full = true;
        return;
      }
      secrets.add(s);
    },
    maskedCount: () => secrets.size,
  };
}

/** For tests and tools that must stay quiet. */
export const silentLogger: Logger = createLogger('error', () => {});
