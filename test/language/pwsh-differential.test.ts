import { beforeAll, describe, expect, it } from 'vitest';
import { ChatOpsError } from '../../src/errors.js';
import { parseScript, type BoundCall, type PsValue } from '../../src/language/index.js';
import { allCmdlets, lookupCmdlet } from '../../src/language/registry.js';
import { invokeCommand, jobs, ours, sessions, splatting, type BindingCase } from './fixtures/binding-cases.js';
import {
  DASH_LINES,
  NUMBER_LINES,
  OTHER_LINES,
  PARSE_ERROR_TEXTS,
  PARSE_ERRORS,
  QUOTE_LINES,
  SCRIPT_BLOCKS,
  STRING_LINES,
} from './fixtures/parse-cases.js';
import { bindLine, makeContext } from './helpers.js';
import { runReference, type ReferenceBinding, type ReferenceOutput, type ReferenceParseError } from './pwsh-reference.js';

/**
 * The language against PowerShell itself (issue 13): every line of the language tests goes
 * through pwsh's own parser, and every binding case through pwsh's own binder (stand-in cmdlets
 * generated from the real cmdlets' metadata, see pwsh-reference.ps1), in one pwsh process. Ours
 * must give the same answer: parses or not and the error id and text; the parameter set, the
 * bound values and the error id and text. An intended difference is allowed only through the
 * typed lists below, each with the reason chat must differ; any other difference fails, and so
 * does an allow-list entry that no longer matches anything.
 */

// ---------------------------------------------------------------------------------------------
// Intended differences

/** Parse error codes of ours where PowerShell parses: chat refuses the line on purpose. */
const PARSE_REFUSALS: Record<string, string> = {
  NotSupported: 'a construct the bot does not run (operators, redirection, member access, ...): refused by name with the reason',
  EmptyCommand: 'an empty message does nothing in PowerShell; in chat it is answered with how to start',
};
/** Limits of ours, reported first whether or not PowerShell parses the line. */
const PARSE_LIMITS: Record<string, string> = {
  LineTooLong: 'a message is limited to 40 KB so one message cannot occupy the bot',
  NestingTooDeep: 'nesting is limited so a message cannot exhaust the parser',
};

/** Codes of ours where PowerShell binds: checks after binding that chat adds or pwsh's metadata cannot show. */
const AFTER_BINDING: Record<string, string> = {
  NotSupported: 'refused after binding (cmdlets/reasons.ts): the parameter, value or set has no meaning for agents reached through the hub',
  InvalidOperation: "the real cmdlet's BeginProcessing check (not in its metadata): checked against the reference document",
  InvalidArgument: "the real cmdlet's BeginProcessing check (not in its metadata): checked against the reference document",
};

/** Texts ours appends after PowerShell's full message. */
const MESSAGE_ADDITIONS: Array<{ pattern: RegExp; reason: string }> = [
  { pattern: / Did you mean .+\?$/, reason: 'a suggestion for a mistyped command or parameter name' },
  { pattern: / Variable \$\S+ is not set in this channel\.$/, reason: 'says the $null came from an unset channel variable' },
  { pattern: / \(-\S+ cannot be used together with (-\S+(, )?)+\.\)$/, reason: 'names the parameters that emptied the parameter-set mask' },
  { pattern: / Run Get-Help \S+ to see its parameters\.$/, reason: 'points to the help the bot answers in the channel' },
  {
    pattern: / If '.+' is meant as text, quote the values: '.+',\.\.\.$/,
    reason: 'a bare word where a value is expected is a command in PowerShell',
  },
  { pattern: / To use it as text, quote it: '.+'\.$/, reason: 'a bare word where a value is expected is a command in PowerShell' },
];

/** pwsh errors the harness cannot avoid: then ours must refuse after binding, for the reason given. */
const PWSH_CANNOT_BIND: Array<{ matches: (r: ReferenceBinding) => boolean; reason: string }> = [
  {
    matches: (r) => !r.ok && r.parameter === 'Credential' && r.message.includes('NonInteractive'),
    reason: '-Credential <user> makes PowerShell prompt for a password; chat never takes credentials (refused after binding)',
  },
];

