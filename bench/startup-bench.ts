import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Start-up: `printf '' | npm start` (the console in piped mode, empty input, a fresh database)
 * from process start to exit, for the compiled bot (`dist/`, what `npm start` runs) and for the
 * TypeScript sources through tsx, beside `node -e 0` measured in the same run. npm's own start
 * (about 0.3 s) is left out of all three: it is the same for every command.
 */

const REPO = fileURLToPath(new URL('..', import.meta.url));
export const COMPILED_MAIN = join(REPO, 'dist', 'src', 'main.js');

export interface StartupRow {
  name: string;
  /** Median ms from spawn to exit. */
  ms: number;
  /** The same for `node -e 0`. */
  baselineMs: number;
  /** Set when the command could not be measured (e.g. not built). */
  skipped?: string;
}

function timeOnce(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: REPO, env, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`${args.join(' ')} exited ${code}: ${err.slice(-500)}`));
      else resolve(ms);
    });
    child.stdin.end();
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function runStartupBench(options: { repetitions?: number } = {}): Promise<StartupRow[]> {
  const reps = options.repetitions ?? 5;
  const dir = mkdtempSync(join(tmpdir(), 'chatops-startup-'));
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(SLACK|DISCORD|CHATOPS|HUB|EMBEDDED|LOG)_/.test(k)) base[k] = v;
  try {
    const commands: Array<{ name: string; args: string[]; skipped?: string }> = [
      {
        name: 'printf "" | npm start (compiled, dist/)',
        args: [COMPILED_MAIN],
        ...(existsSync(COMPILED_MAIN) ? {} : { skipped: 'not built: run npm run build' }),
      },
      { name: 'the same through tsx (TypeScript sources)', args: ['--import', 'tsx', join(REPO, 'src', 'main.ts')] },
    ];
    const rows: StartupRow[] = [];
    const baseline: number[] = [];
    const times = new Map<string, number[]>(commands.map((c) => [c.name, []]));
    // Interleaved, each on a fresh database: what a first start costs, migrations included.
    for (let i = 0; i < reps; i++) {
      baseline.push(await timeOnce(['-e', '0'], base));
      for (const c of commands) {
        if (c.skipped) continue;
        const env = {
          ...base,
          CHATOPS_DB: join(dir, `run-${i}-${times.get(c.name)!.length}-${c.args.length}.db`),
          HUB_LISTEN: '127.0.0.1:0',
          RUNBOOKS_DIR: join(dir, 'rb'),
        };
        times.get(c.name)!.push(await timeOnce(c.args, env));
      }
    }
    for (const c of commands) {
      rows.push({
        name: c.name,
        ms: c.skipped ? Number.NaN : median(times.get(c.name)!),
        baselineMs: median(baseline),
        ...(c.skipped ? { skipped: c.skipped } : {}),
      });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
