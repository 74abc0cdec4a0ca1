import { ChatOpsError } from '../errors.js';
import type { EnumDefinition, TypeSpec } from './definition.js';
import { clip } from './parse-error.js';
import { parseNumberLiteral } from './tokenizer.js';
import type { HashtableValue, ObjectRefValue, PsValue } from './values.js';

/**
 * PowerShell's type conversion as the binder applies it (reference 1.8): "instance" checks for
 * the no-coercion passes and coercion with PowerShell's error texts.
 */

export function isObjectRef(v: PsValue): v is ObjectRefValue {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    (v.kind === 'job' || v.kind === 'session' || v.kind === 'agent' || v.kind === 'sessionoption')
  );
}
export function isHashtable(v: PsValue): v is HashtableValue {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'hashtable';
}

/** The number inside a numeric value, and whether it is an Int32 instance. */
function numeric(v: PsValue): { value: number; isInt: boolean; text: string } | undefined {
  if (typeof v === 'number') {
    return { value: v, isInt: Number.isInteger(v) && Math.abs(v) <= 2147483647, text: String(v) };
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'number') {
    const type = v.numberType ?? (Number.isInteger(v.value) && Math.abs(v.value) <= 2147483647 ? 'int' : 'double');
    return { value: v.value, isInt: type === 'int', text: v.text };
  }
  return undefined;
}

/** .NET type name of a value, as PowerShell prints it in conversion errors. */
export function dotnetTypeName(v: PsValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return 'System.String';
  if (typeof v === 'boolean') return 'System.Boolean';
  if (Array.isArray(v)) return 'System.Object[]';
  const n = numeric(v);
  if (n !== undefined) {
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'number') {
      if (v.numberType === 'long') return 'System.Int64';
      if (v.numberType === 'decimal') return 'System.Decimal';
    }
    return n.isInt ? 'System.Int32' : Number.isInteger(n.value) ? 'System.Int64' : 'System.Double';
  }
  switch ((v as { kind: string }).kind) {
    case 'scriptblock':
      return 'System.Management.Automation.ScriptBlock';
    case 'hashtable':
      return 'System.Collections.Hashtable';
    case 'job':
      return 'System.Management.Automation.PSRemotingJob';
    case 'session':
      return 'System.Management.Automation.Runspaces.PSSession';
    case 'sessionoption':
      return 'System.Management.Automation.Remoting.PSSessionOption';
    case 'agent':
      return 'ChatOps.Agent';
    default:
      return 'System.Object';
  }
}

/** PowerShell's string form of a value (arrays joined with spaces, as in string expansion). */
export function toPsString(v: PsValue): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map(toPsString).join(' ');
  switch (v.kind) {
    case 'number':
      return v.text;
    case 'scriptblock':
      return v.text;
    case 'hashtable':
      return 'System.Collections.Hashtable';
    default:
      return v.display;
  }
}

export { clip } from './parse-error.js';

/** Text of a value inside error messages (`Cannot convert value "x"`). */
function shown(v: PsValue): string {
  return Array.isArray(v) ? 'System.Object[]' : clip(toPsString(v));
}

export type Conversion = { ok: true; value: PsValue } | { ok: false; error: ChatOpsError };

function noMessage(parameter: string, inner: string): Conversion {
  return {
    ok: false,
    error: new ChatOpsError('CannotConvertArgumentNoMessage', `Cannot bind parameter '${parameter}'. ${inner}`, { target: parameter }),
  };
}

function castFailure(parameter: string, v: PsValue, to: string): Conversion {
  // A Boolean is IConvertible: .NET's cast fails with its own message (pwsh 7.6).
  if (typeof v === 'boolean') return withError(parameter, v, to, `Invalid cast from 'System.Boolean' to '${to}'.`);
  return noMessage(parameter, `Cannot convert the "${shown(v)}" value of type "${dotnetTypeName(v)}" to type "${to}".`);
}

