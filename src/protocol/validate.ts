import type { AgentToHub, HubToAgent, OutputStream, RunState } from './agent-protocol.js';

/**
 * Strict shape checks for every frame received, on both sides. A frame that fails is a protocol
 * error: the receiver closes the connection with the returned reason. Unknown extra fields are
 * ignored so a newer peer can add optional fields without breaking an older one.
 */
export type Parsed<T> = { ok: true; message: T } | { ok: false; reason: string };

const STREAMS: ReadonlySet<string> = new Set(['output', 'error', 'warning', 'verbose', 'debug', 'information', 'progress']);
const STATES: ReadonlySet<string> = new Set(['Running', 'Completed', 'Failed', 'Stopped']);

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown, max = 1 << 20): v is string => typeof v === 'string' && v.length <= max;
const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStrList = (v: unknown, maxItems = 256): v is string[] => Array.isArray(v) && v.length <= maxItems && v.every((x) => isStr(x, 256));
// eslint-disable-next-line no-control-regex
export const isRunId = (v: unknown): v is string => isStr(v, 200) && v.length > 0 && !/[\u0000-\u001f\u007f]/.test(v);

function parseJson(text: string): Parsed<Obj> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'frame is not valid JSON' };
  }
  if (!isObj(v)) return { ok: false, reason: 'frame is not a JSON object' };
  if (typeof v.op !== 'string') return { ok: false, reason: 'frame has no op' };
  return { ok: true, message: v };
}

const bad = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

export function parseAgentMessage(text: string): Parsed<AgentToHub> {
  const p = parseJson(text);
  if (!p.ok) return p;
  const m = p.message;
  switch (m.op) {
    case 'hello': {
      if (!isNonNegInt(m.protocol)) return bad('hello.protocol must be an integer');
      if (!isStr(m.name, 256)) return bad('hello.name must be a string');
      if (m.token !== undefined && !isStr(m.token, 256)) return bad('hello.token must be a string');
      if (m.secret !== undefined && !isStr(m.secret, 256)) return bad('hello.secret must be a string');
      if ((m.token === undefined) === (m.secret === undefined)) return bad('hello needs exactly one of token or secret');
      if (!isStr(m.os, 256) || !isStr(m.version, 256)) return bad('hello.os and hello.version must be strings');
      if (!isStrList(m.tags) || !isStrList(m.configurations)) return bad('hello.tags and hello.configurations must be string lists');
      if (!isStr(m.defaultConfiguration, 256)) return bad('hello.defaultConfiguration must be a string');
      if (m.sessions !== undefined && !(Array.isArray(m.sessions) && m.sessions.length <= 10_000 && m.sessions.every(isRunId)))
        return bad('hello.sessions must be a list of session ids');
      return {
        ok: true,
        message: {
          op: 'hello',
          protocol: m.protocol,
          name: m.name,
          ...(m.token !== undefined ? { token: m.token as string } : {}),
          ...(m.secret !== undefined ? { secret: m.secret as string } : {}),
          os: m.os,
          version: m.version,
          tags: m.tags,
          configurations: m.configurations,
          defaultConfiguration: m.defaultConfiguration,
          ...(m.sessions !== undefined ? { sessions: m.sessions as string[] } : {}),
        },
      };
    }
    case 'output':
      if (!isRunId(m.runId)) return bad('output.runId is not valid');
      if (!isSeq(m.seq)) return bad('output.seq must be a positive integer');
      if (!isStr(m.stream) || !STREAMS.has(m.stream)) return bad('output.stream is not a known stream');
      if (!isStr(m.data)) return bad('output.data must be a string');
      if (typeof m.at !== 'number' || !Number.isFinite(m.at)) return bad('output.at must be a number');
      return {
        ok: true,
        message: { op: 'output', runId: m.runId, seq: m.seq, stream: m.stream as OutputStream, data: m.data, at: m.at },
      };
    case 'state':
      if (!isRunId(m.runId)) return bad('state.runId is not valid');
      if (!isSeq(m.seq)) return bad('state.seq must be a positive integer');
      if (!isStr(m.state) || !STATES.has(m.state)) return bad('state.state is not a known state');
      if (m.exitCode !== undefined && (typeof m.exitCode !== 'number' || !Number.isInteger(m.exitCode)))
        return bad('state.exitCode must be an integer');
      if (m.reason !== undefined && !isStr(m.reason, 4096)) return bad('state.reason must be a string');
      if (typeof m.at !== 'number' || !Number.isFinite(m.at)) return bad('state.at must be a number');
      return {
        ok: true,
        message: {
          op: 'state',
          runId: m.runId,
          seq: m.seq,
          state: m.state as RunState,
          ...(m.exitCode !== undefined ? { exitCode: m.exitCode as number } : {}),
          ...(m.reason !== undefined ? { reason: m.reason as string } : {}),
          at: m.at,
        },
      };
    case 'pong':
      if (!isNonNegInt(m.nonce)) return bad('pong.nonce must be an integer');
      return { ok: true, message: { op: 'pong', nonce: m.nonce } };
    case 'session':
      if (!isRunId(m.sessionId)) return bad('session.sessionId is not valid');
      if (m.state !== 'Opened' && m.state !== 'Disconnected' && m.state !== 'Closed')
        return bad('session.state must be Opened, Disconnected or Closed');
      if (m.reason !== undefined && !isStr(m.reason, 4096)) return bad('session.reason must be a string');
      if (typeof m.at !== 'number' || !Number.isFinite(m.at)) return bad('session.at must be a number');
      return {
        ok: true,
        message: {
          op: 'session',
          sessionId: m.sessionId,
          state: m.state,
          ...(m.reason !== undefined ? { reason: m.reason as string } : {}),
          at: m.at,
        },
      };
    default:
      return bad(`unknown op '${String(m.op).slice(0, 40)}'`);
  }
}

