import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findOnPath } from '../agent/executors.js';
import { median } from './ipc.js';
import { startBenchSshd, type BenchSshd } from './sshd.js';

/**
 * The peers, where installed (the bench installs nothing; the scripts named in a missing row
 * do): the same `echo hi` on N hosts, the whole client process timed from spawn to exit, at
 * fan-out 32 (pdsh's -f, PowerShell's -ThrottleLimit):
 * - pdsh -R exec: pdsh runs `sh -c 'echo hi'` locally once per host name (no network);
 * - pdsh -R ssh to a private sshd on 127.0.0.1 (bench/sshd.ts), every session multiplexed over
 *   one ControlMaster connection opened before the runs (warm);
 * - pwsh: `Invoke-Command -HostName h1..hN` over SSH to the same sshd (its `powershell`
 *   subsystem), one new connection per host as -HostName makes; also the time pwsh itself
 *   measures around Invoke-Command (without pwsh's own start-up). pwsh 7.6's -HostName
 *   parameter set has no -ThrottleLimit: its default throttle, 32, applies.
 */

export type PeerId = 'pdshExec' | 'pdshSsh' | 'pwshSsh';

export interface PeerRow {
  peer: PeerId;
  name: string;
  n: number;
  /** Median ms, spawn to exit of the client process; null when not measured. */
  ms: number | null;
  /** pwsh only: median ms of Invoke-Command inside pwsh. */
  inProcessMs?: number | null;
  status: 'ok' | 'not installed' | 'failed' | 'skipped';
  /** Why not measured: what is missing and the script that installs it, or the error. */
  detail?: string;
}

export const PEER_NAMES: Record<PeerId, string> = {
  pdshExec: "pdsh -R exec -f 32 sh -c 'echo hi' (whole process)",
  pdshSsh: 'pdsh -R ssh -f 32 over a warm ssh ControlMaster to 127.0.0.1 (whole process)',
  pwshSsh: 'pwsh Invoke-Command -HostName over SSH to 127.0.0.1, throttle 32 (whole process)',
};

const ORDER: PeerId[] = ['pdshExec', 'pdshSsh', 'pwshSsh'];

const RUN_TIMEOUT_MS = 600_000;

function tools(): { pdsh?: string; ssh?: string; sshd?: string; pwsh?: string } {
  const pwshTool = join(homedir(), '.dotnet', 'tools', 'pwsh');
  const pwsh = findOnPath('pwsh') ?? (existsSync(pwshTool) ? pwshTool : undefined);
  return {
    ...(findOnPath('pdsh') ? { pdsh: findOnPath('pdsh')! } : {}),
    ...(findOnPath('ssh') ? { ssh: findOnPath('ssh')! } : {}),
    ...(existsSync('/usr/sbin/sshd') ? { sshd: '/usr/sbin/sshd' } : {}),
    ...(pwsh ? { pwsh } : {}),
  };
}

