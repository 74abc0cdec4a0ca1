import { ChatOpsError } from '../errors.js';
import { clip, convert, toPsString, type Conversion } from './conversion.js';
import { newPSSessionOption } from './cmdlets/new-pssessionoption.js';
import type { HashtableValue, PsValue } from './values.js';

/**
 * `-SessionOption @{...}`: PowerShell converts a hashtable to PSSessionOption by setting the
 * object's properties. Keys are the PSSessionOption property names (or New-PSSessionOption
 * parameter names); values are converted with the New-PSSessionOption parameter types, and the
 * result uses the parameter names, like `New-PSSessionOption` output. Timeouts are taken as
 * milliseconds, as New-PSSessionOption's parameters are.
 */
const PROPERTY_TO_PARAMETER: Record<string, string> = {
  maximumconnectionredirectioncount: 'MaximumRedirection',
};

const TYPE = 'System.Management.Automation.Remoting.PSSessionOption';

export function sessionOptionFromHashtable(table: HashtableValue, parameter: string): Conversion {
  const options: Record<string, PsValue> = {};
  for (const { key, value } of table.entries) {
    const lower = key.toLowerCase();
    const name = PROPERTY_TO_PARAMETER[lower] ?? key;
    const p = newPSSessionOption.parameters.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (p === undefined) {
      return {
        ok: false,
        error: new ChatOpsError(
          'CannotConvertArgumentNoMessage',
          `Cannot bind parameter '${parameter}'. Cannot create object of type "${TYPE}". The property '${clip(key)}' was not found for the '${TYPE}' object. The settable properties are: ${newPSSessionOption.parameters.map((x) => `[${x.name}]`).join(', ')}.`,
          { target: parameter },
        ),
      };
    }
    const r = convert(value, p.type, p.name);
    if (!r.ok) {
      return {
        ok: false,
        error: new ChatOpsError(
          'CannotConvertArgumentNoMessage',
          `Cannot bind parameter '${parameter}'. Cannot create object of type "${TYPE}". ${r.error.message}`,
          { target: parameter },
        ),
      };
    }
    if (p.unsupported !== undefined && r.value !== false) {
      return {
        ok: false,
        error: new ChatOpsError('NotSupported', `-${parameter} ${p.name} is not supported: ${p.unsupported}`, { target: parameter }),
      };
    }
    options[p.name] = r.value;
  }
  const display = `PSSessionOption(${Object.entries(options)
    .map(([k, v]) => `${k}=${toPsString(v)}`)
    .join('; ')})`;
  return { ok: true, value: { kind: 'sessionoption', id: display, display, options } };
}
