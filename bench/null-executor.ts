import type { Executor } from '../agent/executors.js';

/**
 * The executor of the bench's `null` agents (bench/agent-swarm.ts): it answers at once, with no
 * process: output `hi\n`, then Completed. A script that contains `stream` instead emits
 * STREAM_LINES lines over about STREAM_MS, in chunks every STREAM_CHUNK_MS (as the process
 * executor's chunker sends a busy process's output), for the latency-under-load figure.
 */

export const STREAM_LINES = 200;
export const STREAM_MS = 2000;
const STREAM_CHUNK_MS = 50;

/** Answers at once without a process; `stream` scripts emit STREAM_LINES lines over STREAM_MS. */
export function createNullExecutor(): Executor {
  return (run, sink) => {
    if (!run.script.includes('stream')) {
      sink.output('output', 'hi\n');
      sink.finish({ state: 'Completed', exitCode: 0 });
      return { stop() {} };
    }
    const chunks = Math.max(1, Math.round(STREAM_MS / STREAM_CHUNK_MS));
    const perChunk = Math.ceil(STREAM_LINES / chunks);
    let line = 0;
    const timer = setInterval(() => {
      let data = '';
      for (let i = 0; i < perChunk && line < STREAM_LINES; i++) data += `stream line ${++line} of ${STREAM_LINES}\n`;
      sink.output('output', data);
      if (line >= STREAM_LINES) {
        clearInterval(timer);
        sink.finish({ state: 'Completed', exitCode: 0 });
      }
    }, STREAM_CHUNK_MS);
    return {
      stop() {
        clearInterval(timer);
        sink.finish({ state: 'Stopped' });
      },
    };
  };
}
