import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { OutputStream, RunState } from '../src/protocol/agent-protocol.js';
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

/**
 * The fixed PowerShell wrapper the pwsh executor runs (as -EncodedCommand). The run's data
 * arrives on stdin as one JSON object {script, arguments, using}; nothing from the run is ever
 * part of the command line.
 *
 * - ArgumentList: `& $sb @arguments`, so the values bind positionally to the script's param().
 * - $Using: the script is parsed; each `$Using:name` variable reference in the top-level script
 *   block (not in nested script blocks, which belong to their own runspaces) is renamed to a
 *   wrapper variable `$__chatops_using_<i>` holding the value. Only variable names are rewritten
 *   (from the parser's own extents), never values.
 * - Output: every pipeline object becomes one line of `ConvertTo-Json -Compress -Depth 4` on
 *   stdout; Write-Host/information records as JSON strings. Errors, warnings, verbose and debug
 *   records go to stderr as text (`WARNING: ...`). A terminating error exits with code 1.
 */
export const PWSH_WRAPPER = `
$ErrorActionPreference = 'Stop'
$__utf8 = [System.Text.UTF8Encoding]::new($false)
[Console]::OutputEncoding = $__utf8
[Console]::InputEncoding = $__utf8
$__run = [Console]::In.ReadToEnd() | ConvertFrom-Json -AsHashtable -Depth 100
$__tokens = $null; $__perrors = $null
$__ast = [System.Management.Automation.Language.Parser]::ParseInput([string]$__run.script, [ref]$__tokens, [ref]$__perrors)
if ($__perrors.Count -gt 0) { [Console]::Error.WriteLine(($__perrors | ForEach-Object { $_.ToString() }) -join [Environment]::NewLine); exit 1 }
$__text = [string]$__run.script
$__refs = @($__ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.UsingExpressionAst] }, $true) | Where-Object {
  $p = $_.Parent; while ($p -and -not ($p -is [System.Management.Automation.Language.ScriptBlockAst])) { $p = $p.Parent }; $p -eq $__ast
} | ForEach-Object { [System.Management.Automation.Language.UsingExpressionAst]::ExtractUsingVariable($_) } | Sort-Object { $_.Extent.StartOffset } -Descending)
$__names = @{}
foreach ($__ref in $__refs) {
  $__name = $__ref.VariablePath.UserPath.ToLowerInvariant()
  if (-not $__run.using.ContainsKey($__name)) { [Console]::Error.WriteLine("The value of the using variable '\`$using:$__name' cannot be retrieved because it has not been set in the local session."); exit 1 }
  if (-not $__names.ContainsKey($__name)) { $__names[$__name] = '__chatops_using_' + $__names.Count; Set-Variable -Name $__names[$__name] -Value $__run.using[$__name] }
  $__text = $__text.Substring(0, $__ref.Extent.StartOffset) + '$' + $__names[$__name] + $__text.Substring($__ref.Extent.EndOffset)
}
$__sb = [scriptblock]::Create($__text)
$__argv = if ($null -eq $__run.arguments) { @() } else { @($__run.arguments) }
$ErrorActionPreference = 'Continue'
try {
  & $__sb @__argv *>&1 | ForEach-Object {
    if ($_ -is [System.Management.Automation.ErrorRecord]) { [Console]::Error.WriteLine(($_ | Out-String).TrimEnd()) }
    elseif ($_ -is [System.Management.Automation.WarningRecord]) { [Console]::Error.WriteLine('WARNING: ' + $_.Message) }
    elseif ($_ -is [System.Management.Automation.VerboseRecord]) { [Console]::Error.WriteLine('VERBOSE: ' + $_.Message) }
    elseif ($_ -is [System.Management.Automation.DebugRecord]) { [Console]::Error.WriteLine('DEBUG: ' + $_.Message) }
    elseif ($_ -is [System.Management.Automation.InformationRecord]) { [Console]::Out.WriteLine((ConvertTo-Json -InputObject ([string]$_.MessageData) -Compress)) }
    else { [Console]::Out.WriteLine((ConvertTo-Json -InputObject $_ -Compress -Depth 4 -WarningAction SilentlyContinue)) }
  }
} catch {
  [Console]::Error.WriteLine(($_ | Out-String).TrimEnd())
  exit 1
}
exit 0
`;

export const PWSH_ARGS: readonly string[] = [
  '-NoLogo',
  '-NoProfile',
  '-NonInteractive',
  '-EncodedCommand',
  Buffer.from(PWSH_WRAPPER, 'utf16le').toString('base64'),
];

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
    if (run.kind === 'Microsoft.PowerShell') {
      command = 'pwsh';
      args = [...PWSH_ARGS];
      stdin = JSON.stringify({ script: run.script, arguments: run.arguments, using: run.using });
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
      sink.finish(r);
    };
    const out = new Chunker((d) => sink.output('output', d), options);
    const err = new Chunker((d) => sink.output('error', d), options);
    let runtimeTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let stopResult: RunResult | undefined;

    let child: ChildProcess;
    try {
      child = spawn(command, args, { detached: true, env, cwd, ...ids, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
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
    child.stdout!.on('data', (b: Buffer) => out.write(b));
    child.stderr!.on('data', (b: Buffer) => err.write(b));
    if (stdin !== undefined) {
      child.stdin!.on('error', () => {}); // the script may exit without reading its input
      child.stdin!.end(stdin);
    }
    let closed = false;
    child.on('close', () => (closed = true));
    child.on('exit', (code, signal) => {
      const done = (): void => {
        if (stopResult) finish(stopResult);
        else if (code === 0) finish({ state: 'Completed', exitCode: 0 });
        else if (code !== null) finish({ state: 'Failed', exitCode: code, reason: `The command exited with code ${code}` });
        else finish({ state: 'Failed', reason: `The command was killed by signal ${signal ?? 'unknown'}` });
      };
      // Let the pipes drain; a background process that keeps them open does not hold the run.
      if (closed) return done();
      const t = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
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

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
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