/** Cmdlets whose binding pwsh on Linux cannot show: the reference document stays the source. */
const REFERENCE_ONLY: Record<string, string> = {
  'Connect-PSSession': 'not in pwsh on Linux (WSMan remoting only)',
  'Disconnect-PSSession': 'not in pwsh on Linux (WSMan remoting only)',
  'Receive-PSSession': 'not in pwsh on Linux (WSMan remoting only)',
  'New-PSSessionOption': 'pwsh on Linux has only -SkipCACheck and -SkipCNCheck; the Windows build (reference 3.10) is the product',
  'Get-Variable': "the bot's own reduced cmdlet over channel variables",
  'Remove-Variable': "the bot's own reduced cmdlet over channel variables",
  'Get-Help': "the bot's own reduced cmdlet (help generated from the definitions)",
  'Get-Command': "the bot's own reduced cmdlet (the commands the bot understands)",
  'Get-Agent': "the bot's own cmdlet (registered agents); PowerShell has none",
  'Get-ChannelPermission': "the bot's own cmdlet (channel permissions); PowerShell has none",
  'Grant-ChannelPermission': "the bot's own cmdlet (channel permissions); PowerShell has none",
  'Revoke-ChannelPermission': "the bot's own cmdlet (channel permissions); PowerShell has none",
  'Clear-Host': 'a function in PowerShell, without cmdlet metadata to generate a stand-in from',
};
/** Which of REFERENCE_ONLY pwsh on Linux lacks (checked: pwsh must report exactly these missing). */
const MISSING_ON_LINUX = ['Connect-PSSession', 'Disconnect-PSSession', 'Receive-PSSession'];

/** One line whose difference is intended; `ours`/`pwsh` are the codes seen (or 'ok'). */
interface Deviation {
  line: string;
  ours: string;
  pwsh: string;
  reason: string;
}

const PARSE_DEVIATIONS: Deviation[] = [
  {
    line: '$true = 1',
    ours: 'VariableNotWritable',
    pwsh: 'ok',
    reason: 'PowerShell reports it (same id and text) when the statement runs; the bot before running any statement of the message',
  },
];
const BIND_DEVIATIONS: Deviation[] = [
  {
    line: 'New-PSSession web1 -SessionOption @{Bogus=1}',
    ours: 'CannotConvertArgumentNoMessage',
    pwsh: 'CannotConvertArgumentNoMessage',
    reason:
      "the same text up to the list of settable properties: ours lists New-PSSessionOption's parameters the bot knows, not .NET's properties with assembly-qualified types",
  },
];

// ---------------------------------------------------------------------------------------------
// The cases

const BINDING_CASES: BindingCase[] = [...invokeCommand, ...sessions, ...jobs, ...ours, ...splatting];

const PARSE_LINES: string[] = [
  ...new Set([
    ...DASH_LINES.map(([line]) => line),
    ...QUOTE_LINES.map(([line]) => line),
    ...STRING_LINES.map(([line]) => line),
    ...NUMBER_LINES.map(([line]) => line),
    ...SCRIPT_BLOCKS.map(([block]) => `Invoke-Command ${block}`),
    ...PARSE_ERRORS.map(([line]) => line),
    ...PARSE_ERROR_TEXTS.map(([line]) => line),
    ...OTHER_LINES,
    ...BINDING_CASES.map((c) => c.line),
  ]),
];

/** The canonical cmdlet a binding line calls, when it parses and names one of ours. */
function cmdletOf(line: string): string | undefined {
  try {
    const name = parseScript(line).statements[0]?.commands[0]?.name;
    return name === undefined ? undefined : lookupCmdlet(name)?.name;
  } catch {
    return undefined;
  }
}

const COMPARED_CMDLETS = allCmdlets()
  .map((c) => c.name)
  .filter((name) => !(name in REFERENCE_ONLY) || MISSING_ON_LINUX.includes(name));
const BIND_SENT = BINDING_CASES.filter((c) => {
  const name = cmdletOf(c.line);
  return name !== undefined && COMPARED_CMDLETS.includes(name) && !(name in REFERENCE_ONLY);
});

// ---------------------------------------------------------------------------------------------
// Comparison

const usedDeviations = new Set<Deviation>();

