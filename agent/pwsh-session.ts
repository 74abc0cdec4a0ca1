import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExecutorRun, killGroup, type RunningRun, type RunSink } from './executors.js';
import { LineSplitter, PwshRecordReader, RecordBatcher } from './pwsh-records.js';
import { PWSH_WRAPPER, pwshArgs } from './pwsh-wrapper.js';
import type { ScriptUser } from './script-environment.js';

/**
 * The wrapper of a Microsoft.PowerShell session: the one-run wrapper (pwsh-wrapper.ts) turned
 * into a loop over requests, one JSON line each on stdin ({key, script, arguments, using, stop}),
 * all run in ONE runspace opened at start, so variables, functions, modules and the current
 * location persist from one command to the next, as in a PowerShell session. Each request runs
 * exactly as a one-run command does (same records on fd 3 under the request's own key, same
 * `end` record); `exit` inside a script block returns from the request. A stop request is the
 * file named by `stop` appearing: the running pipeline is stopped ($ps.Stop()) and the session
 * stays open. Built from the one-run wrapper's text so both share every function; the anchors
 * below fail loudly if that text changes shape.
 */
function sessionWrapper(): string {
  const lines = PWSH_WRAPPER.split('\n');
  const find = (re: RegExp): number => {
    const i = lines.findIndex((l) => re.test(l));
    if (i < 0) throw new Error(`pwsh session wrapper: the one-run wrapper has no line matching ${re}`);
    return i;
  };
  const readRun = find(/^\$__run = \[Console\]::In\.ReadToEnd\(\)/);
  const keyLine = find(/^\$__key = \[string\]\$__run\.key$/);
  const keyClear = find(/^\$__run\.key = \$null$/);
  const bodyStart = find(/^\$__text = \[string\]\$__run\.script$/);
  const hostNew = find(/^\$__host = \[ChatOpsHost\]::new\(\)$/);
  const rsNew = find(/^\$__rs = \[runspacefactory\]::CreateRunspace\(\$__host\)$/);
  const rsOpen = find(/^\$__rs\.Open\(\)$/);
  const wait = find(/^\s+\$__done = \$__handle\.AsyncWaitHandle\.WaitOne\(50\)$/);
  const prelude = lines.slice(0, bodyStart).filter((_, i) => i !== readRun && i !== keyLine && i !== keyClear);
  const body = lines
    .slice(bodyStart)
    .map((l, j) => {
      const i = bodyStart + j;
      if (i === hostNew || i === rsNew || i === rsOpen) return '';
      if (i === wait)
        return `${l}; if (-not $__done -and $__run.stop -and [System.IO.File]::Exists([string]$__run.stop)) { $__ps.Stop(); $__done = $true }`;
      return l.replace(/^(\s*)exit 0$/, '$1return');
    })
    .join('\n');
  return [
    ...prelude,
    '$__host = [ChatOpsHost]::new()',
    '$__rs = [runspacefactory]::CreateRunspace($__host)',
    '$__rs.Open()',
    // Requests arrive one per line; the records channel says when each ended.
    'while ($null -ne ($__line = [Console]::In.ReadLine())) {',
    '  $__run = $__line | ConvertFrom-Json -AsHashtable -Depth 100',
    '  $__key = [string]$__run.key',
    '  $__run.key = $null',
    '  $__host.ExitCode = $null',
    `  . {\n${body}\n  }`,
    '}',
  ].join('\n');
}

let cachedArgs: string[] | undefined;
function sessionArgs(): string[] {
  cachedArgs ??= pwshArgs(sessionWrapper());
  return cachedArgs;
}

export interface PwshSessionOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  runAs?: ScriptUser;
  killGraceMs: number;
  flushMs?: number;
  maxChunkChars?: number;
  onExit: (reason: string) => void;
}

/** One Microsoft.PowerShell session: a long-lived pwsh running the session wrapper. */
export class PwshSession {
  private readonly child: ChildProcess;
  private readonly dir: string;
  private current: { reader: PwshRecordReader; done: () => void } | undefined;
  private exited = false;

