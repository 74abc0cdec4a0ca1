import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Chunker, type ExecutorRun, killGroup, type RunningRun, type RunSink, shellWord, usingEnvName } from './executors.js';
import type { ScriptUser } from './script-environment.js';

/**
 * The driver of a bash or sh session: one long-lived shell that sources each command's script
 * in itself, so variables, functions and the current directory persist from one command to the
 * next, as in a PowerShell session's runspace.
 *
 * Framing (the script may print anything): each request is one line on the shell's stdin,
 * `<dir> <marker>`, naming a private directory the agent wrote and a random marker the script
 * cannot guess. The directory holds the script (`script`), the ArgumentList values as files
 * `arg1`..`argN` and the $Using: values as `env/USING_<NAME>`: the driver reads them as data
 * (`$(cat f; printf x)` keeps trailing newlines), never as script text. After the script, the
 * driver writes `\n<marker> <exit status>\n` on stdout and `\n<marker>\n` on stderr: the agent
 * ends the command when it has seen both, and drops the newline it added before each marker.
 * The script reads /dev/null, not the request stream. POSIX sh only (dash has no arrays).
 */
export const SHELL_SESSION_DRIVER = String.raw`
while IFS=' ' read -r __chatops_dir __chatops_marker; do
  set --
  __chatops_i=1
  while [ -e "$__chatops_dir/arg$__chatops_i" ]; do
    __chatops_v=$(cat "$__chatops_dir/arg$__chatops_i"; printf x)
    set -- "$@" "${'$'}{__chatops_v%x}"
    __chatops_i=$((__chatops_i + 1))
  done
  for __chatops_f in "$__chatops_dir"/env/USING_*; do
    [ -e "$__chatops_f" ] || continue
    __chatops_v=$(cat "$__chatops_f"; printf x)
    export "${'$'}{__chatops_f##*/}=${'$'}{__chatops_v%x}"
  done
  unset __chatops_i __chatops_v __chatops_f
  . "$__chatops_dir/script" < /dev/null
  __chatops_rc=$?
  printf '\n%s %d\n' "$__chatops_marker" "$__chatops_rc"
  printf '\n%s\n' "$__chatops_marker" >&2
done
`;

export interface ShellSessionOptions {
  kind: 'bash' | 'sh';
  env: NodeJS.ProcessEnv;
  cwd: string;
  runAs?: ScriptUser;
  killGraceMs: number;
  flushMs?: number;
  maxChunkChars?: number;
  /** The shell ended by itself (exit in a script, killed): the session is over. */
  onExit: (reason: string) => void;
}

/**
 * Splits one stream of the shell at a command's end marker (see SHELL_SESSION_DRIVER). The
 * driver writes a newline before the marker (the script's output may not end with one), and that
 * newline can arrive in an earlier chunk than the marker: so a chunk's last newline is held back
 * until the next chunk shows whether the marker follows it, or for HOLD_MS when nothing comes
 * (the script is still running: the newline is its own). The script's output passes on otherwise
 * as it comes.
 */
export class MarkedStream {
  static readonly HOLD_MS = 100;
  private buf = '';
  private readonly decoder = new StringDecoder('utf8');
  private readonly head: string;
  /** A newline released by the timer: the marker may then come without its own. */
  private releasedNewline = false;
  private timer: NodeJS.Timeout | undefined;
  constructor(
    marker: string,
    private readonly withStatus: boolean,
    private readonly emit: (text: string) => void,
    private readonly ended: (status: number | undefined) => void,
  ) {
    this.head = `${marker}${withStatus ? ' ' : '\n'}`;
  }

  private pass(text: string): void {
    if (text === '') return;
    this.emit(text);
    this.releasedNewline = false;
  }

  write(b: Buffer): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.buf += this.decoder.write(b);
    let at = this.buf.indexOf(`\n${this.head}`);
    let start = at + 1;
    if (at < 0 && this.releasedNewline && this.buf.startsWith(this.head)) {
      at = 0;
      start = 0;
    }
    if (at >= 0) {
      this.pass(this.buf.slice(0, at));
      this.buf = this.buf.slice(start);
      if (!this.withStatus) {
        this.ended(undefined);
        return;
      }
      const nl = this.buf.indexOf('\n', this.head.length);
      if (nl >= 0) this.ended(Number.parseInt(this.buf.slice(this.head.length, nl), 10));
      else this.releasedNewline = true; // the marker is here; its status line is still coming
      return;
    }
    const k = this.buf.lastIndexOf('\n');
    const tail = this.buf.slice(k + 1);
    if (k >= 0 && this.head.startsWith(tail)) {
      // The last newline may be the marker's: hold it (with a partial marker after it).
      this.pass(this.buf.slice(0, k));
      this.buf = this.buf.slice(k);
      if (tail === '') {
        this.timer = setTimeout(() => {
          if (this.buf !== '\n') return;
          this.buf = '';
          this.emit('\n');
          this.releasedNewline = true;
        }, MarkedStream.HOLD_MS);
        this.timer.unref();
      }
    } else if (!(k < 0 && this.releasedNewline && this.head.startsWith(this.buf))) {
      this.pass(this.buf);
      this.buf = '';
    }
  }

  /** What is left when the shell ended before the marker. */
  flush(): void {
    clearTimeout(this.timer);
    this.buf += this.decoder.end();
    this.pass(this.buf);
    this.buf = '';
  }
}

