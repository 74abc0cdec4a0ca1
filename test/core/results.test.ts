import { describe, expect, it } from 'vitest';
import { renderResults, type ChildOutput } from '../../src/messages/results.js';
import type { ChildJobRecord, OutputRecord } from '../../src/store/job-store.js';

let nextId = 1;
function child(id: number, computer: string, extra: Partial<ChildJobRecord> = {}): ChildJobRecord {
  return {
    id,
    parentId: 1,
    position: id,
    name: `Job${id}`,
    instanceId: `i${id}`,
    computer,
    runId: `r${id}`,
    state: 'Completed',
    dispatched: true,
    readUpto: 0,
    configurationName: 'bash',
    ...extra,
  };
}
function out(c: ChildJobRecord, data: string, stream: OutputRecord['stream'] = 'output'): OutputRecord {
  const id = nextId++;
  return { id, jobId: 1, childId: c.id, computer: c.computer, runId: c.runId, seq: id, stream, data, at: 0 };
}

describe('renderResults', () => {
  it('joins chunks per computer and orders blocks by first output received', () => {
    const a = child(2, 'web1');
    const b = child(3, 'web2');
    const outputs: ChildOutput[] = [
      { child: a, records: [] },
      { child: b, records: [] },
    ];
    outputs[1]!.records.push(out(b, 'sec'), out(b, 'ond\n'));
    outputs[0]!.records.push(out(a, 'first\n'));
    expect(renderResults(outputs, { hideComputerName: false })).toEqual([
      { kind: 'code', title: 'web2', text: 'second' },
      { kind: 'code', title: 'web1', text: 'first' },
    ]);
  });

  it('cuts large output to head and tail and attaches the whole', () => {
    const c = child(2, 'web1');
    const text = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join('\n');
    const [block] = renderResults([{ child: c, records: [out(c, text)] }], { hideComputerName: false });
    expect(block).toMatchObject({ kind: 'attachment', title: 'web1', omittedLines: 80, content: text });
    if (block?.kind !== 'attachment') throw new Error('not an attachment');
    expect(block.head[0]).toBe('line 1');
    expect(block.tail[block.tail.length - 1]).toBe('line 100');
  });

  it('shows the failure reason of a failed child once, with its exit code', () => {
    const c = child(2, 'web1', { state: 'Failed', exitCode: 2, reason: 'The command exited with code 2.' });
    expect(renderResults([{ child: c, records: [] }], { hideComputerName: false })).toEqual([
      { kind: 'error', text: 'web1: The command exited with code 2.' },
    ]);
    const d = child(3, 'web2', { state: 'Failed', exitCode: 5, reason: 'killed' });
    expect(renderResults([{ child: d, records: [] }], { hideComputerName: true })).toEqual([
      { kind: 'error', text: 'killed (exit code 5)' },
    ]);
  });
});

describe('chunkBlocks', () => {
  it('puts at most 10 blocks and about 12,000 characters in one message', async () => {
    const { chunkBlocks } = await import('../../src/core/job-presenter.js');
    const small = Array.from({ length: 25 }, (_, i) => ({ kind: 'code' as const, text: `out ${i}`, title: `web${i}` }));
    expect(chunkBlocks(small).map((c) => c.length)).toEqual([10, 10, 5]);
    const big = Array.from({ length: 3 }, () => ({ kind: 'code' as const, text: 'x'.repeat(7000) }));
    expect(chunkBlocks(big).map((c) => c.length)).toEqual([1, 1, 1]);
  });
});
