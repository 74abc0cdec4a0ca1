import type { ObjectRefValue, PsValue } from '../language/values.js';

/** PowerShell's ToString() of a PSRemotingJob: binding a job object to a string gives this. */
const JOB_DISPLAY = 'System.Management.Automation.PSRemotingJob';

export function jobRef(id: number): ObjectRefValue {
  return { kind: 'job', id, display: JOB_DISPLAY };
}

export function agentRef(name: string): ObjectRefValue {
  return { kind: 'agent', id: name, display: name };
}

/** A value as data for an agent (ArgumentList, $Using:): plain JSON, never script text. */
export function toJson(v: PsValue): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(toJson);
  switch (v.kind) {
    case 'scriptblock':
      return v.text;
    case 'number':
      return v.value;
    case 'hashtable': {
      const o: Record<string, unknown> = {};
      for (const e of v.entries) o[e.key] = toJson(e.value);
      return o;
    }
    default:
      return v.display;
  }
}

/** The value as PowerShell would print it, one item per line. */
export function toText(v: PsValue): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (Array.isArray(v)) return v.map(toText).join('\n');
  switch (v.kind) {
    case 'scriptblock':
      return v.text;
    case 'number':
      return v.text;
    case 'hashtable':
      return v.entries.map((e) => `${e.key} = ${inlineText(e.value)}`).join('\n');
    default:
      return v.display;
  }
}

/** A value inside a hashtable, on one line: a nested hashtable as `@{State=Running; Reason=...}`. */
function inlineText(v: PsValue): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && v.kind === 'hashtable') {
    return `@{${v.entries.map((e) => `${e.key}=${inlineText(e.value)}`).join('; ')}}`;
  }
  return toText(v);
}

export function asArray(v: PsValue | undefined): PsValue[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

export function asStrings(v: PsValue | undefined): string[] {
  return asArray(v).map((x) => (typeof x === 'string' ? x : toText(x)));
}

export function asNumbers(v: PsValue | undefined): number[] {
  return asArray(v).map((x) => {
    if (typeof x === 'number') return x;
    if (typeof x === 'object' && x !== null && !Array.isArray(x) && x.kind === 'number') return x.value;
    return Number(toText(x));
  });
}

export function asBool(v: PsValue | undefined): boolean {
  return v === true;
}

export function asString(v: PsValue | undefined): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : toText(v);
}

export function asNumber(v: PsValue | undefined): number | undefined {
  if (v === undefined || v === null) return undefined;
  return asNumbers(v)[0];
}

/** PowerShell wildcard (`*`, `?`, `[a-z]`), case-insensitive, whole string. */
export function wildcard(pattern: string): (s: string) => boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end > i) {
        re += `[${pattern.slice(i + 1, end).replace(/\\/g, '\\\\')}]`;
        i = end;
      } else re += '\\[';
    } else if (c === '`' && i + 1 < pattern.length) {
      re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const rx = new RegExp(`^${re}$`, 'is');
  return (s) => rx.test(s);
}

export function hasWildcard(s: string): boolean {
  return /[*?[]/.test(s);
}