  constructor(private readonly options: PwshSessionOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'chatops-pwsh-session-'));
    if (options.runAs) chownSync(this.dir, options.runAs.uid, options.runAs.gid);
    this.child = spawn('pwsh', sessionArgs(), {
      detached: true,
      env: options.env,
      cwd: options.cwd,
      ...(options.runAs ? { uid: options.runAs.uid, gid: options.runAs.gid } : {}),
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    this.child.stdin!.on('error', () => {});
    // Lines, so a request's `end` record is seen as soon as it is complete.
    const records = new LineSplitter((line) => {
      const cur = this.current;
      if (!cur) return;
      cur.reader.records.write(Buffer.from(`${line}\n`));
      if (cur.reader.result() !== undefined) cur.done();
    });
    this.child.stdout!.on('data', (b: Buffer) => this.current?.reader.stdout.write(b));
    this.child.stderr!.on('data', (b: Buffer) => this.current?.reader.stderr.write(b));
    (this.child.stdio[3] as NodeJS.ReadableStream).on('data', (b: Buffer) => records.write(b));
    this.child.on('error', (e) => this.ended(`Could not start pwsh: ${e.message}`));
    this.child.on('exit', (code, signal) =>
      this.ended(code !== null ? `The session's pwsh exited with code ${code}` : `The session's pwsh was killed (${signal ?? 'signal'})`),
    );
  }

  get pgid(): number | undefined {
    return this.child.pid;
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  get alive(): boolean {
    return !this.exited;
  }

  private ended(reason: string): void {
    if (this.exited) return;
    this.exited = true;
    this.current?.done();
    rmSync(this.dir, { recursive: true, force: true });
    this.options.onExit(reason);
  }

  run(run: ExecutorRun, sink: RunSink, kill: () => void): RunningRun {
    const key = randomBytes(16).toString('hex');
    const stopFile = join(this.dir, `stop-${key}`);
    const reader = new PwshRecordReader(key, new RecordBatcher((stream, data) => sink.output(stream, data), this.options));
    let finished = false;
    let stopped: { state: 'Stopped' | 'Failed'; reason: string } | undefined;
    let runtimeTimer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const done = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(runtimeTimer);
      clearTimeout(killTimer);
      this.current = undefined;
      reader.close();
      rmSync(stopFile, { force: true });
      const end = reader.result();
      if (stopped) sink.finish(stopped);
      else if (end)
        sink.finish({
          state: end.state,
          ...(end.exitCode !== undefined ? { exitCode: end.exitCode } : {}),
          ...(end.state === 'Failed' ? { reason: end.reason ?? 'The script failed.' } : {}),
        });
      else sink.finish({ state: 'Failed', reason: "The session's pwsh ended while the command ran" });
    };
    this.current = { reader, done };
    const stop = (result: { state: 'Stopped' | 'Failed'; reason: string }): void => {
      if (finished || stopped) return;
      stopped = result;
      // The pipeline is stopped in the runspace; the session stays. A pipeline that does not
      // stop (a native program ignoring it) ends with the session after the grace time.
      writeFileSync(stopFile, '', { mode: 0o600 });
      killTimer = setTimeout(kill, Math.max(this.options.killGraceMs, 5000));
    };
    if (run.maxRuntimeMs > 0) {
      runtimeTimer = setTimeout(
        () =>
          stop({
            state: 'Failed',
            reason: `The command ran longer than the maximum runtime of ${run.maxRuntimeMs / 1000} s and was stopped`,
          }),
        run.maxRuntimeMs,
      );
    }
    if (this.exited) done();
    else
      this.child.stdin!.write(
        `${JSON.stringify({ key, script: run.script, arguments: run.arguments, using: run.using, stop: stopFile })}\n`,
      );
    return {
      ...(this.child.pid !== undefined ? { pgid: this.child.pid } : {}),
      stop: () => stop({ state: 'Stopped', reason: 'The command was stopped' }),
    };
  }

  kill(): void {
    const pid = this.child.pid;
    if (pid === undefined || this.exited) return;
    killGroup(pid, this.options.killGraceMs);
  }
}
