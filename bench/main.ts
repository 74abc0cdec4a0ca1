/**
 * `npm run bench` (table) and `npm run bench -- --json` (one JSON object). Performance targets
 * live here, measured against a baseline taken in the same run, never in timed unit tests.
 *
 * Targets (2-core machine): fan-out / spawn ratio <= 1.5 at N = 1000 with ThrottleLimit 1000
 * and 32; hub memory <= 50 KB per connected idle agent; start-up of the compiled bot < 1 s.
 */
import { runFanoutBench } from './fanout-bench.js';
import { runLanguageBench } from './language-bench.js';
import { runStartupBench } from './startup-bench.js';

const TARGET_RATIO = 1.5;
const TARGET_BYTES_PER_AGENT = 50 * 1024;
/** `printf '' | npm start` to exit, compiled (the operator-experience issue's target). */
const TARGET_STARTUP_MS = 1000;

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const log = json ? () => {} : (line: string) => process.stderr.write(`${line}\n`);

  const repsArg = process.argv.find((a) => a.startsWith('--reps='));
  const repetitions = repsArg ? Math.max(1, Number(repsArg.slice('--reps='.length)) || 3) : 3;
  const fanout = await runFanoutBench({ log, repetitions });
  const language = await runLanguageBench();
  const startup = await runStartupBench();
  const compiled = startup[0]!;
  const atMax = fanout.rows.filter((r) => r.n === 1000);
  const targets = {
    ratioAt1000: {
      target: TARGET_RATIO,
      values: Object.fromEntries(atMax.map((r) => [`throttle${r.throttleLimit}`, Number(r.ratio.toFixed(3))])),
      met: atMax.length > 0 && atMax.every((r) => r.ratio <= TARGET_RATIO),
    },
    bytesPerIdleAgent: {
      target: TARGET_BYTES_PER_AGENT,
      value: fanout.hubBytesPerIdleAgent.rss,
      met: fanout.hubBytesPerIdleAgent.rss <= TARGET_BYTES_PER_AGENT,
    },
    languageParseBind: {
      met: language.every((r) => r.targetMs === undefined || r.ms <= r.targetMs),
    },
    startupMs: {
      target: TARGET_STARTUP_MS,
      value: Number(compiled.ms.toFixed(1)),
      met: compiled.skipped === undefined && compiled.ms <= TARGET_STARTUP_MS,
    },
  };

  if (json) {
    process.stdout.write(
      `${JSON.stringify({ fanout: { repetitions, rows: fanout.rows, idleAgents: fanout.idleAgents, hubBytesPerIdleAgent: fanout.hubBytesPerIdleAgent }, targets, language, startup })}\n`,
    );
    return;
  }
  const lines: string[] = [];
  lines.push(`Fan-out: command to all results stored, vs Node spawning the same \`sh -c echo\` processes (median of ${repetitions} runs)`);
  lines.push('');
  lines.push(
    `${'N'.padStart(5)}  ${'Throttle'.padStart(8)}  ${'fan-out ms'.padStart(10)}  ${'spawn ms'.padStart(9)}  ${'ratio'.padStart(6)}`,
  );
  for (const r of fanout.rows) {
    lines.push(
      `${String(r.n).padStart(5)}  ${String(r.throttleLimit).padStart(8)}  ${r.fanoutMs.toFixed(1).padStart(10)}  ${r.spawnMs.toFixed(1).padStart(9)}  ${r.ratio.toFixed(2).padStart(6)}`,
    );
  }
  lines.push('');
  lines.push(
    `Hub memory per connected idle agent (${fanout.idleAgents} agents): ${(fanout.hubBytesPerIdleAgent.rss / 1024).toFixed(1)} KB RSS, ${(fanout.hubBytesPerIdleAgent.heap / 1024).toFixed(1)} KB heap+external`,
  );
  lines.push('');
  lines.push(
    `Target ratio <= ${TARGET_RATIO} at N=1000: ${targets.ratioAt1000.met ? 'met' : 'NOT met'} (${atMax.map((r) => `ThrottleLimit ${r.throttleLimit}: ${r.ratio.toFixed(2)}`).join(', ')})`,
  );
  lines.push(`Target <= 50 KB per idle agent: ${targets.bytesPerIdleAgent.met ? 'met' : 'NOT met'}`);
  lines.push(`Target parse+bind of a 40 KB line < 10 ms: ${targets.languageParseBind.met ? 'met' : 'NOT met'}`);
  lines.push('');
  lines.push('Command language: parse and bind (median), beside a baseline over the same text');
  lines.push('');
  lines.push(`${'ms'.padStart(8)}  ${'baseline'.padStart(8)}  ${'target'.padStart(6)}  what`);
  for (const r of language) {
    const target = r.targetMs === undefined ? '' : `<${r.targetMs}${r.ms <= r.targetMs ? '' : '!'}`;
    lines.push(`${r.ms.toFixed(3).padStart(8)}  ${(r.baselineMs?.toFixed(3) ?? '').padStart(8)}  ${target.padStart(6)}  ${r.name}`);
  }
  lines.push('');
  lines.push('Start-up: spawn to exit with empty piped input and a fresh database (median), beside node -e 0');
  lines.push('');
  lines.push(`${'ms'.padStart(8)}  ${'node -e 0'.padStart(9)}  ${'ratio'.padStart(6)}  what`);
  for (const r of startup) {
    lines.push(
      r.skipped
        ? `${'-'.padStart(8)}  ${r.baselineMs.toFixed(1).padStart(9)}  ${'-'.padStart(6)}  ${r.name} (${r.skipped})`
        : `${r.ms.toFixed(1).padStart(8)}  ${r.baselineMs.toFixed(1).padStart(9)}  ${(r.ms / r.baselineMs).toFixed(1).padStart(6)}  ${r.name}`,
    );
  }
  lines.push(`Target start-up < ${TARGET_STARTUP_MS} ms (compiled): ${targets.startupMs.met ? 'met' : 'NOT met'}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