function deviationFor(list: Deviation[], line: string, oursCode: string, pwshCode: string): Deviation | undefined {
  const d = list.find((x) => x.line === line && x.ours === oursCode && x.pwsh === pwshCode);
  if (d !== undefined) usedDeviations.add(d);
  return d;
}

/** Ours equals pwsh's text, or pwsh's full text followed by documented additions. */
function sameMessage(oursText: string, pwshText: string): boolean {
  if (oursText === pwshText) return true;
  if (!oursText.startsWith(pwshText)) return false;
  let rest = oursText.slice(pwshText.length);
  for (;;) {
    const addition = MESSAGE_ADDITIONS.find((a) => a.pattern.test(rest));
    if (addition === undefined) return rest === '';
    rest = rest.replace(addition.pattern, '');
    if (rest === '') return true;
  }
}

function oursParse(line: string): { ok: true } | { ok: false; code: string; message: string } {
  try {
    parseScript(line);
    return { ok: true };
  } catch (e) {
    if (!(e instanceof ChatOpsError)) throw e;
    return { ok: false, code: e.code, message: e.message };
  }
}

function checkParse(line: string, errors: ReferenceParseError[]): void {
  const mine = oursParse(line);
  const first = errors[0];
  if (mine.ok && first === undefined) return;
  const oursCode = mine.ok ? 'ok' : mine.code;
  const pwshCode = first === undefined ? 'ok' : first.id;
  if (deviationFor(PARSE_DEVIATIONS, line, oursCode, pwshCode) !== undefined) return;
  if (!mine.ok && mine.code in PARSE_LIMITS) return;
  if (!mine.ok && first === undefined) {
    expect(PARSE_REFUSALS, `pwsh parses ${JSON.stringify(line)}; ours: ${mine.code}: ${mine.message}`).toHaveProperty([mine.code]);
    return;
  }
  const pwshText = errors.map((e) => `${e.id}: ${e.message}`).join(' | ');
  expect(mine.ok, `pwsh does not parse ${JSON.stringify(line)} (${pwshText}); ours does`).toBe(false);
  if (mine.ok || first === undefined) return;
  expect({ code: mine.code, message: mine.message }, `pwsh: ${pwshText}`).toEqual({
    code: first.id,
    message: sameMessage(mine.message, first.message) ? mine.message : first.message,
  });
}

/** Bound values in one plain form on both sides (objects by kind and name, numbers as numbers). */
function plain(v: unknown): unknown {
  // Dates: ours keeps an ISO string in UTC, pwsh's round-trip text has no zone (local; CI runs in UTC).
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$/.test(v)) {
    return new Date(/(Z|[+-]\d\d:\d\d)$/.test(v) ? v : `${v}Z`).toISOString();
  }
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(plain);
  const o = v as Record<string, unknown>;
  switch (o['kind']) {
    case 'number':
      return o['value'];
    case 'scriptblock':
      return { kind: 'scriptblock', text: o['text'] };
    case 'session':
    case 'job': {
      const properties = o['properties'] as Record<string, unknown> | undefined;
      return { kind: o['kind'], name: o['name'] ?? properties?.['Name'] ?? o['display'] };
    }
    case 'sessionoption':
      return { kind: 'sessionoption' };
    case 'hashtable': {
      const entries = (o['entries'] as Array<{ key: string; value: unknown }>).map((e) => ({ key: e.key, value: plain(e.value) }));
      return { kind: 'hashtable', entries: entries.sort((a, b) => a.key.localeCompare(b.key)) };
    }
    default:
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, plain(x)]));
  }
}

async function oursBind(c: BindingCase): Promise<{ ok: true; call: BoundCall } | { ok: false; code: string; message: string }> {
  try {
    return { ok: true, call: await bindLine(c.line, makeContext(c.vars ?? {})) };
  } catch (e) {
    if (!(e instanceof ChatOpsError)) throw e;
    return { ok: false, code: e.code, message: e.message };
  }
}

