import { fork, type ChildProcess } from 'node:child_process';

/**
 * What the bench's parts share: a child process driven over IPC (bench/hub-process.ts and
 * bench/agent-swarm.ts answer `{ id, ok, value | error }` to each `{ id, op, ... }`), and the
 * statistics every figure is reported with.
 */

export type IpcReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export class IpcChild<Req extends { id: number; op: string }> {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited: string | undefined;
  private readonly ready: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.ready = new Promise<void>((resolve, reject) => {
      child.on('message', (r: IpcReply) => {
        if (r.id === 0) return resolve();
        const p = this.pending.get(r.id);
        this.pending.delete(r.id);
        if (r.ok) p?.resolve(r.value);
        else p?.reject(new Error(r.error));
      });
      child.once('exit', (code, signal) => {
        this.exited = `exited (${signal ?? code})`;
        const e = new Error(`bench child ${this.exited}`);
        reject(e);
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
    });
  }

  /** Forks a TypeScript module (through tsx) and waits for its `ready` (id 0). */
  static async start<R extends { id: number; op: string }>(
    modulePath: string,
    options: { env?: NodeJS.ProcessEnv; execArgv?: string[] } = {},
  ): Promise<IpcChild<R>> {
    const child = fork(modulePath, [], {
      execArgv: ['--import', 'tsx', '--expose-gc', ...(options.execArgv ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...options.env },
    });
    const c = new IpcChild<R>(child);
    await c.ready;
    return c;
  }

  call<T>(req: WithoutId<Req>): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`bench child ${this.exited}`));
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...req, id });
    });
  }

  /** Asks the child to stop (op `stop`), then makes sure it is gone. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (!this.exited) {
      const gone = new Promise((r) => this.child.once('exit', r));
      await Promise.race([this.call({ op: 'stop' } as WithoutId<Req>).catch(() => {}), timeout(timeoutMs)]);
      if (!this.exited) await Promise.race([gone, timeout(2000)]);
    }
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Like pause, but does not keep the process alive (for races). */
const timeout = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await pause(100);
  }
}

export const round = (x: number, digits = 1): number => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);