/** Spawn to exit, in ms, with the output. */
function timeProcess(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ ms: number; out: string }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => c.kill('SIGKILL'), RUN_TIMEOUT_MS);
    c.on('error', reject);
    c.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} exited ${signal ?? code}: ${err.trim().slice(-400)}`));
      else resolve({ ms, out });
    });
  });
}

const hostList = (n: number): string => (n === 1 ? 'h1' : `h[1-${n}]`);

function checkPdsh(out: string, n: number): void {
  const ok = out.split('\n').filter((l) => /^h\d+: hi$/.test(l)).length;
  if (ok !== n) throw new Error(`pdsh answered ${ok} of ${n} hosts: ${out.slice(0, 300)}`);
}

function pwshScript(sshd: BenchSshd, n: number): string {
  return [
    "$ErrorActionPreference = 'Stop'",
    "$ProgressPreference = 'SilentlyContinue'",
    "$PSStyle.OutputRendering = 'PlainText'",
    "$o = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; HostName = '127.0.0.1'; LogLevel = 'ERROR' }",
    `$hosts = 1..${n} | ForEach-Object { "h$_" }`,
    '$sw = [Diagnostics.Stopwatch]::StartNew()',
    `$r = Invoke-Command -HostName $hosts -Port ${sshd.port} -UserName '${sshd.user}' -KeyFilePath '${sshd.clientKey}' -Options $o -ScriptBlock { sh -c 'echo hi' }`,
    '$sw.Stop()',
    '"@@bench $(@($r | Where-Object { $_ -eq \'hi\' }).Count) $($sw.Elapsed.TotalMilliseconds)"',
  ].join('\n');
}

/** The rows as they are when the peers are not run (`--no-peers`). */
export function skippedPeers(sizes: number[], detail: string): PeerRow[] {
  return ORDER.flatMap((peer) => sizes.map((n): PeerRow => ({ peer, name: PEER_NAMES[peer], n, ms: null, status: 'skipped', detail })));
}

export async function runPeersBench(
  options: { sizes?: number[]; repetitions?: number; log?: (line: string) => void } = {},
): Promise<PeerRow[]> {
  const sizes = options.sizes ?? [1, 10, 100];
  const reps = Math.max(1, options.repetitions ?? 3);
  const log = options.log ?? (() => {});
  const t = tools();
  const rows: PeerRow[] = [];
  const missing = (peer: PeerId, detail: string): void => {
    for (const n of sizes) rows.push({ peer, name: PEER_NAMES[peer], n, ms: null, status: 'not installed', detail });
  };
  /** Runs `once` reps times per N (after one untimed warm-up), median; a failure ends the peer. */
  const measure = async (peer: PeerId, once: (n: number) => Promise<{ ms: number; inProcessMs?: number }>): Promise<void> => {
    try {
      await once(1);
    } catch (e) {
      for (const n of sizes) rows.push({ peer, name: PEER_NAMES[peer], n, ms: null, status: 'failed', detail: String(e) });
      log(`${PEER_NAMES[peer]}: failed: ${String(e)}`);
      return;
    }
    for (const n of sizes) {
      try {
        const runs: Array<{ ms: number; inProcessMs?: number }> = [];
        for (let i = 0; i < reps; i++) runs.push(await once(n));
        const ms = median(runs.map((r) => r.ms));
        const inProcess = runs.some((r) => r.inProcessMs !== undefined) ? { inProcessMs: median(runs.map((r) => r.inProcessMs!)) } : {};
        rows.push({ peer, name: PEER_NAMES[peer], n, ms, ...inProcess, status: 'ok' });
        log(
          `${PEER_NAMES[peer]} N=${n}: ${ms.toFixed(0)} ms${inProcess.inProcessMs !== undefined ? ` (Invoke-Command ${inProcess.inProcessMs.toFixed(0)} ms)` : ''}`,
        );
      } catch (e) {
        rows.push({ peer, name: PEER_NAMES[peer], n, ms: null, status: 'failed', detail: String(e) });
        log(`${PEER_NAMES[peer]} N=${n}: failed: ${String(e)}`);
      }
    }
  };

  // pdsh -R exec
  if (!t.pdsh) missing('pdshExec', 'pdsh not installed: bash scripts/ensure-pdsh.sh');
  else
    await measure('pdshExec', async (n) => {
      const r = await timeProcess(t.pdsh!, ['-R', 'exec', '-f', '32', '-w', hostList(n), 'sh', '-c', 'echo hi']);
      checkPdsh(r.out, n);
      return { ms: r.ms };
    });

  const needSshd = !t.sshd || !t.ssh ? 'sshd not installed: bash scripts/ensure-sshd.sh' : undefined;
  const pdshSshMissing = [!t.pdsh ? 'pdsh not installed: bash scripts/ensure-pdsh.sh' : undefined, needSshd].filter(Boolean).join('; ');
  const pwshMissing = [!t.pwsh ? 'pwsh not installed: bash scripts/ensure-pwsh.sh' : undefined, needSshd].filter(Boolean).join('; ');
  if (pdshSshMissing) missing('pdshSsh', pdshSshMissing);
  if (pwshMissing) missing('pwshSsh', pwshMissing);
  if (pdshSshMissing && pwshMissing) return order(rows);

  let sshd: BenchSshd | undefined;
  try {
    sshd = await startBenchSshd({ sshd: t.sshd!, ...(t.pwsh ? { pwsh: t.pwsh } : {}) });
  } catch (e) {
    if (!pdshSshMissing) missing('pdshSsh', `failed: ${String(e)}`);
    if (!pwshMissing) missing('pwshSsh', `failed: ${String(e)}`);
    return order(rows);
  }
  const s = sshd;
  try {
    if (!pdshSshMissing) {
      // The warm ControlMaster: one connection, every pdsh session multiplexed over it.
      execFileSync(t.ssh!, ['-F', s.clientConfig, '-o', 'ControlMaster=yes', '-f', '-N', 'h0'], { stdio: 'ignore', timeout: 30_000 });
      const env = { PDSH_SSH_ARGS_APPEND: `-F ${s.clientConfig}` };
      await measure('pdshSsh', async (n) => {
        const r = await timeProcess(t.pdsh!, ['-R', 'ssh', '-f', '32', '-w', hostList(n), 'echo hi'], env);
        checkPdsh(r.out, n);
        return { ms: r.ms };
      });
    }
    if (!pwshMissing) {
      await measure('pwshSsh', async (n) => {
        const r = await timeProcess(t.pwsh!, ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', pwshScript(s, n)]);
        const m = /@@bench (\d+) ([\d.]+)/.exec(r.out);
        if (!m || Number(m[1]) !== n) throw new Error(`pwsh answered ${m?.[1] ?? 0} of ${n} hosts: ${r.out.slice(-300)}`);
        return { ms: r.ms, inProcessMs: Number(m[2]) };
      });
    }
  } finally {
    await s.stop();
  }
  return order(rows);
}

function order(rows: PeerRow[]): PeerRow[] {
  return rows.sort((a, b) => ORDER.indexOf(a.peer) - ORDER.indexOf(b.peer) || a.n - b.n);
}