function withError(parameter: string, v: PsValue, to: string, error: string): Conversion {
  return noMessage(parameter, `Cannot convert value "${shown(v)}" to type "${to}". Error: "${error}"`);
}

/** Is `v` already an instance of the parameter's (element) type — the no-coercion passes. */
export function isInstance(v: PsValue, type: TypeSpec): boolean {
  if (type.array && Array.isArray(v)) return v.every((e) => isElementInstance(e, type));
  return isElementInstance(v, type);
}

function isElementInstance(v: PsValue, type: TypeSpec): boolean {
  if (Array.isArray(v)) return type.kind === 'object' || type.kind === 'psobject';
  switch (type.kind) {
    case 'string':
      return typeof v === 'string';
    case 'int':
      return numeric(v)?.isInt === true;
    case 'bool':
    case 'switch':
      return typeof v === 'boolean';
    case 'scriptblock':
      return typeof v === 'object' && v !== null && v.kind === 'scriptblock';
    case 'hashtable':
      return isHashtable(v);
    case 'pssession':
      return isObjectRef(v) && v.kind === 'session';
    case 'job':
      return isObjectRef(v) && v.kind === 'job';
    case 'pssessionoption':
      return isObjectRef(v) && v.kind === 'sessionoption';
    case 'psobject':
    case 'object':
      return true;
    default:
      return false;
  }
}

/** Converts with coercion, as named binding and the coercing positional passes do. */
export function convert(v: PsValue, type: TypeSpec, parameter: string, sessionOption?: (h: HashtableValue) => Conversion): Conversion {
  if (type.array) {
    if (v === null) return { ok: true, value: null };
    const items = Array.isArray(v) ? v : [v];
    const out: PsValue[] = [];
    for (const item of items) {
      // An element that is itself an array does not convert to the element type (PowerShell
      // does not join it into one string): `-cn (Get-Agent), web3` is refused, not one name.
      if (Array.isArray(item) && type.kind !== 'object' && type.kind !== 'psobject' && type.kind !== 'enum') {
        return objectArrayFailure(type.dotnet.slice(0, -2), parameter);
      }
      const r = convertScalar(item, type, parameter, sessionOption);
      if (!r.ok) return r;
      out.push(r.value);
    }
    return { ok: true, value: out };
  }
  if (Array.isArray(v) && type.kind !== 'object' && type.kind !== 'psobject' && type.kind !== 'enum') {
    return objectArrayFailure(type.dotnet, parameter);
  }
  return convertScalar(v, type, parameter, sessionOption);
}

function objectArrayFailure(dotnet: string, parameter: string): Conversion {
  return {
    ok: false,
    error: new ChatOpsError(
      'CannotConvertArgument',
      `Cannot convert 'System.Object[]' to the type '${dotnet}' required by parameter '${parameter}'. Specified method is not supported.`,
      { target: parameter },
    ),
  };
}

const GUID_HEX = 32;

/** .NET's Guid.Parse error for text it refuses; which one depends on the format the text looks like. */
function guidFormatError(text: string): string {
  if (text.includes('-') || text.startsWith('('))
    return 'Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).';
  if (text.startsWith('{')) return 'Expected 0x prefix.';
  if (text.length === GUID_HEX) return 'Guid string should only contain hexadecimal characters.';
  return 'Unrecognized Guid format.';
}

/** .NET's DateTime.Parse error: a word it does not know is named by its index. */
function dateTimeFormatError(text: string): string {
  const word = /\p{L}/u.exec(text);
  if (word === null) return `String '${clip(text)}' was not recognized as a valid DateTime.`;
  return `The string '${clip(text)}' was not recognized as a valid DateTime. There is an unknown word starting at index '${word.index}'.`;
}

