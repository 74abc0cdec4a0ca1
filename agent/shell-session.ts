import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Chunker, type ExecutorRun, killGroup, type RunningRun, type RunSink, shellWord, signalGroup, usingEnvName } from './executors.js';
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
 * The script reads /dev/null, not the request stream. POSIX sh only (dash has no arrays). This
 * is the sh session's driver; bash sessions use BASH_SESSION_PRELUDE, which a stop interrupts.
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

/**
 * A bash session is an interactive bash (`-i`, no rc files, no line editing, no history, empty
 * prompts) reading requests on its stdin, so that a stop is what Ctrl-C is at a bash prompt:
 * SIGINT to the session's process group ends the command running and the rest of its line, and
 * the shell, with everything the earlier commands left in it, reads the next line. (A
 * non-interactive shell would die of it; `return` from a trap would only leave the innermost
 * function.) This prelude is the first thing on stdin; then each request is one line, run at
 * the top level so that `declare` in a script makes globals:
 *
 *     __chatops_pre <dir> && . <dir>/script "${__chatops_args[@]}" </dev/null; __chatops_post <marker> $?
 *
 * and after a stop, `__chatops_abort <marker> 130`, which writes the markers unless the command
 * got to write them itself (a stop's SIGINT cannot cut `__chatops_post` between its two markers:
 * it ignores SIGINT meanwhile, and marks the command done only after both). A stop first leaves
 * `<dir>/cancelled`: a SIGINT that comes before bash has read the request finds nothing to
 * interrupt, and `__chatops_pre` then skips the script. Files in <dir> are read as data, as in
 * SHELL_SESSION_DRIVER. `exit` in a script leaves quietly (an interactive bash would print "exit"
 * on stderr).
 */
export const BASH_SESSION_PRELUDE = String.raw`PS1= PS2= PS4= PROMPT_COMMAND=; set +o history +H; unset HISTFILE
__chatops_done=
__chatops_pre() { [ -e "$1/cancelled" ] && return 130; local f v i=1; __chatops_args=(); while [ -e "$1/arg$i" ]; do v=$(cat "$1/arg$i"; printf x); __chatops_args+=("${'$'}{v%x}"); i=$((i + 1)); done; for f in "$1"/env/USING_*; do [ -e "$f" ] || continue; v=$(cat "$f"; printf x); export "${'$'}{f##*/}=${'$'}{v%x}"; done; }
__chatops_post() { trap '' INT; printf '\n%s %d\n' "$1" "$2"; printf '\n%s\n' "$1" >&2; __chatops_done=$1; trap - INT; }
__chatops_abort() { [ "$__chatops_done" = "$1" ] || __chatops_post "$1" "$2"; }
exit() { builtin exit "$@" 2>/dev/null; }
`;

/**
 * Written before `__chatops_abort` after a SIGINT: a SIGINT that finds the shell reading (the
 * command ended just before) makes it drop what it read of the line so far, which is then some
 * of these spaces, never a character of the abort line.
 */
