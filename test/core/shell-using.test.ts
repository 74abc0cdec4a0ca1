import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type RecordingSink, type TestRuntime } from '../helpers/runtime.js';
import { shellUsingReferences } from '../../src/core/shell-using.js';

/**
 * `$Using:` for bash/sh: the script names a channel variable as `$USING_NAME`; the core sends the
 * value as data and the agent (a real child process running real bash) exposes it as that
 * environment variable. A literal `$Using:name` in a bash script is refused with a hint.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({ agents: [{ name: 'web1' }] });
});

afterAll(async () => {
  await rt?.stop();
});

const run = (text: string) => rt.run(text);

function output(sink: RecordingSink): string[] {
  return sink.threadBlocks().flatMap((b) => (b.kind === 'code' ? [b.text] : []));
}

describe('$USING_NAME in bash/sh scripts', () => {
  it('sends the channel variable as data: spaces, quotes, $(...) and backticks arrive literally', async () => {
    const marker = join(rt.dir, 'must-not-exist');
    const value = `a  b "dq" 'sq' $(touch ${marker}) \`touch ${marker}\` end`;
    const assigned = await run(`$Payload = '${value.replace(/'/g, "''")}'`);
    expect(assigned.ok).toBe(true);
    const r = await run(`icm web1 -ConfigurationName bash { printf '%s|' "$USING_PAYLOAD"; printf '%s' "\${USING_PAYLOAD}" }`);
    expect(r.sink.replies()).toEqual([]);
    expect(r.ok).toBe(true);
    expect(output(r.sink)).toEqual([`${value}|${value}`]);
    expect(existsSync(marker)).toBe(false);
  });

  it("works with the agent's default configuration (bash here) and with sh, case-insensitively on the channel side", async () => {
    await run(`$Servers = 'web1','web2'`);
    await run(`$greeting = 'hello there'`);
    const byDefault = await run('icm web1 { echo "$USING_GREETING" }');
    expect(output(byDefault.sink)).toEqual(['hello there']);
    const sh = await run('icm web1 -ConfigurationName sh { echo "$USING_SERVERS" }');
    expect(output(sh.sink)).toEqual(['["web1","web2"]']);
  });

  it('refuses a literal $Using:name in a bash script with the hint, before anything reaches an agent', async () => {
    await run(`$servers = 'web1'`);
    const before = rt.app.store.listJobs('console').length;
    const r = await run('icm web1 -ConfigurationName bash { for s in $Using:servers; do echo $s; done }');
    expect(r.ok).toBe(false);
    expect(r.sink.replies().join('\n')).toContain('In a bash script write $USING_SERVERS for $Using:servers');
    const byDefault = await run('icm web1 { echo "$Using:servers" }');
    expect(byDefault.sink.replies().join('\n')).toContain('In a bash script write $USING_SERVERS for $Using:servers');
    expect(rt.app.store.listJobs('console').length).toBe(before);
  });

  it("an unset channel variable is PowerShell's UsingVariableIsUndefined; quoted or escaped text is not a reference", async () => {
    const unset = await run('icm web1 -ConfigurationName bash { echo "$USING_NOPE" }');
    expect(unset.ok).toBe(false);
    expect(unset.sink.replies().join('\n')).toContain(
      "The value of the using variable '$USING_NOPE' ($Using:nope) cannot be retrieved because it has not been set in the local session.",
    );
    const literal = await run(`icm web1 -ConfigurationName bash { echo '$USING_NOPE' \\$USING_NOPE # $USING_NOPE\n}`);
    expect(literal.sink.replies()).toEqual([]);
    expect(output(literal.sink)).toEqual(['$USING_NOPE $USING_NOPE']);
  });
});

describe('shellUsingReferences', () => {
  it('finds $USING_X and ${USING_X...} outside single quotes, escapes and comments', () => {
    expect(shellUsingReferences('echo "$USING_A" ${USING_B:-x} $USING_A $USING_Cx \'$USING_D\' \\$USING_E # $USING_F\n$USING_G')).toEqual([
      'USING_A',
      'USING_B',
      'USING_G',
    ]);
  });
});