function convertScalar(v: PsValue, type: TypeSpec, parameter: string, sessionOption?: (h: HashtableValue) => Conversion): Conversion {
  const dotnet = type.array ? type.dotnet.slice(0, -2) : type.dotnet;
  switch (type.kind) {
    case 'psobject':
    case 'object':
      return { ok: true, value: v };
    case 'string':
    case 'uri':
    case 'cultureinfo':
      if (v === null) return { ok: true, value: null };
      if (isHashtable(v) && type.kind !== 'string') return castFailure(parameter, v, dotnet);
      // Any object converts to a string (its ToString()), but Uri and CultureInfo are built only
      // from strings: LanguagePrimitives finds no constructor, cast or parse method taking a job,
      // session, agent or script block. This is why an agent object at Invoke-Command's position 0
      // binds to -ComputerName alone in the fourth positional pass (reference 1.5, 1.8).
      if (
        type.kind !== 'string' &&
        typeof v === 'object' &&
        v !== null &&
        (isObjectRef(v) || (!Array.isArray(v) && v.kind === 'scriptblock'))
      ) {
        return castFailure(parameter, v, dotnet);
      }
      // An array element of a string[] parameter becomes one string joined with spaces, as
      // PowerShell converts an array to a string ($OFS); a scalar parameter never gets here.
      if (Array.isArray(v)) return type.kind === 'string' ? { ok: true, value: toPsString(v) } : castFailure(parameter, v, dotnet);
      return { ok: true, value: toPsString(v) };
    case 'pscredential':
      // [Credential] transformation: a string is a user name PowerShell would prompt a password for.
      if (v === null || typeof v === 'string') return { ok: true, value: v };
      return castFailure(parameter, v, dotnet);
    case 'int': {
      if (v === null) return { ok: true, value: 0 };
      if (typeof v === 'boolean') return { ok: true, value: v ? 1 : 0 };
      const n = numeric(v);
      if (n !== undefined) return toInt32(n.value, v, parameter);
      if (typeof v === 'string') {
        const trimmed = v.trim();
        const parsed = trimmed === '' ? { value: 0, type: 'int' as const } : parseNumberLiteral(trimmed);
        if (parsed === undefined) return withError(parameter, v, dotnet, `The input string '${clip(v)}' was not in a correct format.`);
        return toInt32(parsed.value, v, parameter);
      }
      return castFailure(parameter, v, dotnet);
    }
    case 'bool':
    case 'switch': {
      if (typeof v === 'boolean') return { ok: true, value: v };
      if (v === null) return { ok: true, value: false };
      const n = numeric(v);
      if (n !== undefined) return { ok: true, value: n.value !== 0 };
      return {
        ok: false,
        error: new ChatOpsError(
          'CannotConvertArgument',
          // PowerShell 7's text: the inner message is empty (Windows PowerShell explained the Boolean rule there).
          `Cannot convert '${dotnetTypeName(v)}' to the type '${dotnet}' required by parameter '${parameter}'. `,
          { target: parameter },
        ),
      };
    }
    case 'scriptblock':
      if (v === null) return { ok: true, value: null };
      if (typeof v === 'object' && !Array.isArray(v) && v.kind === 'scriptblock') return { ok: true, value: v };
      return castFailure(parameter, v, dotnet);
    case 'hashtable':
    case 'psprimitivedictionary':
      if (v === null) return { ok: true, value: null };
      if (isHashtable(v)) return { ok: true, value: v };
      return castFailure(parameter, v, dotnet);
    case 'guid': {
      if (v === null) return { ok: true, value: null };
      if (typeof v !== 'string') return castFailure(parameter, v, dotnet);
      const guid = normalizeGuid(v);
      if (guid === undefined) {
        return withError(parameter, v, dotnet, guidFormatError(v.trim()));
      }
      return { ok: true, value: guid };
    }
    case 'pssession':
    case 'job':
      if (v === null) return { ok: true, value: null };
      if (isObjectRef(v) && v.kind === (type.kind === 'job' ? 'job' : 'session')) return { ok: true, value: v };
      return castFailure(parameter, v, dotnet);
    case 'pssessionoption':
      if (v === null) return { ok: true, value: null };
      if (isObjectRef(v) && v.kind === 'sessionoption') return { ok: true, value: v };
      if (isHashtable(v) && sessionOption !== undefined) return sessionOption(v);
      return castFailure(parameter, v, dotnet);
    case 'datetime': {
      if (v === null) return castFailure(parameter, v, dotnet);
      if (typeof v !== 'string') return castFailure(parameter, v, dotnet);
      const ms = Date.parse(v);
      if (Number.isNaN(ms)) return withError(parameter, v, dotnet, dateTimeFormatError(v));
      return { ok: true, value: new Date(ms).toISOString() };
    }
    case 'enum':
      return convertEnum(v, type.enumDefinition as EnumDefinition, parameter);
  }
}