/** `s` as one shell word (the request directory's path is the agent's own, but paths may hold spaces). */
function singleQuoted(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

const SACRIFICIAL_LINE = `${' '.repeat(64)}
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
  /** bash: the ready line still awaited on stdout / stderr (see the constructor). */
  private startOut: string | undefined;
  private startErr: string | undefined;
  private startSeen = { out: '', err: '' };

  constructor(private readonly options: ShellSessionOptions) {
    // The requests' directory: the agent's user's private temp dir, handed to the script's user.
    this.base = mkdtempSync(join(tmpdir(), 'chatops-session-'));
    if (options.runAs) chownSync(this.base, options.runAs.uid, options.runAs.gid);
    const args = options.kind === 'bash' ? ['--norc', '--noprofile', '--noediting', '-i'] : ['-c', SHELL_SESSION_DRIVER, 'chatops'];
    this.child = spawn(options.kind, args, {
      detached: true,
      env: options.env,
      cwd: options.cwd,
      ...(options.runAs ? { uid: options.runAs.uid, gid: options.runAs.gid } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdin!.on('error', () => {});
    // bash's start-up complaints (no terminal, no job control) and its first prompt come before
    // a ready marker on each stream, and are dropped with it.
    if (options.kind === 'bash') {
      const ready = randomBytes(16).toString('hex');
      this.startOut = `${ready}\n`;
      this.startErr = `${ready}\n`;
      this.child.stdin!.write(`${BASH_SESSION_PRELUDE}printf '%s\\n' ${ready}; printf '%s\\n' ${ready} >&2\n`);
    }
    this.child.stdout!.on('data', (b: Buffer) => {
      const rest = this.startOut === undefined ? b : this.started('out', b);
      if (rest) this.current?.out.write(rest);
    });
    this.child.stderr!.on('data', (b: Buffer) => {
      const rest = this.startErr === undefined ? b : this.started('err', b);
      if (rest) this.current?.err.write(rest);
    });
    this.child.on('error', (e) => this.ended(`Could not start ${options.kind}: ${e.message}`));
    this.child.on('exit', (code, signal) =>
      this.ended(
        code !== null
          ? `The session's ${options.kind} exited with code ${code}`
          : `The session's ${options.kind} was killed (${signal ?? 'signal'})`,
      ),
    );
  }

  /** Until a stream's ready line: drops what comes before it, returns what follows it. */
  private started(stream: 'out' | 'err', b: Buffer): Buffer | undefined {
    const ready = stream === 'out' ? this.startOut! : this.startErr!;
    const seen = this.startSeen[stream] + b.toString('latin1');
    const at = seen.indexOf(ready);
    if (at < 0) {
      // Keep only what could be the start of the ready line.
      this.startSeen[stream] = seen.slice(-ready.length);
      return undefined;
    }
    if (stream === 'out') this.startOut = undefined;
    else this.startErr = undefined;
    this.startSeen[stream] = '';
    const rest = Buffer.from(seen.slice(at + ready.length), 'latin1');
    return rest.length > 0 ? rest : undefined;
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
    /**
     * bash: Ctrl-C, as at a prompt (see BASH_SESSION_PRELUDE); the session lives on. A command
     * that does not end within the kill grace (it ignores SIGINT) is ended with its session.
     */
    const interrupt = (result: { state: 'Stopped' | 'Failed'; reason: string }): void => {
      const pid = this.child.pid;
      if (finished || stopped || pid === undefined || this.exited) return;
      stopped = result;
      try {
        writeFileSync(join(dir, 'cancelled'), '');
      } catch {
        // The directory is gone only once the command ended.
      }
      signalGroup(pid, 'SIGINT');
      // The abort line is written again until the markers come: a SIGINT that bash takes while
      // reading may drop input it had already read ahead. It writes nothing once they came.
      const abort = (): void => {
        if (!finished && !this.exited) this.child.stdin!.write(`${SACRIFICIAL_LINE}__chatops_abort ${marker} 130\n`);
      };
      abort();
      const again = setInterval(() => (finished ? clearInterval(again) : abort()), 300);
      again.unref();
      // As for pwsh: an interrupt on a busy machine may take a moment; a lost session costs more.
      const escalate = setTimeout(
        () => {
          clearInterval(again);
          if (finished) return;
          stopped = { ...result, reason: `${result.reason}; it did not end on an interrupt, so its session was closed` };
          onStopKill();
        },
        Math.max(this.options.killGraceMs, 5000),
      );
      escalate.unref();
    };
    let runtimeTimer: NodeJS.Timeout | undefined;
    if (run.maxRuntimeMs > 0) {
      runtimeTimer = setTimeout(() => {
        const reason = `The command ran longer than the maximum runtime of ${run.maxRuntimeMs / 1000} s and was stopped`;
        if (this.options.kind === 'bash') interrupt({ state: 'Failed', reason });
        else kill({ state: 'Failed', reason: `${reason}; its session was closed` });
      }, run.maxRuntimeMs);
    }
    if (this.exited) finish(undefined);
    else if (this.options.kind === 'bash') {
      const d = singleQuoted(dir);
      this.child.stdin!.write(`__chatops_pre ${d} && . ${d}/script "\${__chatops_args[@]}" </dev/null; __chatops_post ${marker} $?\n`);
    } else this.child.stdin!.write(`${dir} ${marker}\n`);
    return {
      ...(this.child.pid !== undefined ? { pgid: this.child.pid } : {}),
      stop: () =>
        this.options.kind === 'bash'
          ? interrupt({ state: 'Stopped', reason: 'The command was stopped' })
          : kill({
              state: 'Stopped',
              reason: 'The command was stopped; its session was closed (an sh session is the shell that runs the command)',
            }),
    };
  }

  /** Ends the shell and everything it started (an interactive bash ignores SIGTERM: SIGHUP ends it). */
  kill(): void {
    const pid = this.child.pid;
    if (pid === undefined || this.exited) return;
    if (this.options.kind === 'bash') signalGroup(pid, 'SIGHUP');
    killGroup(pid, this.options.killGraceMs);
  }
}
