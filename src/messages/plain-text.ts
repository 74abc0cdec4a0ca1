import { isAbsolute } from 'node:path';
import { FINISHED_STATES, type Block, type JobStatusView, type NeutralMessage } from './model.js';
import { formatTable } from './results.js';

/**
 * Neutral messages drawn as plain text (the console channel, logs, test assertions). No
 * escaping is needed: a terminal shows text as it is.
 */

export function formatElapsed(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

export function formatStatus(v: JobStatusView): string {
  const counts = Object.entries(v.counts)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  const lines = [
    `${v.name} (Id ${v.jobId}) ${v.state}: ${counts || 'no children'} of ${v.total} · ${formatElapsed(v.elapsedMs)} · ${v.invokedBy}: ${v.command}`,
  ];
  if (v.stoppedBy !== undefined) lines.push(`  stopped by ${v.stoppedBy}`);
  for (const line of v.detail ?? []) lines.push(`  ${line}`);
  if (v.asJob && v.hasMoreData && FINISHED_STATES.has(v.state)) {
    lines.push(`Output is waiting: Receive-Job ${v.jobId}`);
  }
  if (v.notPosted !== undefined) lines.push(`Not posted (kept in the store, use Receive-Job ${v.jobId}): ${v.notPosted}`);
  return lines.join('\n');
}

export function blockToText(b: Block): string {
  switch (b.kind) {
    case 'text':
      return b.text;
    case 'code':
      return b.title !== undefined ? `── ${b.title} ──\n${b.text}` : b.text;
    case 'table': {
      const t = formatTable(b.columns, b.rows);
      return b.title !== undefined ? `── ${b.title} ──\n${t}` : t;
    }
    case 'status':
      return formatStatus(b.status);
    case 'error':
      return `ERROR: ${b.text}`;
    case 'attachment': {
      const head = b.title !== undefined ? `── ${b.title} ──\n` : '';
      // The console saves attachments to files and passes their absolute path as the filename.
      const where = isAbsolute(b.filename) ? `saved to ${b.filename}` : `attached as ${b.filename}`;
      return `${head}${b.head.join('\n')}\n… ${b.omittedLines} lines cut (whole output ${where}) …\n${b.tail.join('\n')}`;
    }
    case 'actions':
      return '';
  }
}

export function messageToText(m: NeutralMessage): string {
  return m.blocks
    .map(blockToText)
    .filter((s) => s !== '')
    .join('\n');
}
