import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { ChatOpsError } from '../errors.js';

/**
 * `-FilePath` names a script in the runbook directory; its text is read here (in the bot, as
 * PowerShell reads the file locally) and shipped as the script block.
 *
 * Decision on extensions (PowerShell requires `.ps1`, reference 2.7; our agents also run bash/sh):
 * - `.ps1` runbooks run under `Microsoft.PowerShell` (or any configuration whose name is not
 *   bash/sh); `.sh` runbooks run under `bash` or `sh`.
 * - Without -ConfigurationName, the extension picks it: `.ps1` → Microsoft.PowerShell,
 *   `.sh` → bash.
 * - Any other extension, or a mismatch, is refused with PowerShell's own message.
 */
export interface Runbook {
  /** Path relative to the runbook directory, with `/` separators (RunMessage.runbook). */
  name: string;
  text: string;
  configurationName: string;
}

const WILDCARD = /[*?[\]]/;

/** Configurations the agents run with bash/sh (by name); any other runs PowerShell. */
export function isShellConfiguration(name: string | undefined): boolean {
  return name !== undefined && ['bash', 'sh'].includes(name.toLowerCase());
}

export function loadRunbook(runbooksDir: string, filePath: string, configurationName?: string): Runbook {
  if (WILDCARD.test(filePath)) {
    throw new ChatOpsError(
      'WildcardNotSupported',
      'Wildcard characters are not supported for the FilePath parameter. Specify a path without wildcard characters.',
      { target: filePath },
    );
  }
  const ext = extname(filePath).toLowerCase();
  const wantShell = isShellConfiguration(configurationName);
  const ps1Message =
    'The value of the FilePath parameter must be a PowerShell script file. Enter the path to a file with a .ps1 file name extension and try the command again.';
  if (configurationName === undefined) {
    if (ext !== '.ps1' && ext !== '.sh') {
      throw new ChatOpsError('InvalidScriptFile', `${ps1Message} (Runbooks for the bash or sh configurations end in .sh.)`, {
        target: filePath,
      });
    }
  } else if (wantShell && ext !== '.sh') {
    throw new ChatOpsError(
      'InvalidScriptFile',
      `The value of the FilePath parameter must be a shell script file for the ${configurationName} configuration. Enter the path to a file with a .sh file name extension and try the command again.`,
      { target: filePath },
    );
  } else if (!wantShell && ext !== '.ps1') {
    throw new ChatOpsError('InvalidScriptFile', ps1Message, { target: filePath });
  }

  const outside = (): ChatOpsError =>
    new ChatOpsError(
      'RunbookOutsideLibrary',
      `The FilePath '${filePath}' is not in the runbook library: name a script inside the runbook directory, without '..' or an absolute path.`,
      { target: filePath },
    );
  const segments = filePath.split(/[\\/]+/);
  if (isAbsolute(filePath) || /^[A-Za-z]:/.test(filePath) || filePath.startsWith('\\') || segments.includes('..')) {
    throw outside();
  }
  const root = resolve(runbooksDir);
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    throw new ChatOpsError('RunbookNotFound', `The runbook directory ${runbooksDir} does not exist.`, { target: filePath });
  }
  const candidate = resolve(root, ...segments.filter((s) => s !== '' && s !== '.'));
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    throw new ChatOpsError('RunbookNotFound', `Cannot find path '${filePath}' because it does not exist in the runbook library.`, {
      target: filePath,
    });
  }
  const rel = relative(realRoot, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw outside();
  if (!lstatSync(real).isFile()) {
    throw new ChatOpsError('RunbookNotFound', `The runbook '${filePath}' is not a file.`, { target: filePath });
  }
  return {
    name: rel.split(sep).join('/'),
    text: readFileSync(real, 'utf8'),
    configurationName: configurationName ?? (ext === '.sh' ? 'bash' : 'Microsoft.PowerShell'),
  };
}
