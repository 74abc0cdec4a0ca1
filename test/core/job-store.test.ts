import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/store/database.js';
import { SqliteJobStore } from '../../src/store/sqlite-job-store.js';
import { aggregateState } from '../../src/jobs/job-state.js';

let dir: string;
let db: Db;

function open(): SqliteJobStore {
  dir = mkdtempSync(join(tmpdir(), 'jobstore-'));
  db = openDatabase(join(dir, 'chatops.db'));
  return new SqliteJobStore(db);
}

afterEach(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const run = { script: 'echo hi', arguments: [], using: {}, maxRuntimeMs: 0 };

describe('SqliteJobStore', () => {
  it('gives the parent one Id and each child the next ones, as PowerShell does', () => {
    const store = open();
    const a = store.createJob({
      command: 'icm a,b { 1 }',
      channel: 'c1',
      invokedBy: 'u',
      invokedById: 'console',
      asJob: true,
      hideComputerName: false,
      throttleLimit: 32,
      children: [{ computer: 'a' }, { computer: 'b' }],
      run,
    });
    const b = store.createJob({
      command: 'icm c { 1 }',
      channel: 'c1',
      invokedBy: 'u',
      invokedById: 'console',
      asJob: false,
      hideComputerName: false,
      throttleLimit: 32,
      children: [{ computer: 'c' }],
      run,
      name: 'mine',
    });
    expect(a.job.id).toBe(1);
    expect(a.job.name).toBe('Job1');
    expect(a.children.map((c) => c.id)).toEqual([2, 3]);
    expect(a.job.location).toBe('a,b');
    expect(b.job.id).toBe(4);
    expect(b.job.name).toBe('mine');
    expect(store.listJobs('c1').map((j) => j.id)).toEqual([1, 4]);
    expect(store.listJobs('other')).toEqual([]);
  });

  it('stores a resent output record once and tracks the read position', () => {
    const store = open();
    const { job, children } = store.createJob({
      command: 'x',
      channel: 'c',
      invokedBy: 'u',
      invokedById: 'console',
      asJob: true,
      hideComputerName: false,
      throttleLimit: 32,
      children: [{ computer: 'a', agent: 'a' }],
      run,
    });
    const child = children[0]!;
    const rec = {
      jobId: job.id,
      childId: child.id,
      computer: 'a',
      runId: child.runId,
      seq: 1,
      stream: 'output' as const,
      data: 'x\n',
      at: 1,
    };
    expect(store.appendOutput(rec)).toBe(true);
    expect(store.appendOutput(rec)).toBe(false);
    expect(store.appendOutput({ ...rec, seq: 2, data: 'y\n' })).toBe(true);
    expect(store.output(job.id).map((r) => r.data)).toEqual(['x\n', 'y\n']);
    expect(store.hasUnreadOutput(child.id)).toBe(true);
    const rows = store.unreadOutput(child.id);
    store.markRead(child.id, rows[rows.length - 1]!.id);
    expect(store.hasUnreadOutput(child.id)).toBe(false);
    store.deleteJob(job.id);
    expect(store.getJob(job.id)).toBeUndefined();
    expect(store.output(job.id)).toEqual([]);
  });

  it('keeps channel variables as JSON, per channel', () => {
    const store = open();
    store.setVariable('c1', 'Servers', ['web1', 'web2']);
    store.setVariable('c2', 'servers', 'db1');
    expect(store.getVariables('c1').get('servers')).toEqual(['web1', 'web2']);
    expect(store.getVariables('c2').get('servers')).toBe('db1');
    expect(store.removeVariable('c1', 'SERVERS')).toBe(true);
    expect(store.getVariables('c1').size).toBe(0);
  });
});

describe('aggregateState (PSRemotingJob rules)', () => {
  it('follows the reference order', () => {
    expect(aggregateState(['Completed', 'Running'], false)).toBe('Running');
    expect(aggregateState(['Completed', 'Failed', 'Stopped'], true)).toBe('Failed');
    expect(aggregateState(['Completed', 'Stopped'], true)).toBe('Stopped');
    expect(aggregateState(['Completed', 'Completed'], false)).toBe('Completed');
    expect(aggregateState(['Completed', 'Disconnected'], false)).toBe('Disconnected');
    expect(aggregateState(['Blocked', 'Running'], false)).toBe('Blocked');
  });
});
