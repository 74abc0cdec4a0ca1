import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * PowerShell's own remoting on this machine, as the reference the side-by-side test compares the
 * bot with: a private OpenSSH server on 127.0.0.1 (Debian's openssh-server, installed by
 * scripts/ensure-sshd.sh) with the `powershell` subsystem, and one long-lived pwsh client
 * (pwsh-reference.ps1) that holds an SSH session per host and answers cases as JSON.
 *
 * Nothing of the system's own sshd is used or changed: the server has its own keys, config and
 * port, runs in the foreground as our child and is stopped by its PID.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));

function scriptPath(name: string): string {
  return execFileSync('bash', [join(REPO, 'scripts', name)], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1)!;
}

/** pwsh and sshd, installed by the project's scripts when missing (CI runs them first). */
export function ensureTools(): { pwsh: string; sshd: string } {
  return { pwsh: scriptPath('ensure-pwsh.sh'), sshd: scriptPath('ensure-sshd.sh') };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export interface Sshd {
  port: number;
  /** The client's private key; its public half is the only authorized key. */
  clientKey: string;
  log(): string;
  stop(): Promise<void>;
}

export async function startSshd(tools: { pwsh: string; sshd: string }): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-sshd-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
  execFileSync('cp', [join(dir, 'client_key.pub'), join(dir, 'authorized_keys')]);
  // sshd's privilege separation directory (absent until the package's service first runs).
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      // The temporary directory's modes are ours, not a user's home.
      'StrictModes no',
      `PidFile ${join(dir, 'sshd.pid')}`,
      `Subsystem powershell ${tools.pwsh} -sshs -NoLogo -NoProfile`,
      '',
    ].join('\n'),
  );
  let log = '';
  // -D: stay in the foreground, so the child's PID is the server's; -e: log to stderr.
  const child: ChildProcess = spawn(tools.sshd, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 20_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd did not start on 127.0.0.1:${port}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    clientKey: join(dir, 'client_key'),
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        process.kill(child.pid!, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What pwsh-reference.ps1 reports of one record of a remote command's streams. */
export interface ReferenceRecord {
  stream: 'output' | 'error' | 'warning' | 'verbose' | 'information';
  computer: string | null;
  type?: string | null;
  value?: unknown;
  message?: string;
  fqid?: string;
  category?: string;
}

export interface JobSnapshot {
  state: string;
  hasMoreData: boolean;
  location: string;
  command: string;
  children: Array<{ computer: string; state: string; hasMoreData: boolean }>;
}

export interface ReferenceResult {
  id: string;
  records?: ReferenceRecord[];
  afterWait?: JobSnapshot;
  keep?: ReferenceRecord[];
  afterKeep?: JobSnapshot;
  receive?: ReferenceRecord[];
  afterReceive?: JobSnapshot;
  thrown?: { message: string; fqid: string };
  /** A session case: what each step showed, in order (a terminating error as an error record). */
  steps?: ReferenceRecord[][];
}

export interface RemotingCase {
  id: string;
  computers: string[];
  /** The script block's text, between its braces. */
  script: string;
  /** Further parameters of Invoke-Command, as typed (e.g. `-ArgumentList 41,'x'`). */
  params?: string;
  /** Local variables the script reads with $Using: (name → value). */
  using?: Record<string, string | number | boolean>;
  asJob?: boolean;
  /** -AsJob: Stop-Job once every child runs. */
  stopWhenRunning?: boolean;
  /**
   * A new connection per computer, as -ComputerName makes, instead of the reference's open
   * sessions: for scripts that end their session (`exit`). Costs seconds per computer.
   */
  fresh?: boolean;
}

/** One pwsh holding an SSH session per host; `run` answers one case at a time. */
export class PwshReference {
  private readonly lines: AsyncIterator<string>;
  private queue: Promise<unknown> = Promise.resolve();
  private stderr = '';
  /** What PowerShell wrote to its host (not an answer), e.g. a job's warnings on Receive-Job. */
  readonly hostLines: string[] = [];

  private constructor(private readonly child: ChildProcess) {
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  static async start(tools: { pwsh: string }, sshd: Sshd, hosts: string[]): Promise<PwshReference> {
    const child = spawn(
      tools.pwsh,
      [
        '-NoLogo',
        '-NoProfile',
        '-NonInteractive',
        '-File',
        join(REPO, 'test', 'remoting', 'pwsh-reference.ps1'),
        '-Port',
        String(sshd.port),
        '-KeyFile',
        sshd.clientKey,
        '-Hosts',
        hosts.join(','),
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const ref = new PwshReference(child);
    const first = await ref.next(120_000);
    if (first !== 'READY') throw new Error(`pwsh reference did not start: ${first}\n${ref.stderr}\n${sshd.log()}`);
    return ref;
  }

  private async next(timeoutMs: number): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`pwsh reference: no answer in ${timeoutMs} ms\n${this.stderr}`)), timeoutMs);
    });
    try {
      for (;;) {
        const r = await Promise.race([this.lines.next(), timeout]);
        if (r.done) throw new Error(`pwsh reference exited\n${this.stderr}`);
        if (r.value.startsWith('@@ref ')) return r.value.slice(6);
        this.hostLines.push(r.value);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  run(c: RemotingCase): Promise<ReferenceResult> {
    return this.ask({ ...c, params: c.params ?? '', using: c.using ?? {} });
  }

  /**
   * Runs command lines one after the other in one scope of the reference's runspace, so what one
   * sets (`$s = New-PSSession ...`) the next reads; the scope ends with the case.
   */
  runSteps(id: string, steps: string[]): Promise<ReferenceResult> {
    return this.ask({ id, steps });
  }

  private ask(request: object): Promise<ReferenceResult> {
    const result = this.queue.then(async () => {
      const seen = this.hostLines.length;
      this.child.stdin!.write(`${JSON.stringify(request)}\n`);
      const answer = JSON.parse(await this.next(120_000)) as ReferenceResult;
      // A synchronous Invoke-Command writes the remote warnings to the host, not to a stream
      // that `*>&1` catches: they are the WARNING lines the host printed meanwhile.
      if (answer.records) {
        for (const line of this.hostLines.slice(seen)) {
          const m = /^WARNING: (.*)$/.exec(line);
          if (m) answer.records.push({ stream: 'warning', computer: null, message: m[1]! });
        }
      }
      return answer;
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  async stop(): Promise<void> {
    this.child.stdin!.end();
    await Promise.race([new Promise((r) => this.child.once('exit', r)), new Promise((r) => setTimeout(r, 10_000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