export function parseHubMessage(text: string): Parsed<HubToAgent> {
  const p = parseJson(text);
  if (!p.ok) return p;
  const m = p.message;
  switch (m.op) {
    case 'welcome':
      if (m.secret !== undefined && !isStr(m.secret, 256)) return bad('welcome.secret must be a string');
      if (!isNonNegInt(m.heartbeatMs)) return bad('welcome.heartbeatMs must be an integer');
      return {
        ok: true,
        message: { op: 'welcome', heartbeatMs: m.heartbeatMs, ...(m.secret !== undefined ? { secret: m.secret as string } : {}) },
      };
    case 'refused':
      if (!isStr(m.code, 100) || !isStr(m.reason, 4096)) return bad('refused.code and refused.reason must be strings');
      return { ok: true, message: { op: 'refused', code: m.code, reason: m.reason } };
    case 'run': {
      if (!isRunId(m.runId)) return bad('run.runId is not valid');
      if (!isStr(m.script)) return bad('run.script must be a string');
      if (!isStr(m.configurationName, 256)) return bad('run.configurationName must be a string');
      if (!Array.isArray(m.arguments)) return bad('run.arguments must be a list');
      if (!isObj(m.using)) return bad('run.using must be an object');
      if (!isNonNegInt(m.maxRuntimeMs)) return bad('run.maxRuntimeMs must be a non-negative integer');
      if (m.runbook !== undefined && !isStr(m.runbook, 256)) return bad('run.runbook must be a string');
      if (m.session !== undefined && !isRunId(m.session)) return bad('run.session is not valid');
      return {
        ok: true,
        message: {
          op: 'run',
          runId: m.runId,
          script: m.script,
          configurationName: m.configurationName,
          arguments: m.arguments as unknown[],
          using: m.using,
          maxRuntimeMs: m.maxRuntimeMs,
          ...(m.runbook !== undefined ? { runbook: m.runbook as string } : {}),
          ...(m.session !== undefined ? { session: m.session as string } : {}),
        },
      };
    }
    case 'stop':
      if (!isRunId(m.runId)) return bad('stop.runId is not valid');
      return { ok: true, message: { op: 'stop', runId: m.runId } };
    case 'ack':
      if (!isRunId(m.runId)) return bad('ack.runId is not valid');
      if (!isSeq(m.seq)) return bad('ack.seq must be a positive integer');
      return { ok: true, message: { op: 'ack', runId: m.runId, seq: m.seq } };
    case 'ping':
      if (!isNonNegInt(m.nonce)) return bad('ping.nonce must be an integer');
      return { ok: true, message: { op: 'ping', nonce: m.nonce } };
    case 'openSession':
      if (!isRunId(m.sessionId)) return bad('openSession.sessionId is not valid');
      if (!isStr(m.configurationName, 256)) return bad('openSession.configurationName must be a string');
      if (!isNonNegInt(m.idleTimeoutMs)) return bad('openSession.idleTimeoutMs must be a non-negative integer');
      return {
        ok: true,
        message: { op: 'openSession', sessionId: m.sessionId, configurationName: m.configurationName, idleTimeoutMs: m.idleTimeoutMs },
      };
    case 'closeSession':
      if (!isRunId(m.sessionId)) return bad('closeSession.sessionId is not valid');
      return { ok: true, message: { op: 'closeSession', sessionId: m.sessionId } };
    case 'disconnectSession':
      if (!isRunId(m.sessionId)) return bad('disconnectSession.sessionId is not valid');
      if (m.mode !== 'Block' && m.mode !== 'Drop') return bad('disconnectSession.mode must be Block or Drop');
      if (!isNonNegInt(m.maxBytes)) return bad('disconnectSession.maxBytes must be a non-negative integer');
      return { ok: true, message: { op: 'disconnectSession', sessionId: m.sessionId, mode: m.mode, maxBytes: m.maxBytes } };
    case 'connectSession':
      if (!isRunId(m.sessionId)) return bad('connectSession.sessionId is not valid');
      return { ok: true, message: { op: 'connectSession', sessionId: m.sessionId } };
    default:
      return bad(`unknown op '${String(m.op).slice(0, 40)}'`);
  }
}
