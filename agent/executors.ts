import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { OutputStream, RunState } from '../src/protocol/agent-protocol.js';
import { PWSH_ARGS } from './pwsh-wrapper.js';
import { PwshRecordReader, RecordBatcher } from './pwsh-records.js';
import { currentUser, scriptEnvironment, scriptWorkingDirectory, type ScriptUser } from './script-environment.js';

/** What an executor is asked to run (the agent has already resolved configuration and runbook). */
export interface ExecutorRun {
  runId: string;
  /** The resolved session configuration name (e.g. `bash`). */
  configuration: string;
  /** The executor kind behind it: `Microsoft.PowerShell`, `bash` or `sh`. */
  kind: ExecutorKind;
  script: string;
  arguments: unknown[];
  using: Record<string, unknown>;
  /** 0 = no limit. */
  maxRuntimeMs: number;
}

export interface RunResult {
  state: Exclude<RunState, 'Running'>;
  exitCode?: number;
  reason?: string;
}

export interface RunSink {
  output(stream: OutputStream, data: string): void;
  /** Called exactly once. */
  finish(result: RunResult): void;
}

export interface RunningRun {
  /** Stops the run; the executor then calls finish with state Stopped. */
  stop(): void;
  /** The process group id (= leader pid) of a process run, so a restarted agent can end leftovers. */
  pgid?: number;
}

/**
 * A process's start time in clock ticks since boot (/proc/PID/stat field 22), which together
 * with the pid identifies it across pid reuse. Undefined where there is no /proc or no process.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Kills what is left of a run's process group after an agent crash, only if its leader is
 * still the very process that was started (same start time), never a stranger with a reused pid.
 */