/** One bash or sh session: the shell, its private request directory, the command running in it. */
export class ShellSession {
  private readonly child: ChildProcess;
  private readonly base: string;
  private current: { out: MarkedStream; err: MarkedStream } | undefined;
  private exited = false;
  private seq = 0;

  constructor(private readonly options: ShellSessionOptions) {
    // The requests' directory: the agent's user's private temp dir, handed to the script's user.
    this.base = mkdtempSync(join(tmpdir(), 'chatops-session-'));
    if (options.runAs) chownSync(this.base, options.runAs.uid, options.runAs.gid);
    this.child = spawn(options.kind, ['-c', SHELL_SESSION_DRIVER, 'chatops'], {
      detached: true,
      env: options.env,
      cwd: options.cwd,
      ...(options.runAs ? { uid: options.runAs.uid, gid: options.runAs.gid } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdin!.on('error', () => {});
    this.child.stdout!.on('data', (b: Buffer) => this.current?.out.write(b));
    this.child.stderr!.on('data', (b: Buffer) => this.current?.err.write(b));
    this.child.on('error', (e) => this.ended(`Could not start ${options.kind}: ${e.message}`));
    this.child.on('exit', (code, signal) =>
      this.ended(
        code !== null
          ? `The session's ${options.kind} exited with code ${code}`
          : `The session's ${options.kind} was killed (${signal ?? 'signal'})`,
      ),
    );
  }

  /** The shell's process group, for killing what is left after an agent crash. */
  get pgid(): number | undefined {
    return this.child.pid;
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  get alive(): boolean {
    return !this.exited;
  }

  private endRun: ((exitCode: number | undefined) => void) | undefined;

  private ended(reason: string): void {
    if (this.exited) return;
    this.exited = true;
    const cur = this.current;
    if (cur) {
      cur.out.flush();
      cur.err.flush();
    }
    this.endRun?.(this.child.exitCode ?? undefined);
    rmSync(this.base, { recursive: true, force: true });
    this.options.onExit(reason);
  }

  /** Runs one command in the session; the caller makes sure it is not busy. */
  run(run: ExecutorRun, sink: RunSink, onStopKill: () => void): RunningRun {
    const dir = join(this.base, String(++this.seq));
    mkdirSync(join(dir, 'env'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'script'), run.script, { mode: 0o600 });
    for (const [i, a] of run.arguments.entries()) writeFileSync(join(dir, `arg${i + 1}`), shellWord(a), { mode: 0o600 });
    for (const [k, v] of Object.entries(run.using)) writeFileSync(join(dir, 'env', usingEnvName(k)), shellWord(v), { mode: 0o600 });
    if (this.options.runAs) {
      for (const p of [dir, join(dir, 'env')]) chownSync(p, this.options.runAs.uid, this.options.runAs.gid);
    }
    const marker = randomBytes(16).toString('hex');
    const out = new Chunker((d) => sink.output('output', d), this.options);
    const err = new Chunker((d) => sink.output('error', d), this.options);
    let status: number | undefined;
    let outDone = false;
    let errDone = false;
    let finished = false;
    let stopped: { state: 'Stopped' | 'Failed'; reason: string } | undefined;
    const finish = (exitCode: number | undefined): void => {
      if (finished) return;
      finished = true;
      clearTimeout(runtimeTimer);
      this.current = undefined;
      this.endRun = undefined;
      out.end();
      err.end();
      rmSync(dir, { recursive: true, force: true });
      if (stopped) sink.finish(stopped);
      else if (exitCode === 0) sink.finish({ state: 'Completed', exitCode: 0 });
      else if (exitCode !== undefined) sink.finish({ state: 'Failed', exitCode, reason: `The command exited with code ${exitCode}` });
      else sink.finish({ state: 'Failed', reason: `The session's ${this.options.kind} ended while the command ran` });
    };
    const check = (): void => {
      if (outDone && errDone) finish(status);
    };
    this.current = {
      out: new MarkedStream(
        marker,
        true,
        (t) => out.write(Buffer.from(t)),
        (s) => {
          status = s;
          outDone = true;
          check();
        },
      ),
      err: new MarkedStream(
        marker,
        false,
        (t) => err.write(Buffer.from(t)),
        () => {
          errDone = true;
          check();
        },
      ),
    };
    this.endRun = (code) => finish(code);
    const kill = (result: { state: 'Stopped' | 'Failed'; reason: string }): void => {
      if (finished || stopped) return;
      stopped = result;
      // The command runs in the session's shell itself: stopping it ends the session.
      onStopKill();
    };
    let runtimeTimer: NodeJS.Timeout | undefined;
    if (run.maxRuntimeMs > 0) {
      runtimeTimer = setTimeout(
        () =>
          kill({
            state: 'Failed',
            reason: `The command ran longer than the maximum runtime of ${run.maxRuntimeMs / 1000} s and was stopped; its session was closed`,
          }),
        run.maxRuntimeMs,
      );
    }
    if (this.exited) finish(undefined);
    else this.child.stdin!.write(`${dir} ${marker}\n`);
    return {
      ...(this.child.pid !== undefined ? { pgid: this.child.pid } : {}),
      stop: () =>
        kill({
          state: 'Stopped',
          reason: 'The command was stopped; its session was closed (a bash or sh session is the shell that runs the command)',
        }),
    };
  }

  /** Ends the shell and everything it started. */
  kill(): void {
    const pid = this.child.pid;
    if (pid === undefined || this.exited) return;
    killGroup(pid, this.options.killGraceMs);
  }
}
