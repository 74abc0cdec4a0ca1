/**
 * Name checks the policy relies on. Matching must resist bypass: a computer name that is not
 * plain ASCII (a Cyrillic `е` in `wеb1`), or not a host name at all, is refused before any rule
 * is consulted, so it can never match `web*`. After that check names compare ASCII
 * case-insensitively, as DNS does.
 */
import { cmdletNames } from '../language/index.js';

/** DNS label characters plus `_` (NetBIOS names), dots between labels; or an IP literal. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^\[?[0-9A-Fa-f:.]{2,45}\]?$/;

/** Why `name` is not a valid computer name, or undefined when it is one. */
export function invalidComputerName(name: string): string | undefined {
  const odd = [...name].find((ch) => ch.charCodeAt(0) > 0x7e || ch.charCodeAt(0) < 0x21);
  if (odd !== undefined) {
    const cp = odd.codePointAt(0)!;
    return `it contains the character U+${cp.toString(16).toUpperCase().padStart(4, '0')}; computer names are plain ASCII`;
  }
  if (IPV4.test(name) || (name.includes(':') && IPV6.test(name))) return undefined;
  if (!HOST_NAME.test(name)) return 'it is not a valid host name';
  return undefined;
}

/** Shows a name with anything outside printable ASCII escaped, so a lookalike is visible as such. */
export function showName(name: string): string {
  let out = '';
  for (const ch of name) {
    const cp = ch.codePointAt(0)!;
    out += cp >= 0x20 && cp <= 0x7e ? ch : `\\u{${cp.toString(16).toUpperCase()}}`;
  }
  return out;
}

/** ASCII-only lower-casing: never maps a non-ASCII letter onto an ASCII one. */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/**
 * Compiles a PowerShell-style wildcard (`*` any run, `?` one character) into an anchored,
 * ASCII case-insensitive matcher. Everything else is literal.
 */
export function wildcardMatcher(pattern: string): (value: string) => boolean {
  const lowered = asciiLower(pattern);
  if (!/[*?]/.test(lowered)) return (value) => asciiLower(value) === lowered;
  const body = lowered
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${body}$`, 's');
  return (value) => re.test(asciiLower(value));
}

/** A computer pattern in a rule: a name or wildcard, or an agent tag `key=value`. */
export function invalidComputerPattern(pattern: string): string | undefined {
  if (pattern.includes('=')) {
    return /^[A-Za-z0-9_.-]+=[A-Za-z0-9_.*?:/-]*$/.test(pattern)
      ? undefined
      : `'${showName(pattern)}' is not a valid tag (key=value, ASCII letters, digits, '-', '_', '.')`;
  }
  if (pattern === '*') return undefined;
  if (!/^[A-Za-z0-9_.*?:[\]-]+$/.test(pattern)) {
    return `'${showName(pattern)}' is not a valid computer name or wildcard (ASCII letters, digits, '-', '_', '.', '*', '?')`;
  }
  return undefined;
}

/** Cmdlet patterns must be full names (`Verb-Noun`) or wildcards over them: aliases never match. */
export function invalidCmdletPattern(pattern: string): string | undefined {
  if (pattern === '*') return undefined;
  if (!/^[A-Za-z*?]+-[A-Za-z*?]+$/.test(pattern)) {
    return `'${showName(pattern)}' is not a cmdlet name: write the full Verb-Noun name (Invoke-Command, not icm)`;
  }
  // A misspelt name would match nothing and silently grant nothing: say so where it is written.
  const matches = wildcardMatcher(pattern);
  if (!cmdletNames().some(matches)) {
    return /[*?]/.test(pattern)
      ? `'${showName(pattern)}' matches no cmdlet this bot knows (Get-Command lists them)`
      : `'${showName(pattern)}' is not a cmdlet this bot knows (Get-Command lists them)`;
  }
  return undefined;
}