export function killLeftoverGroup(pid: number, start: string): boolean {
  if (processStartTime(pid) !== start) return false;
  try {
    process.kill(-pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/** Injectable (the bench uses a trivial one that answers without spawning). */
export type Executor = (run: ExecutorRun, sink: RunSink) => RunningRun;

export type ExecutorKind = 'Microsoft.PowerShell' | 'bash' | 'sh';
export const EXECUTOR_KINDS: readonly ExecutorKind[] = ['Microsoft.PowerShell', 'bash', 'sh'];

export function findOnPath(command: string, pathVar: string | undefined = process.env.PATH): string | undefined {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Which executors this computer can offer, given its PATH. */
export function availableKinds(pathVar: string | undefined = process.env.PATH): ExecutorKind[] {
  const out: ExecutorKind[] = [];
  if (findOnPath('pwsh', pathVar)) out.push('Microsoft.PowerShell');
  if (findOnPath('bash', pathVar)) out.push('bash');
  if (findOnPath('sh', pathVar)) out.push('sh');
  return out;
}

/**
 * ArgumentList and $Using: values as shell words: strings as they are, numbers and booleans in
 * their JSON spelling, null as the empty string, anything else as compact JSON.
 */
export function shellWord(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** `$Using:name` for bash/sh: the environment variable `USING_NAME` (upper-cased; other chars → `_`). */
export function usingEnvName(name: string): string {
  return 'USING_' + name.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

export { PWSH_ARGS, PWSH_WRAPPER } from './pwsh-wrapper.js';

export interface ProcessExecutorOptions {
  /** Time between SIGTERM and SIGKILL of the process group on stop. Default 2000 ms. */
  killGraceMs?: number;
  /** Output is sent at least this often while a line is being written. Default 30 ms. */
  flushMs?: number;
  /** Largest chunk of text per output message. Default 32 KiB (frames stay far below the limit). */
  maxChunkChars?: number;
  /**
   * The agent's own environment, from which only the fixed names of script-environment.ts are
   * taken (PATH, the locale, ...); default process.env. Scripts never see the rest of it.
   */
  env?: NodeJS.ProcessEnv;
  /** Variables the agent's configuration gives every script (`--script-env`). */
  scriptEnv?: Record<string, string>;
  /**
   * Run scripts as this OS user (the agent must run as root to switch). Default: the agent's
   * own user.
   */
  runAs?: ScriptUser;
}

/**
 * Runs scripts as child processes, each from the fixed environment of script-environment.ts in
 * its user's home directory: bash/sh as `bash -c SCRIPT chatops ARG1 ARG2...` (so the
 * values are "$1".., $0 is `chatops`, $Using: values are `USING_<NAME>` environment variables),
 * pwsh with PWSH_ARGS and the run's data on stdin. Each run gets its own process group
 * (detached) so stop and the runtime limit kill the whole tree.
 */
export function createProcessExecutor(options: ProcessExecutorOptions = {}): Executor {
  const killGraceMs = options.killGraceMs ?? 2000;
  const agentEnv = options.env ?? process.env;
  const user = options.runAs ?? currentUser(agentEnv);
  // Built once: a fixed set, never the agent's (or the bot's) whole environment.
  const baseEnv = scriptEnvironment(agentEnv, user, options.scriptEnv);
  const cwd = scriptWorkingDirectory(user);
  const ids = options.runAs ? { uid: options.runAs.uid, gid: options.runAs.gid } : {};
  return (run, sink) => {
    const usingNames = Object.keys(run.using);
    const env: NodeJS.ProcessEnv = run.kind !== 'Microsoft.PowerShell' && usingNames.length > 0 ? { ...baseEnv } : baseEnv;
    let command: string;
    let args: string[];
    let stdin: string | undefined;
    let records: PwshRecordReader | undefined;
    if (run.kind === 'Microsoft.PowerShell') {
      command = 'pwsh';
      args = [...PWSH_ARGS];
      const key = randomBytes(16).toString('hex');
      records = new PwshRecordReader(key, new RecordBatcher((stream, data) => sink.output(stream, data), options));
      stdin = JSON.stringify({ key, script: run.script, arguments: run.arguments, using: run.using });
    } else {
      command = run.kind;
      args = ['-c', run.script, 'chatops', ...run.arguments.map(shellWord)];
      for (const k of usingNames) env[usingEnvName(k)] = shellWord(run.using[k]);
    }

    let finished = false;
    const finish = (r: RunResult): void => {
      if (finished) return;
      finished = true;
      clearTimeout(runtimeTimer);
      clearTimeout(killTimer);
      out.end();
      err.end();
      records?.close();
      sink.finish(r);
    };
    const out = new Chunker((d) => sink.output('output', d), options);
    const err = new Chunker((d) => sink.output('error', d), options);
    let runtimeTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let stopResult: RunResult | undefined;

    let child: ChildProcess;
    try {
      // pwsh gets a fourth pipe (fd 3): the wrapper's record channel.
      child = spawn(command, args, {
        detached: true,
        env,
        cwd,
        ...ids,
        stdio: records ? ['pipe', 'pipe', 'pipe', 'pipe'] : [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
    } catch (e) {
      finish({ state: 'Failed', reason: `Could not start ${command}: ${e instanceof Error ? e.message : String(e)}` });
      return { stop: () => {} };
    }
    const killTree = (): void => {
      const pid = child.pid;
      if (pid === undefined) return;
      signalGroup(pid, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), killGraceMs);
    };

    child.on('error', (e) => finish({ state: 'Failed', reason: `Could not start ${command}: ${e.message}` }));
    if (records) {
      const reader = records;
      child.stdout!.on('data', (b: Buffer) => reader.stdout.write(b));
      child.stderr!.on('data', (b: Buffer) => reader.stderr.write(b));
      (child.stdio[3] as NodeJS.ReadableStream).on('data', (b: Buffer) => reader.records.write(b));
    } else {
      child.stdout!.on('data', (b: Buffer) => out.write(b));
      child.stderr!.on('data', (b: Buffer) => err.write(b));
    }
    if (stdin !== undefined) {
      child.stdin!.on('error', () => {}); // the script may exit without reading its input
      child.stdin!.end(stdin);
    }
    let closed = false;
    child.on('close', () => (closed = true));
    child.on('exit', (code, signal) => {
      const done = (): void => {
        if (stopResult) finish(stopResult);
        else if (records) finish(pwshResult(records, code, signal));
        else if (code === 0) finish({ state: 'Completed', exitCode: 0 });
        else if (code !== null) finish({ state: 'Failed', exitCode: code, reason: `The command exited with code ${code}` });
        else finish({ state: 'Failed', reason: `The command was killed by signal ${signal ?? 'unknown'}` });
      };
      // Let the pipes drain; a background process that keeps them open does not hold the run.
      if (closed) return done();
      const t = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        (child.stdio[3] as (NodeJS.ReadableStream & { destroy?: () => void }) | null)?.destroy?.();
        done();
      }, 1000);
      child.once('close', () => {
        clearTimeout(t);
        done();
      });
    });

    if (run.maxRuntimeMs > 0) {
      runtimeTimer = setTimeout(() => {
        stopResult = {
          state: 'Failed',
          reason: `The command ran longer than the maximum runtime of ${formatMs(run.maxRuntimeMs)} and was stopped`,
        };
        killTree();
      }, run.maxRuntimeMs);
    }
    return {
      ...(child.pid !== undefined ? { pgid: child.pid } : {}),
      stop: () => {
        if (finished || stopResult) return;
        stopResult = { state: 'Stopped', reason: 'The command was stopped' };
        killTree();
      },
    };
  };
}

/**
 * How a pwsh run ended, from the wrapper's `end` record. PowerShell reports a script that ran to
 * its end as Completed even after `exit 3` or a failing native command (Start-Job, ThreadJob and
 * remote jobs all do): the code is kept as the exit code, the state stays Completed. A terminating
 * error fails it with the error's message. Without an `end` record pwsh itself failed.
 */
function pwshResult(records: PwshRecordReader, code: number | null, signal: NodeJS.Signals | null): RunResult {
  records.close();
  const end = records.result();
  if (end) {
    return {
      state: end.state,
      ...(end.exitCode !== undefined ? { exitCode: end.exitCode } : {}),
      ...(end.state === 'Failed' ? { reason: end.reason ?? 'The script failed.' } : {}),
    };
  }
  if (code !== null) {
    // pwsh installed as a .NET tool is a launcher around the dotnet host: the host killed by a
    // signal (N) ends the launcher with 128 + N, as a shell reports it.
    const name = code > 128 && code <= 128 + 64 ? signalName(code - 128) : undefined;
    const how = name !== undefined ? `exit code ${code}: killed by signal ${name}` : `exit code ${code}`;
    return { state: 'Failed', exitCode: code, reason: `pwsh ended before the script finished (${how})` };
  }
  return { state: 'Failed', reason: `pwsh was killed by signal ${signal ?? 'unknown'}` };
}

function signalName(n: number): string | undefined {
  return Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0];
}

/** Signals a whole process group (a run or a session started detached); gone is fine. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM to a process group, then SIGKILL after `graceMs` for what is left. */
export function killGroup(pid: number, graceMs: number): void {
  signalGroup(pid, 'SIGTERM');
  setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs).unref();
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * Turns a byte stream into text chunks: UTF-8 safe, cut at line ends where possible, sent after
 * a short delay (so a burst of lines travels as one message) or at once when big.
 */
export class Chunker {
  private readonly decoder = new StringDecoder('utf8');
  private readonly emit: (data: string) => void;
  private readonly flushMs: number;
  private readonly maxChunk: number;
  private buf = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(emit: (data: string) => void, options: { flushMs?: number; maxChunkChars?: number } = {}) {
    this.emit = emit;
    this.flushMs = options.flushMs ?? 30;
    this.maxChunk = options.maxChunkChars ?? 32 * 1024;
  }

  write(bytes: Buffer): void {
    this.buf += this.decoder.write(bytes);
    while (this.buf.length >= this.maxChunk) {
      const nl = this.buf.lastIndexOf('\n', this.maxChunk - 1);
      const cut = nl >= 0 ? nl + 1 : this.maxChunk;
      this.emit(this.buf.slice(0, cut));
      this.buf = this.buf.slice(cut);
    }
    if (this.buf !== '' && !this.timer) this.timer = setTimeout(() => this.flush(), this.flushMs);
  }

  /** Sends complete lines; a partial line waits one more period, then goes as it is. */
  private flush(partialWaited = false): void {
    this.timer = undefined;
    if (this.buf === '') return;
    const nl = this.buf.lastIndexOf('\n');
    if (nl === this.buf.length - 1 || partialWaited) {
      this.emit(this.buf);
      this.buf = '';
      return;
    }
    if (nl >= 0) {
      this.emit(this.buf.slice(0, nl + 1));
      this.buf = this.buf.slice(nl + 1);
    }
    this.timer = setTimeout(() => this.flush(true), this.flushMs * 5);
  }

  end(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.buf += this.decoder.end();
    if (this.buf !== '') this.emit(this.buf);
    this.buf = '';
  }
}
