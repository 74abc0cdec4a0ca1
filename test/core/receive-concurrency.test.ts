import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, waitFor, RecordingSink, type TestRuntime } from '../helpers/runtime.js';
import type { IncomingCommand, MessageHandle } from '../../src/core/ports.js';
import type { NeutralMessage } from '../../src/messages/model.js';

/**
 * Receiving is read → post → mark read, with the post taking as long as the platform does.
 * Two receivers of one job at once (two users pressing the Receive-Job button, a Receive-Job
 * -Wait stream and a Receive-Job, a synchronous Invoke-Command's results and a Receive-Job) must
 * together show each output line exactly once.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({
    agents: [
      { name: 'web1', env: { AGENT_ID: 'web1' } },
      { name: 'web2', env: { AGENT_ID: 'web2' } },
    ],
    statusIntervalMs: 100,
  });
});

afterAll(async () => {
  await rt?.stop();
});

/** A chat platform that takes `delayMs` for every post and thread reply. */
class SlowSink extends RecordingSink {
  constructor(private readonly delayMs = 100) {
    super();
  }
  override async post(message: NeutralMessage): Promise<MessageHandle> {
    await sleep(this.delayMs);
    return super.post(message);
  }
  override async postInThread(parent: MessageHandle, message: NeutralMessage): Promise<MessageHandle> {
    await sleep(this.delayMs);
    return super.postInThread(parent, message);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function cmd(text: string): IncomingCommand {
  return { channel: 'console', user: { platform: 'console', userId: 'console', displayName: 'tester' }, text, source: 'command' };
}

function start(
  text: string,
  sink: RecordingSink = new SlowSink(),
): { sink: RecordingSink; done: Promise<{ ok: boolean; jobIds: number[] }> } {
  return { sink, done: rt.core.handle(cmd(text), sink) };
}

/** Every output line shown in these sinks (channel posts and thread replies), `computer: line`. */
function shownLines(sinks: RecordingSink[]): string[] {
  return sinks.flatMap((s) =>
    s.events.flatMap((e) =>
      e.type === 'post' || e.type === 'thread'
        ? e.message.blocks.flatMap((b) => (b.kind === 'code' ? b.text.split('\n').map((l) => `${b.title ?? ''}: ${l}`) : []))
        : [],
    ),
  );
}

async function finishedJob(script: string, computers = 'web1'): Promise<number> {
  const started = await rt.run(`icm ${computers} { ${script} } -AsJob`);
  expect(started.ok).toBe(true);
  const id = started.jobIds[0]!;
  expect((await rt.app.jobs.waitFor(id, 10_000))?.state).toBe('Completed');
  return id;
}

describe('concurrent receivers of one job', () => {
  it('two Receive-Jobs at once (slow platform): the output appears exactly once in total', async () => {
    const id = await finishedJob('echo "one $AGENT_ID"; echo "two $AGENT_ID"', 'web1,web2');
    const a = start(`Receive-Job ${id}`);
    const b = start(`Receive-Job ${id}`);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.ok && rb.ok).toBe(true);
    expect(shownLines([a.sink, b.sink]).sort()).toEqual(['web1: one web1', 'web1: two web1', 'web2: one web2', 'web2: two web2']);
    // The second one found nothing left, and says so.
    expect([...a.sink.posts(), ...b.sink.posts()].filter((p) => p.includes('No new output.'))).toHaveLength(1);
    for (const c of rt.app.store.children(id)) expect(rt.app.store.hasUnreadOutput(c.id)).toBe(false);
  });

  it('a Receive-Job -Wait stream and repeated plain Receive-Jobs: every line exactly once overall', async () => {
    const started = await rt.run('icm web1 { for i in $(seq 1 12); do echo "line$i"; sleep 0.1; done } -AsJob');
    const id = started.jobIds[0]!;
    const waiter = start(`Receive-Job ${id} -Wait`);
    const plain: RecordingSink[] = [];
    let waitEnded = false;
    void waiter.done.then(() => (waitEnded = true));
    while (!waitEnded) {
      const r = start(`Receive-Job ${id}`);
      plain.push(r.sink);
      await r.done;
      await sleep(30);
    }
    expect((await waiter.done).ok).toBe(true);
    // Whatever is still unread after the wait: received once more, to count it too.
    const last = start(`Receive-Job ${id}`);
    await last.done;
    const lines = shownLines([waiter.sink, ...plain, last.sink]);
    expect(lines.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `web1: line${i + 1}`).sort());
    // Both kinds of receiver really took part.
    expect(shownLines([waiter.sink]).length).toBeGreaterThan(0);
    expect(shownLines(plain).length).toBeGreaterThan(0);
  });

  it('a synchronous Invoke-Command posting its results and a Receive-Job at the same moment: once', async () => {
    const sync = start('icm web1,web2 { echo "a $AGENT_ID"; echo "b $AGENT_ID" }');
    await waitFor(() => rt.app.store.listJobs('console').some((j) => j.command.includes('echo "a $AGENT_ID"')), 10_000, 'the job');
    const id = rt.app.store.listJobs('console').find((j) => j.command.includes('echo "a $AGENT_ID"'))!.id;
    await waitFor(() => rt.app.store.getJob(id)?.state === 'Completed', 10_000, 'the job to complete');
    // The results are being posted in the thread (100 ms each) when the Receive-Job comes in.
    const r = start(`Receive-Job ${id}`);
    await Promise.all([sync.done, r.done]);
    expect(shownLines([sync.sink, r.sink]).sort()).toEqual(['web1: a web1', 'web1: b web1', 'web2: a web2', 'web2: b web2']);
  });

  it('Receive-Job -Keep takes no lock: it answers while a slow Receive-Job of the same job is posting', async () => {
    const id = await finishedJob('echo kept');
    const slow = start(`Receive-Job ${id}`, new SlowSink(1_000));
    let slowDone = false;
    void slow.done.then(() => (slowDone = true));
    await sleep(50);
    const keep = await rt.run(`Receive-Job ${id} -Keep`);
    expect(slowDone).toBe(false);
    // Not marked read yet by the slow one (it has not posted): -Keep shows it all.
    expect(shownLines([keep.sink])).toEqual(['web1: kept']);
    await slow.done;
    expect(shownLines([slow.sink])).toEqual(['web1: kept']);
  });
});