async function checkBinding(c: BindingCase, reference: ReferenceBinding): Promise<void> {
  const mine = await oursBind(c);
  const oursCode = mine.ok ? 'ok' : mine.code;
  const pwshCode = reference.ok ? 'ok' : reference.id;
  if (deviationFor(BIND_DEVIATIONS, c.line, oursCode, pwshCode) !== undefined) return;
  const cannotBind = PWSH_CANNOT_BIND.find((x) => x.matches(reference));
  if (!mine.ok && (reference.ok || cannotBind !== undefined)) {
    const setter =
      mine.code === 'ParameterBindingFailed' && /^Cannot bind parameter '(\w+)' to the target\. Exception setting "\1"/.test(mine.message);
    const allowed = mine.code in AFTER_BINDING || setter;
    expect(allowed, `pwsh binds ${c.line} (${cannotBind?.reason ?? pwshCode}); ours: ${mine.code}: ${mine.message}`).toBe(true);
    return;
  }
  if (!reference.ok) {
    const pwshText = `${reference.id}: ${reference.message}`;
    expect(mine.ok, `pwsh: ${pwshText}; ours binds`).toBe(false);
    if (mine.ok) return;
    expect({ code: mine.code, message: mine.message }, `pwsh: ${pwshText}`).toEqual({
      code: reference.id,
      message: sameMessage(mine.message, reference.message) ? mine.message : reference.message,
    });
    return;
  }
  if (!mine.ok) return;
  // PowerShell's own normalisation (ThrottleLimit 0 => 32, JobName => AsJob) is done by the
  // cmdlet after binding; ours does it in the binder, so apply the same to pwsh's values.
  const expected = { ...(reference.bound as Record<string, PsValue>) };
  lookupCmdlet(mine.call.cmdlet)?.definition.normalize?.(expected);
  const got = { set: mine.call.parameterSet, bound: plain(mine.call.parameters) };
  const want = { set: reference.set, bound: plain(expected) };
  expect(got, `ours ${JSON.stringify(got)}; pwsh ${JSON.stringify(want)}`).toEqual(want);
}

// ---------------------------------------------------------------------------------------------

let reference: ReferenceOutput;

beforeAll(() => {
  const variables = Object.fromEntries(makeContext().variables);
  reference = runReference({
    parse: PARSE_LINES,
    bind: {
      cmdlets: COMPARED_CMDLETS,
      variables,
      cases: BIND_SENT.map((c) => (c.vars === undefined ? { line: c.line } : { line: c.line, variables: c.vars })),
    },
  });
}, 300_000);

describe('pwsh itself', () => {
  it('is PowerShell 7.6, lacks exactly the cmdlets the reference document stands in for, and every attribute that matters was generated', () => {
    expect(reference.version).toMatch(/^7\.6\./);
    expect(reference.bind.missing.sort()).toEqual([...MISSING_ON_LINUX].sort());
    expect(allCmdlets().filter((c) => !COMPARED_CMDLETS.includes(c.name) && !(c.name in REFERENCE_ONLY))).toEqual([]);
    // ValidateTrustedData only acts in ConstrainedLanguage mode, which the harness does not use.
    expect(reference.bind.dropped.filter((d) => !d.endsWith('[System.Management.Automation.ValidateTrustedDataAttribute]'))).toEqual([]);
  });
});

describe("parsing: PowerShell's parser and ours agree", () => {
  it.each(PARSE_LINES.map((line, i) => [line.length > 120 ? `${line.slice(0, 120)}…` : line, i] as const))('%j', (_label, i) => {
    const line = PARSE_LINES[i] as string;
    checkParse(line, reference.parse[i]?.errors ?? []);
  });
});

describe("binding: PowerShell's binder and ours agree", () => {
  it.each(BIND_SENT.map((c, i) => [c.line.length > 120 ? `${c.line.slice(0, 120)}…` : c.line, i] as const))('%s', async (_label, i) => {
    const c = BIND_SENT[i] as BindingCase;
    const r = reference.bind.results[i];
    if (r === undefined) throw new Error(`no pwsh result for ${c.line}`);
    await checkBinding(c, r);
  });
});

describe('the allow-lists', () => {
  it('every listed deviation still happens (a fixed one is removed from the list)', () => {
    const stale = [...PARSE_DEVIATIONS, ...BIND_DEVIATIONS].filter((d) => !usedDeviations.has(d));
    expect(stale).toEqual([]);
  });
});
