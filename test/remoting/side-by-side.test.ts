import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childHasMoreData, hasMoreData } from '../../src/jobs/job-state.js';
import { jobCommandText } from '../../src/messages/results.js';
import { type RecordingSink, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';
import { DEVIATIONS } from './deviations.js';
import { CASES, SESSION_CASES, type SessionCase, type SideBySideCase } from './cases.js';
import { type Difference, compareCase, compareSteps, ourRecords } from './compare.js';
import {
  ensureTools,
  PwshReference,
  type JobSnapshot,
  type ReferenceRecord,
  type ReferenceResult,
  type Sshd,
  startSshd,
} from './ssh-remoting.js';

/**
 * Side by side with PowerShell's own remoting: every case runs through the bot (real agents
 * named web1 and web2 running real pwsh 7.6) and through pwsh's Invoke-Command over SSH to the
 * same names on a loopback sshd, and what a user sees is compared: the objects with their
 * PSComputerName, the error records, and for -AsJob the job's and its children's states and
 * HasMoreData after Wait-Job, Receive-Job -Keep and Receive-Job. Session cases run command lines
 * in order on both sides (New-PSSession, Invoke-Command -Session, Get-PSSession, Remove-PSSession)
 * and compare what each step showed. A difference is a failing test unless deviations.ts lists
 * it with the reason (the README's deviation table).
 */

let rt: TestRuntime;
let sshd: Sshd;
let ref: PwshReference;

beforeAll(async () => {
  const tools = ensureTools();
  sshd = await startSshd(tools);
  const [runtime, reference] = await Promise.all([
    startTestRuntime({
      agents: ['web1', 'web2'].map((name) => ({
        name,
        env: { PATH: `${dirname(tools.pwsh)}:${process.env.PATH ?? ''}` },
        args: ['--configuration', 'Microsoft.PowerShell'],
      })),
      runbooks: Object.fromEntries(CASES.flatMap((c) => (c.files ? Object.entries(c.files) : []))),
    }),
    PwshReference.start(tools, sshd, ['web1', 'web2']),
  ]);
  rt = runtime;
  ref = reference;
}, 180_000);

afterAll(async () => {
  await ref?.stop();
  await sshd?.stop();
  await rt?.stop();
});

function snapshot(jobId: number): JobSnapshot {
  const job = rt.app.store.getJob(jobId)!;
  return {
    state: job.state,
    hasMoreData: hasMoreData(rt.app.store, job),
    location: job.location,
    command: jobCommandText(rt.app.store, job),
    children: rt.app.store
      .children(jobId)
      .map((c) => ({ computer: c.computer, state: c.state, hasMoreData: childHasMoreData(rt.app.store, c) })),
  };
}

function psLiteral(v: string | number | boolean): string {
  if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`;
  if (typeof v === 'boolean') return v ? '$true' : '$false';
  return String(v);
}

async function runOurs(c: SideBySideCase): Promise<ReferenceResult> {
  for (const [name, value] of Object.entries(c.using ?? {})) {
    const r = await rt.run(`$${name} = ${psLiteral(value)}`);
    expect(r.ok, r.sink.text()).toBe(true);
  }
  const line = `Invoke-Command -ComputerName ${c.computers.join(',')} ${c.filePath ? `-FilePath ${c.filePath}` : `-ScriptBlock {${c.script}}`} ${c.params ?? ''}${c.asJob ? ' -AsJob' : ''}`;
  const before = Math.max(0, ...rt.app.store.listJobs().map((j) => j.id));
  const ran = await rt.run(line);
  const jobId = Math.max(0, ...rt.app.store.listJobs().map((j) => j.id));
  if (jobId === before) return { id: c.id, thrown: { message: ran.sink.text(), fqid: '' } };
  if (!c.asJob) return { id: c.id, records: ourRecords(rt.app.store.output(jobId)) };
  if (c.stopWhenRunning) {
    const deadline = Date.now() + 30_000;
    while (rt.app.store.children(jobId).some((ch) => ch.state !== 'Running') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await rt.run(`Stop-Job -Id ${jobId}`);
  }
  await rt.run(`Wait-Job -Id ${jobId} -Timeout 60`);
  const afterWait = snapshot(jobId);
  const all = ourRecords(rt.app.store.output(jobId));
  await rt.run(`Receive-Job -Id ${jobId} -Keep`);
  const afterKeep = snapshot(jobId);
  await rt.run(`Receive-Job -Id ${jobId}`);
  const afterReceive = snapshot(jobId);
  return { id: c.id, afterWait, keep: all, afterKeep, receive: all, afterReceive };
}

/**
 * What one typed line showed, as the reference's records: a synchronous job's stored output (with
 * its computers), else what the sink shows (tables and code as output, error blocks as errors,
 * one record per line). An -AsJob job shows nothing here (the steps assign it, as pwsh's do).
 */
function stepRecords(ran: { sink: RecordingSink; jobIds: number[] }): ReferenceRecord[] {
  if (ran.jobIds.length > 0) {
    return ran.jobIds.flatMap((id) => (rt.app.store.getJob(id)!.asJob ? [] : ourRecords(rt.app.store.output(id))));
  }
  const records: ReferenceRecord[] = [];
  for (const e of ran.sink.events) {
    if (e.type === 'update') continue;
    for (const b of e.message.blocks) {
      if (b.kind === 'error') {
        for (const line of b.text.split('\n')) records.push({ stream: 'error', computer: null, message: line });
      } else if (e.type === 'reply') {
        // A private reply shows errors only (above).
      } else if (b.kind === 'table') {
        for (const row of b.rows)
          records.push({ stream: 'output', computer: null, value: Object.fromEntries(b.columns.map((c, i) => [c, row[i]])) });
      } else if (b.kind === 'code') {
        for (const line of b.text.split('\n')) records.push({ stream: 'output', computer: null, value: line });
      }
    }
  }
  return records;
}

async function runOurSteps(c: SessionCase): Promise<ReferenceResult> {
  const steps: ReferenceRecord[][] = [];
  for (const step of c.steps) steps.push(stepRecords(await rt.run(step.line)));
  return { id: c.id, steps };
}

function expectOnlyDeviations(id: string, differences: Difference[], theirs: ReferenceResult, ours: ReferenceResult): void {
  const allowed = DEVIATIONS.filter((d) => d.cases.includes(id));
  const unexplained = differences.filter((d) => !allowed.some((a) => a.aspect === d.aspect));
  expect(
    unexplained.map((d) => `${d.aspect}: ${d.text}`),
    `reference: ${JSON.stringify(theirs)}\nours: ${JSON.stringify(ours)}`,
  ).toEqual([]);
  // A listed deviation that no longer happens is stale: the table must stay true.
  for (const a of allowed) {
    expect(
      differences.some((d) => d.aspect === a.aspect),
      `${a.aspect} listed for ${id} in deviations.ts no longer differs: remove it there${'reason' in a ? ' and from the README' : ''}`,
    ).toBe(true);
  }
}

describe('Invoke-Command side by side with pwsh over SSH', () => {
  for (const c of CASES) {
    it(`${c.id}: ${c.title}`, async () => {
      const [theirs, ours] = await Promise.all([ref.run({ ...c, ...(c.filePath ? { script: c.files![c.filePath]! } : {}) }), runOurs(c)]);
      expectOnlyDeviations(c.id, compareCase(theirs, ours), theirs, ours);
    }, 120_000);
  }
});

describe('sessions side by side with pwsh over SSH', () => {
  for (const c of SESSION_CASES) {
    it(`${c.id}: ${c.title}`, async () => {
      const [theirs, ours] = await Promise.all([
        ref.runSteps(
          c.id,
          c.steps.map((s) => s.pwsh ?? s.line),
        ),
        runOurSteps(c),
      ]);
      expectOnlyDeviations(c.id, compareSteps(c.steps, theirs, ours), theirs, ours);
    }, 120_000);
  }
});
