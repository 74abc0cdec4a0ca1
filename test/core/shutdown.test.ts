import { describe, expect, it } from 'vitest';
import { startTestRuntime, RecordingSink } from '../helpers/runtime.js';

/**
 * Shutting the bot down while an -AsJob job's status edit is still scheduled: the edit is
 * dropped instead of reading a closed store (it used to surface as an unhandled rejection
 * "The database connection is not open" a moment after stop()).
 */
describe('shutdown with live status messages', () => {
  it('drops pending status edits once the bot stops', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => void rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const rt = await startTestRuntime({ agents: [{ name: 'web1' }], statusIntervalMs: 150 });
      const sink = new RecordingSink();
      const outcome = await rt.core.handle(
        {
          channel: 'console',
          user: { platform: 'console', userId: 'console', displayName: 'tester' },
          text: 'icm web1 { echo started; sleep 20 } -AsJob',
          source: 'command',
        },
        sink,
      );
      expect(outcome.ok).toBe(true);
      // The child's state change schedules a status edit; stop before it is due.
      await new Promise((r) => setTimeout(r, 20));
      await rt.stop();
      const editsAtStop = sink.events.length;
      await new Promise((r) => setTimeout(r, 500));
      expect(rejections.map(String)).toEqual([]);
      expect(sink.events.length).toBe(editsAtStop);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });
});
