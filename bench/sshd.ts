import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * A private OpenSSH server on 127.0.0.1 for the peer rows of the bench, as
 * test/remoting/ssh-remoting.ts starts one (its own keys, config and port, in the foreground as
 * our child, stopped by its PID; nothing of the system's sshd is used), with the `powershell`
 * subsystem when pwsh is given, and room for the bench's concurrency: 32 connections being
 * opened at once (MaxStartups) and 32 sessions multiplexed over one ControlMaster connection
 * (MaxSessions). Also writes an ssh client config in which every host name (h1, h2, ...) is
 * 127.0.0.1 on that port, with the client key and a shared ControlMaster socket.
 */

export interface BenchSshd {
  port: number;
  user: string;
  /** The client's private key; its public half is the only authorized key. */
  clientKey: string;
  /** ssh -F file: every host is 127.0.0.1:port, key auth, one shared ControlMaster socket. */
  clientConfig: string;
  log(): string;
  stop(): Promise<void>;
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

export async function startBenchSshd(tools: { sshd: string; pwsh?: string }): Promise<BenchSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-bench-sshd-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
  execFileSync('cp', [join(dir, 'client_key.pub'), join(dir, 'authorized_keys')]);
  // sshd's privilege separation directory (absent until the package's service first runs).
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const user = userInfo().username;
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
      'StrictModes no',
      'MaxStartups 1000',
      'MaxSessions 1000',
      // sshd runs each command through the user's login shell; Debian's bash sources ~/.bashrc
      // for commands run by sshd unless it is a nested shell (SHLVL >= 1), and a developer's
      // ~/.bashrc can cost far more than the command (pyenv's init: about 0.4 s). The peers are
      // measured without it, as on a server whose ~/.bashrc is empty.
      'SetEnv SHLVL=1',
      `PidFile ${join(dir, 'sshd.pid')}`,
      ...(tools.pwsh ? [`Subsystem powershell ${tools.pwsh} -sshs -NoLogo -NoProfile`] : []),
      '',
    ].join('\n'),
  );
  const clientConfig = join(dir, 'ssh_config');
  writeFileSync(
    clientConfig,
    [
      'Host *',
      '  HostName 127.0.0.1',
      `  Port ${port}`,
      `  User ${user}`,
      `  IdentityFile ${join(dir, 'client_key')}`,
      '  IdentitiesOnly yes',
      '  BatchMode yes',
      '  StrictHostKeyChecking no',
      '  UserKnownHostsFile /dev/null',
      '  LogLevel ERROR',
      '  ControlMaster auto',
      `  ControlPath ${join(dir, 'cm.sock')}`,
      '  ControlPersist yes',
      '',
    ].join('\n'),
  );
  let log = '';
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
    user,
    clientKey: join(dir, 'client_key'),
    clientConfig,
    log: () => log,
    async stop() {
      // The ControlMaster, if one was started, then the server.
      try {
        execFileSync('ssh', ['-F', clientConfig, '-O', 'exit', 'h0'], { stdio: 'ignore', timeout: 5000 });
      } catch {
        // none was running
      }
      if (child.exitCode === null) {
        process.kill(child.pid!, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