function toInt32(value: number, original: PsValue, parameter: string): Conversion {
  // .NET rounds half to even when converting a double to Int32.
  let rounded = Math.round(value);
  if (Math.abs(value % 1) === 0.5 && rounded % 2 !== 0) rounded -= 1;
  if (rounded > 2147483647 || rounded < -2147483648) {
    return withError(parameter, original, 'System.Int32', 'Value was either too large or too small for an Int32.');
  }
  return { ok: true, value: rounded };
}

function normalizeGuid(text: string): string | undefined {
  let t = text.trim();
  // Guid.Parse formats: N (32 digits), D (dashes), B {D} and P (D) — B and P need the dashes.
  const wrapped = (t.startsWith('{') && t.endsWith('}')) || (t.startsWith('(') && t.endsWith(')'));
  if (wrapped) t = t.slice(1, -1);
  if (wrapped && t.length !== 36) return undefined;
  let hex = '';
  for (let i = 0; i < t.length; i++) {
    const c = t.charAt(i);
    if (c === '-') {
      if (![8, 13, 18, 23].includes(i)) return undefined;
      continue;
    }
    if (!/^[0-9a-fA-F]$/.test(c)) return undefined;
    hex += c.toLowerCase();
  }
  if (hex.length !== GUID_HEX) return undefined;
  if (t.includes('-') && t.length !== 36) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * String or number to an enum member name (reference 1.8): exact (case-insensitive) name or
 * numeric value, else a unique prefix, where an exact name beats longer names.
 */
export function convertEnum(v: PsValue, def: EnumDefinition, parameter: string): Conversion {
  if (v === null) return castFailure(parameter, v, def.dotnet);
  const names = def.members.map(([n]) => n);
  const n = numeric(v);
  const byNumber = (num: number): Conversion => {
    const member = def.members.find(([, value]) => value === num);
    if (member !== undefined) return { ok: true, value: member[0] };
    return noMessage(
      parameter,
      `Cannot convert value "${shown(v)}" to type "${def.dotnet}" due to enumeration values that are not valid. Specify one of the following enumeration values and try again. The possible enumeration values are "${names.join(',')}".`,
    );
  };
  if (n !== undefined) return byNumber(n.value);
  if (typeof v !== 'string') return castFailure(parameter, v, def.dotnet);
  const text = v.trim();
  const lower = text.toLowerCase();
  const exact = names.find((name) => name.toLowerCase() === lower);
  if (exact !== undefined) return { ok: true, value: exact };
  // Enum.Parse reads a signed decimal number before any name.
  if (/^[+-]?[0-9]{1,9}$/.test(text)) return byNumber(Number(text));
  const prefixed = names.filter((name) => name.toLowerCase().startsWith(lower));
  if (prefixed.length === 1 && lower !== '') return { ok: true, value: prefixed[0] as string };
  if (prefixed.length > 1 && lower !== '') {
    return withError(
      parameter,
      v,
      def.dotnet,
      `The identifier name ${clip(text)} cannot be processed because it is either too similar or identical to the following enumerator names: ${prefixed.join(', ')}. Use a more specific identifier name.`,
    );
  }
  return withError(
    parameter,
    v,
    def.dotnet,
    `Unable to match the identifier name ${clip(text)} to a valid enumerator name. Specify one of the following enumerator names and try again:\n${names.join(', ')}`,
  );
}
