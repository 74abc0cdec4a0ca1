import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRunbook } from '../../src/jobs/runbooks.js';

let root: string;
let lib: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'runbooks-'));
  lib = join(root, 'lib');
  mkdirSync(join(lib, 'web'), { recursive: true });
  writeFileSync(join(lib, 'web', 'restart.sh'), 'systemctl restart "$1"\n');
  writeFileSync(join(lib, 'check.ps1'), 'Get-Date\n');
  writeFileSync(join(root, 'secret.sh'), 'cat /etc/shadow\n');
  symlinkSync(join(root, 'secret.sh'), join(lib, 'escape.sh'));
  mkdirSync(join(lib, 'dir.sh'));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadRunbook', () => {
  it('reads a script inside the library and picks the configuration from the extension', () => {
    expect(loadRunbook(lib, 'web/restart.sh')).toEqual({
      name: 'web/restart.sh',
      text: 'systemctl restart "$1"\n',
      configurationName: 'bash',
    });
    expect(loadRunbook(lib, './check.ps1')).toMatchObject({ name: 'check.ps1', configurationName: 'Microsoft.PowerShell' });
    expect(loadRunbook(lib, 'web/restart.sh', 'sh').configurationName).toBe('sh');
  });

  it('refuses paths that leave the library: .., absolute paths, symlinks out', () => {
    expect(() => loadRunbook(lib, '../secret.sh')).toThrow(/not in the runbook library/);
    expect(() => loadRunbook(lib, 'web/../../secret.sh')).toThrow(/not in the runbook library/);
    expect(() => loadRunbook(lib, join(root, 'secret.sh'))).toThrow(/not in the runbook library/);
    expect(() => loadRunbook(lib, 'escape.sh')).toThrow(/not in the runbook library/);
  });

  it("applies PowerShell's FilePath checks: wildcards, extension per configuration, missing files", () => {
    expect(() => loadRunbook(lib, 'web/*.sh')).toThrow('Wildcard characters are not supported for the FilePath parameter.');
    expect(() => loadRunbook(lib, 'web/restart.sh', 'Microsoft.PowerShell')).toThrow(/must be a PowerShell script file/);
    expect(() => loadRunbook(lib, 'check.ps1', 'bash')).toThrow(/\.sh file name extension/);
    expect(() => loadRunbook(lib, 'nothing.sh')).toThrow(/does not exist/);
    expect(() => loadRunbook(lib, 'dir.sh')).toThrow(/is not a file/);
  });
});
