import { ChatOpsError } from '../errors.js';
import type { CommandNode, ParsedStatement } from './ast.js';
import type { BoundCall, BoundStatement } from './bound-call.js';
import { clip, convert, isInstance, isObjectRef, toPsString, type Conversion } from './conversion.js';
import { ALL_SETS } from './definition.js';
import { evaluateExpression, type BindContext } from './evaluate.js';
import { allCommandWords, lookupCmdlet, popcount, setMaskOf, setNameOf, type CompiledCmdlet, type CompiledParameter } from './registry.js';
import { sessionOptionFromHashtable } from './session-option.js';
import { nearest } from './suggest.js';
import type { PsValue } from './values.js';

/**
 * PowerShell's command-line parameter binder (reference 1.2-1.11), step by step and in the same
 * order, so that the same error wins as in PowerShell:
 * reparse -> named -> positional -> set check -> leftovers -> final set -> mandatory,
 * then our NotSupported refusals and the cmdlets' BeginProcessing checks.
 */

interface Arg {
  kind: 'named' | 'positional';
  /** Typed parameter name without the dash. */
  name?: string;
  /** The token as typed. */
  text: string;
  hasValue: boolean;
  value?: PsValue;
  colon: boolean;
  undefinedVariable?: string;
  /** A conversion error recorded while trying this positional argument (1.5). */
  failure?: ChatOpsError;
  /** Came from `@name`: a parameter also named explicitly takes the explicit value. */
  splatted?: boolean;
}

interface State {
  cmd: CompiledCmdlet;
  /** The call waits for pipeline input (it is not the first of its pipeline). */
  pipelineExpected: boolean;
  bound: Map<string, PsValue>;
  boundParams: Set<CompiledParameter>;
  mask: number;
  /** Which binding step is running (conflict hints only name parameters the user named). */
  phase?: 'named' | 'positional' | 'pipeline';
  /** The conversion error of the last positional pass (PowerShell's outgoingBindingException). */
  positionalFailure?: ChatOpsError;
  /** The named bind that emptied the set mask, and the parameters bound before that it excludes. */
  conflict?: { parameter: string; with: string[] };
}

// ---------------------------------------------------------------------------------------------
// Errors (ParameterBinderStrings texts; code = PowerShell's error id)

function bindingError(code: string, message: string, target?: string): ChatOpsError {
  return new ChatOpsError(code, message, target === undefined ? undefined : { target });
}

/**
 * PowerShell's text; when two named parameters emptied the set mask, a hint naming them is
 * appended (PowerShell leaves the user to find them).
 */
function ambiguousParameterSet(state?: State): ChatOpsError {
  const conflict = state?.conflict;
  const hint =
    conflict === undefined ? '' : ` (-${conflict.parameter} cannot be used together with ${conflict.with.map((n) => `-${n}`).join(', ')}.)`;
  return bindingError(
    'AmbiguousParameterSet',
    `Parameter set cannot be resolved using the specified named parameters. One or more parameters issued cannot be used together or an insufficient number of parameters were provided.${hint}`,
    conflict?.parameter,
  );
}

function namedParameterNotFound(cmd: CompiledCmdlet, typed: string): ChatOpsError {
  const suggestion = nearest(
    typed,
    cmd.parameters.flatMap((p) => [{ word: p.name, p }, ...p.definition.aliases.filter((a) => a.length > 3).map((a) => ({ word: a, p }))]),
    (c) => c.word,
  );
  const hint = suggestion === undefined ? ` Run Get-Help ${cmd.name} to see its parameters.` : ` Did you mean -${suggestion.p.name}?`;
  return bindingError('NamedParameterNotFound', `A parameter cannot be found that matches parameter name '${clip(typed)}'.${hint}`, typed);
}

function missingArgument(p: CompiledParameter): ChatOpsError {
  return bindingError(
    'MissingArgument',
    `Missing an argument for parameter '${p.name}'. Specify a parameter of type '${p.definition.type.dotnet}' and try again.`,
    p.name,
  );
}

export function commandNotFound(name: string): ChatOpsError {
  const suggestion = nearest(name, allCommandWords(), (c) => c.word);
  const hint =
    suggestion === undefined ? ' Run Get-Command to list the commands this bot understands.' : ` Did you mean ${suggestion.cmdlet}?`;
  return bindingError(
    'CommandNotFound',
    `The term '${clip(name)}' is not recognized as a name of a cmdlet, function, script file, or executable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.${hint}`,
    name,
  );
}

function notDefinedHint(variable: string | undefined): string {
  return variable === undefined ? '' : ` Variable $${clip(variable)} is not set in this channel.`;
}

// ---------------------------------------------------------------------------------------------
// Parameter-name resolution (1.2)

function matchParameter(cmd: CompiledCmdlet, typed: string): CompiledParameter | undefined {
  const lower = typed.toLowerCase();
  for (const p of cmd.parameters) if (p.lowerName === lower) return p;
  for (const p of cmd.parameters) if (p.lowerAliases.includes(lower)) return p;
  // PowerShell looks through the parameter names first, then the aliases: the possible matches
  // are listed in that order (-C on Invoke-Command ends with -ScriptBlock, matched by its alias Command).
  const byName = cmd.parameters.filter((p) => p.lowerName.startsWith(lower));
  const byAlias = cmd.parameters.filter((p) => !byName.includes(p) && p.lowerAliases.some((a) => a.startsWith(lower)));
  const matches = [...byName, ...byAlias];
  if (matches.length === 0) return undefined;
  if (matches.length === 1) return matches[0];
  const declared = matches.filter((p) => !p.common);
  if (declared.length === 1) return declared[0];
  throw bindingError(
    'AmbiguousParameter',
    `Parameter cannot be processed because the parameter name '${clip(typed)}' is ambiguous. Possible matches include:${matches.map((p) => ` -${p.name}`).join('')}.`,
    typed,
  );
}

// ---------------------------------------------------------------------------------------------
// Binding one value to one parameter

/** Mandatory in a set that is still valid: then $null and empty values are refused (1.9). */
function isMandatoryIn(p: CompiledParameter, mask: number): boolean {
  return p.memberships.some((m) => m.membership.mandatory && (m.inAllSets || (m.bit & mask) !== 0));
}

function convertFor(p: CompiledParameter, value: PsValue): Conversion {
  return convert(value, p.definition.type, p.name, (h) => sessionOptionFromHashtable(h, p.name));
}

/**
 * Instance form for the no-coercion passes: scalars wrapped for array parameters. A
 * round-trippable numeric literal (`007`, `0x10`) is an Int32 instance; an int parameter gets
 * its number, as named binding (which converts) does — only object parameters keep the literal.
 */
function asInstance(p: CompiledParameter, value: PsValue): PsValue {
  const type = p.definition.type;
  if (type.kind === 'int') value = Array.isArray(value) ? value.map(plainNumber) : plainNumber(value);
  if (type.array && !Array.isArray(value) && value !== null) return [value];
  return value;
}

function plainNumber(v: PsValue): PsValue {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'number' ? v.value : v;
}

function validate(p: CompiledParameter, value: PsValue, undefinedVariable: string | undefined, mask: number): void {
  const hint = notDefinedHint(undefinedVariable);
  const kind = p.definition.type.kind;
  const fail = (inner: string): never => {
    throw bindingError('ParameterArgumentValidationError', `Cannot validate argument on parameter '${p.name}'. ${inner}${hint}`, p.name);
  };
  const collectionMessage =
    'The argument is null, empty, or an element of the argument collection contains a null value. Supply a collection that does not contain any null values and then try the command again.';
  for (const v of p.definition.validations) {
    switch (v.kind) {
      case 'notNull':
        if (value === null) fail('The argument is null. Provide a valid value for the argument, and then try running the command again.');
        if (Array.isArray(value) && value.some((e) => e === null)) fail(collectionMessage);
        break;
      case 'notNullOrEmpty':
        if (Array.isArray(value)) {
          if (value.length === 0 || value.some((e) => e === null || e === '')) fail(collectionMessage);
        } else if (value === null || value === '') {
          fail('The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.');
        }
        break;
      case 'notNullOrWhiteSpace':
        if (value === null || (typeof value === 'string' && value.trim() === '')) {
          fail(
            'The argument is null, empty, or consists of only white-space characters. Provide an argument that contains non white-space characters, and then try the command again.',
          );
        }
        break;
      case 'range': {
        for (const item of Array.isArray(value) ? value : [value]) {
          if (typeof item !== 'number') continue;
          if (item < v.min) {
            fail(
              `The ${item} argument is less than the minimum allowed range of ${v.min}. Supply an argument that is greater than or equal to ${v.min} and then try the command again.`,
            );
          }
          if (item > v.max) {
            fail(
              `The ${item} argument is greater than the maximum allowed range of ${v.max}. Supply an argument that is less than or equal to ${v.max} and then try the command again.`,
            );
          }
        }
        break;
      }
      case 'set': {
        const text = toPsString(value);
        if (!v.values.some((allowed) => allowed.toLowerCase() === text.toLowerCase())) {
          fail(
            `The argument "${text}" does not belong to the set "${v.values.join(',')}" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.`,
          );
        }
        break;
      }
      case 'variableName': {
        // PowerShell 7's ValidateVariableName: any characters, but no drive or unknown scope
        // qualifier (`a b` is valid, `env:x` and `a:b:c` are not); `+` appends.
        const text = toPsString(value);
        const name = text.startsWith('+') ? text.slice(1) : text;
        if (name === '') {
          fail(
            'Cannot process argument because the value of argument "path" is not valid. Change the value of the "path" argument and run the operation again.',
          );
        }
        const colon = name.indexOf(':');
        const scoped = colon >= 0 && ['global', 'local', 'script', 'private'].includes(name.slice(0, colon).toLowerCase());
        if (colon >= 0 && !(scoped && name.indexOf(':', colon + 1) < 0 && colon < name.length - 1)) {
          fail(`Cannot validate argument '${clip(text)}' because it is not a valid variable name.`);
        }
        break;
      }
    }
  }
  // After the validation attributes, as PowerShell's BindParameter does: a mandatory parameter
  // refuses $null and empty values (-Id @() on Wait-Job fails its ValidateNotNullOrEmpty first).
  if (isMandatoryIn(p, mask) && kind !== 'switch') {
    if (value === null) {
      throw bindingError(
        'ParameterArgumentValidationErrorNullNotAllowed',
        `Cannot bind argument to parameter '${p.name}' because it is null.${hint}`,
        p.name,
      );
    }
    if (value === '') {
      throw bindingError(
        'ParameterArgumentValidationErrorEmptyStringNotAllowed',
        `Cannot bind argument to parameter '${p.name}' because it is an empty string.`,
        p.name,
      );
    }
    if (Array.isArray(value) && p.definition.type.array && value.some((e) => e === null)) {
      throw bindingError(
        'ParameterArgumentValidationErrorNullNotAllowed',
        `Cannot bind argument to parameter '${p.name}' because it is null.${hint}`,
        p.name,
      );
    }
    if (Array.isArray(value) && p.definition.type.array && value.some((e) => e === '')) {
      throw bindingError(
        'ParameterArgumentValidationErrorEmptyStringNotAllowed',
        `Cannot bind argument to parameter '${p.name}' because it is an empty string.`,
        p.name,
      );
    }
    if (Array.isArray(value) && value.length === 0 && p.definition.type.array) {
      throw bindingError(
        'ParameterArgumentValidationErrorEmptyArrayNotAllowed',
        `Cannot bind argument to parameter '${p.name}' because it is an empty array.`,
        p.name,
      );
    }
  }
}

/**
 * A `{ }` given to a pipeline parameter that is not ScriptBlock-typed is a delay-bind script
 * block in PowerShell (evaluated per input object). Without input: ScriptBlockArgumentNoInput;
 * with input the bot cannot evaluate script blocks locally, so it is refused.
 */
function delayBindScriptBlock(state: State, p: CompiledParameter, value: PsValue): ChatOpsError | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value.kind !== 'scriptblock') return undefined;
  const kind = p.definition.type.kind;
  if (kind === 'scriptblock' || kind === 'object' || kind === 'psobject') return undefined;
  const takesPipeline = p.memberships.some(
    (m) => (m.inAllSets || (m.bit & state.mask) !== 0) && (m.membership.valueFromPipeline || m.membership.valueFromPipelineByPropertyName),
  );
  if (!takesPipeline) return undefined;
  if (!state.pipelineExpected) {
    return bindingError(
      'ScriptBlockArgumentNoInput',
      `Cannot evaluate parameter '${p.name}' because its argument is specified as a script block and there is no input. A script block cannot be evaluated without input.`,
      p.name,
    );
  }
  return bindingError(
    'NotSupported',
    `A script block as the value of -${p.name} (evaluated per pipeline object) is not supported: script blocks only run on agents.`,
    p.name,
  );
}

/**
 * Binds `value` to `p` (coercing or not). Returns false with the conversion error when the
 * value does not convert; validation and setter errors are thrown (1.5, 1.9).
 */
function bindParameter(
  state: State,
  p: CompiledParameter,
  value: PsValue,
  coerce: boolean,
  undefinedVariable?: string,
): { bound: true } | { bound: false; error?: ChatOpsError } {
  const delayBind = delayBindScriptBlock(state, p, value);
  if (delayBind !== undefined) return { bound: false, error: delayBind };
  let converted: PsValue;
  if (coerce) {
    const r = convertFor(p, value);
    if (!r.ok) return { bound: false, error: r.error };
    converted = r.value;
  } else {
    if (!isInstance(value, p.definition.type)) return { bound: false };
    converted = asInstance(p, value);
  }
  validate(p, converted, undefinedVariable, state.mask);
  if (p.common && converted === 'Suspend' && p.definition.type.enumDefinition?.name === 'ActionPreference') {
    throw bindingError(
      'ParameterBindingFailed',
      `Cannot bind parameter '${p.name}' to the target. Exception setting "${p.name}": "The Suspend ActionPreference value is reserved for future use and is not supported at this time. For more information about preference variables, see the Help topic, "about_Preference_Variables.""`,
      p.name,
    );
  }
  const before = state.mask;
  if (state.phase === 'named' && before !== 0 && (before & p.flags) === 0 && state.conflict === undefined) {
    const excluded = [...state.boundParams].filter((q) => !q.common && (q.flags & p.flags) === 0).map((q) => q.name);
    state.conflict = { parameter: p.name, with: excluded };
  }
  state.bound.set(p.name, converted);
  state.boundParams.add(p);
  state.mask &= p.flags;
  const inner = state.cmd.definition.setterCheck?.(p.name, Object.fromEntries(state.bound));
  if (inner !== undefined) {
    throw bindingError(
      'ParameterBindingFailed',
      `Cannot bind parameter '${p.name}' to the target. Exception setting "${p.name}": "${inner}"`,
      p.name,
    );
  }
  return { bound: true };
}

// ---------------------------------------------------------------------------------------------
// The command-line binding pipeline (1.4)

function reparse(cmd: CompiledCmdlet, args: Arg[]): Arg[] {
  const result: Arg[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as Arg;
    if (a.kind === 'positional' || a.hasValue) {
      result.push(a);
      continue;
    }
    const p = matchParameter(cmd, a.name as string);
    if (p === undefined || p.definition.type.kind === 'switch') {
      result.push(a);
      continue;
    }
    const next = args[i + 1];
    if (next === undefined) throw missingArgument(p);
    if (next.kind === 'named') {
      const nextParameter = matchParameter(cmd, next.name as string);
      if (nextParameter !== undefined || next.colon) throw missingArgument(p);
      result.push({ ...a, hasValue: true, value: next.text });
    } else {
      const merged: Arg = { ...a, hasValue: true, value: next.value ?? null };
      if (next.undefinedVariable !== undefined) merged.undefinedVariable = next.undefinedVariable;
      result.push(merged);
    }
    i++;
  }
  return result;
}

function bindNamed(state: State, args: Arg[]): Arg[] {
  const unbound: Arg[] = [];
  // A parameter given explicitly beats the same parameter from a splatted hashtable, wherever
  // each stands (PowerShell 7); two explicit ones, or two splatted ones, are ParameterAlreadyBound.
  const explicit = new Set<CompiledParameter>();
  for (const a of args) {
    if (a.kind !== 'named' || a.splatted === true) continue;
    try {
      const p = matchParameter(state.cmd, a.name as string);
      if (p !== undefined) explicit.add(p);
    } catch {
      // An ambiguous name is reported when it is bound, in order.
    }
  }
  for (const a of args) {
    if (a.kind !== 'named') {
      unbound.push(a);
      continue;
    }
    const p = matchParameter(state.cmd, a.name as string);
    if (p === undefined) {
      unbound.push(a);
      continue;
    }
    if (a.splatted === true && explicit.has(p)) continue;
    if (state.boundParams.has(p)) {
      throw bindingError(
        'ParameterAlreadyBound',
        `Cannot bind parameter because parameter '${p.name}' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, "-parameter value1,value2,value3".`,
        p.name,
      );
    }
    const value = a.hasValue ? (a.value ?? null) : true;
    const r = bindParameter(state, p, value, true, a.undefinedVariable);
    if (!r.bound) throw r.error ?? missingArgument(p);
  }
  return unbound;
}

type Group = Map<CompiledParameter, Array<{ bit: number; inAllSets: boolean }>>;

function positionalGroups(state: State): Group[] {
  const byPosition = new Map<number, Group>();
  for (const p of state.cmd.parameters) {
    if (state.boundParams.has(p)) continue;
    for (const m of p.memberships) {
      const position = m.membership.position;
      if (position === undefined) continue;
      if (!m.inAllSets && (m.bit & state.mask) === 0) continue;
      let group = byPosition.get(position);
      if (group === undefined) byPosition.set(position, (group = new Map()));
      let list = group.get(p);
      if (list === undefined) group.set(p, (list = []));
      list.push({ bit: m.bit, inAllSets: m.inAllSets });
    }
  }
  return [...byPosition.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
}

function pruneGroups(groups: Group[], mask: number): void {
  for (const group of groups) {
    for (const [p, list] of group) {
      const kept = list.filter((m) => m.inAllSets || (m.bit & mask) !== 0);
      if (kept.length === 0) group.delete(p);
      else group.set(p, kept);
    }
  }
}

/** Positional binding with ordinal positions and the four passes (1.5). Returns the leftovers. */
function bindPositional(state: State, args: Arg[]): Arg[] {
  const leftovers: Arg[] = [];
  const groups = positionalGroups(state);
  let index = 0;
  const nextPositional = (): Arg | undefined => {
    while (index < args.length) {
      const a = args[index++] as Arg;
      if (a.kind === 'positional') return a;
      leftovers.push(a);
      // An unknown named parameter takes the value after it with it (1.5).
      const following = args[index];
      if (following !== undefined && following.kind === 'positional') {
        leftovers.push(following);
        index++;
      }
    }
    return undefined;
  };
  const defaultMask = state.cmd.defaultMask;
  // PowerShell keeps the binding error of the last pass it ran (its outgoingBindingException);
  // when arguments are left over, that error is reported instead of PositionalParameterNotFound.
  state.positionalFailure = undefined;
  for (const group of groups) {
    if (group.size === 0) continue;
    const arg = nextPositional();
    if (arg === undefined) break;
    const captured = state.mask;
    const value = arg.value ?? null;
    const pass = (setMask: number, coerce: boolean): boolean => {
      let result = false;
      state.positionalFailure = undefined;
      for (const [p, list] of group) {
        if (!list.some((m) => m.inAllSets || (m.bit & setMask) !== 0)) continue;
        const r = bindPositionalValue(state, p, value, coerce, arg);
        if (r.bound) result = true;
        else if (r.error !== undefined) {
          arg.failure = r.error;
          state.positionalFailure = r.error;
        }
      }
      return result;
    };
    const defaultValid = defaultMask !== 0 && (captured & defaultMask) !== 0;
    let bound = defaultValid && pass(defaultMask, false);
    if (!bound) bound = pass(captured, false);
    if (!bound && defaultValid) bound = pass(defaultMask, true);
    if (!bound) bound = pass(captured, true);
    if (!bound) leftovers.push(arg);
    else if (state.mask !== captured) pruneGroups(groups, state.mask);
  }
  while (index < args.length) leftovers.push(args[index++] as Arg);
  return leftovers;
}

/**
 * An empty collection (e.g. a subexpression that found nothing) is an instance of every array
 * type, so it binds to the first array parameter of the position and fails its
 * ValidateNotNullOrEmpty, as in PowerShell. The text says why, after PowerShell's own.
 */
function bindPositionalValue(state: State, p: CompiledParameter, value: PsValue, coerce: boolean, arg: Arg) {
  try {
    return bindParameter(state, p, value, coerce, arg.undefinedVariable);
  } catch (e) {
    if (e instanceof ChatOpsError && Array.isArray(value) && value.length === 0 && e.code.startsWith('ParameterArgumentValidationError')) {
      throw new ChatOpsError(
        e.code,
        `${e.message} (${clip(arg.text)} gave no objects, so the empty collection was bound to -${p.name}, the first parameter at its position. Check what it returns, or name the parameter.)`,
        e.target === undefined ? undefined : { target: e.target },
      );
    }
    throw e;
  }
}

function unboundPipelineParameterIn(state: State, mask: number): boolean {
  return state.cmd.parameters.some(
    (p) =>
      !state.boundParams.has(p) &&
      p.memberships.some(
        (m) => (m.inAllSets || (m.bit & mask) !== 0) && (m.membership.valueFromPipeline || m.membership.valueFromPipelineByPropertyName),
      ),
  );
}

/** ResolveParameterSetAmbiguityBasedOnMandatoryParameters (1.6 step 3). */
function resolveByMandatory(state: State): boolean {
  let remaining = state.mask;
  let declared = 0;
  for (const p of state.cmd.parameters) for (const m of p.memberships) if (!m.inAllSets) declared |= m.bit;
  remaining &= declared;
  for (const p of state.cmd.parameters) {
    if (state.boundParams.has(p)) continue;
    for (const m of p.memberships) {
      if (m.membership.mandatory && (m.bit & remaining) !== 0) remaining &= ~m.bit;
    }
  }
  if (popcount(remaining) !== 1) return false;
  state.mask = remaining;
  return true;
}

/** ValidateParameterSets: `prePipeline` is the check of step 5, otherwise the final one. */
function validateParameterSets(state: State, prePipeline: boolean): void {
  const count = popcount(state.mask);
  if (count === 0) throw ambiguousParameterSet(state);
  if (count === 1) return;
  const defaultMask = state.cmd.defaultMask;
  if (defaultMask !== 0 && (state.mask & defaultMask) !== 0) {
    if (!prePipeline) state.mask = defaultMask;
    return;
  }
  if (prePipeline && unboundPipelineParameterIn(state, state.mask)) return;
  if (!resolveByMandatory(state)) throw ambiguousParameterSet();
}

function missingMandatory(state: State, pipelineExpected: boolean): CompiledParameter[] {
  const single = popcount(state.mask) === 1;
  const missing: CompiledParameter[] = [];
  for (const p of state.cmd.parameters) {
    if (state.boundParams.has(p)) continue;
    const relevant = p.memberships.filter((m) => m.inAllSets || (m.bit & state.mask) !== 0);
    if (relevant.length === 0) continue;
    const takesPipeline = relevant.some((m) => m.membership.valueFromPipeline || m.membership.valueFromPipelineByPropertyName);
    if (pipelineExpected && takesPipeline) continue;
    if (single) {
      if (relevant.some((m) => m.membership.mandatory)) missing.push(p);
    } else {
      // Unresolved sets: only parameters mandatory in every remaining set are certainly missing.
      let covered = 0;
      for (const m of relevant) if (m.membership.mandatory) covered |= m.inAllSets ? state.mask : m.bit;
      if ((covered & state.mask) === state.mask) missing.push(p);
    }
  }
  return missing;
}

function refuseUnsupported(state: State): void {
  for (const p of state.boundParams) {
    const reason = p.definition.unsupported;
    if (reason === undefined) continue;
    const value = state.bound.get(p.name);
    if (p.definition.type.kind === 'switch' && value === false) continue;
    const allowed = p.definition.supportedValues;
    if (allowed !== undefined) {
      const text = typeof value === 'string' ? value : String(value);
      if (allowed.some((v) => v.toLowerCase() === text.toLowerCase())) continue;
      throw bindingError('NotSupported', `-${p.name} ${text} is not supported: ${reason}`, p.name);
    }
    throw bindingError('NotSupported', `-${p.name} is not supported: ${reason}`, p.name);
  }
}

function refuseUnsupportedCmdlet(cmd: CompiledCmdlet): void {
  const reason = cmd.definition.unsupported;
  if (reason !== undefined) throw bindingError('NotSupported', `${cmd.name} is not supported: ${reason}`, cmd.name);
}

function refuseUnsupportedSet(cmd: CompiledCmdlet, set: string): void {
  const reason = cmd.definition.unsupportedSets?.[set];
  if (reason !== undefined) {
    throw bindingError('NotSupported', `${cmd.name} in the ${set} parameter set is not supported: ${reason}`, set);
  }
}

/**
 * Binds one command's arguments. `pipelineExpected` for calls that receive pipeline input
 * (every call after the first, or after a leading expression): set resolution and mandatory
 * checks for pipeline parameters then wait for `bindPipelineInput`.
 */
export function bindArguments(cmd: CompiledCmdlet, args: Arg[], text: string, pipelineExpected: boolean): BoundCall {
  const state: State = { cmd, pipelineExpected, bound: new Map(), boundParams: new Set(), mask: cmd.allMask };
  const reparsed = reparse(cmd, args);
  state.phase = 'named';
  const unbound = bindNamed(state, reparsed);
  state.phase = 'positional';
  const leftovers = bindPositional(state, unbound);
  validateParameterSets(state, true);
  const first = leftovers[0];
  if (first !== undefined) {
    if (first.kind === 'named') throw namedParameterNotFound(cmd, first.name as string);
    if (state.positionalFailure !== undefined) throw state.positionalFailure;
    const shown = Array.isArray(first.value) ? 'System.Object[]' : clip(toPsString(first.value ?? null));
    throw bindingError('PositionalParameterNotFound', `A positional parameter cannot be found that accepts argument '${shown}'.`, shown);
  }
  if (pipelineExpected && !unboundPipelineParameterIn(state, state.mask)) throw inputObjectNotBound(cmd);
  if (!pipelineExpected) validateParameterSets(state, false);
  const missing = missingMandatory(state, pipelineExpected);
  if (missing.length > 0) {
    throw bindingError(
      'MissingMandatoryParameter',
      `Cannot process command because of one or more missing mandatory parameters:${missing.map((p) => ` ${p.name}`).join('')}.`,
      missing[0]?.name,
    );
  }
  const parameters = Object.fromEntries(state.bound);
  cmd.definition.normalize?.(parameters);
  refuseUnsupportedCmdlet(cmd);
  refuseUnsupported(state);
  const resolved = popcount(state.mask) === 1;
  if (resolved) refuseUnsupportedSet(cmd, setNameOf(cmd, state.mask));
  const call: BoundCall = {
    cmdlet: cmd.name,
    parameterSet: resolved ? setNameOf(cmd, state.mask) : '',
    parameters,
    text,
  };
  if (!resolved) call.pendingSets = cmd.setNames.filter((_, i) => (state.mask & (1 << i)) !== 0);
  cmd.definition.beginProcessing?.(call);
  return call;
}

function inputObjectNotBound(cmd: CompiledCmdlet): ChatOpsError {
  return bindingError(
    'InputObjectNotBound',
    'The input object cannot be bound to any parameters for the command either because the command does not take pipeline input or the input and its properties do not match any of the parameters that take pipeline input.',
    cmd.name,
  );
}

// ---------------------------------------------------------------------------------------------
// Pipeline input (reference 1.4 step 8 deferred; PowerShell's BindPipelineParameters)

function propertyOf(input: PsValue, p: CompiledParameter): PsValue | undefined {
  if (!isObjectRef(input)) return undefined;
  const properties: Record<string, PsValue> = { ...(input.properties ?? {}) };
  const has = (k: string) => Object.keys(properties).some((x) => x.toLowerCase() === k.toLowerCase());
  if (!has('Id') && typeof input.id === 'number') properties['Id'] = input.id;
  if (input.kind === 'agent') {
    if (!has('Name')) properties['Name'] = input.id;
    if (!has('ComputerName')) properties['ComputerName'] = input.id;
  }
  const wanted = [p.lowerName, ...p.lowerAliases];
  for (const [key, value] of Object.entries(properties)) {
    if (wanted.includes(key.toLowerCase())) return value;
  }
  return undefined;
}

/**
 * Binds one pipeline input object to a call bound with `pipelineExpected` (ValueFromPipeline
 * then ByPropertyName, first without then with coercion, default set first), then resolves the
 * parameter set and checks mandatory parameters. An array input is enumerated as PowerShell's
 * pipeline does: each element is bound on its own and the results are merged into one call.
 */
export function bindPipelineInput(call: BoundCall, input: PsValue): BoundCall {
  if (!Array.isArray(input)) return bindOneInput(call, input);
  if (input.length === 0) throw inputObjectNotBound(lookupCmdlet(call.cmdlet) ?? ({ name: call.cmdlet } as CompiledCmdlet));
  // PowerShell binds each object of an enumerated collection on its own. A runtime that runs the
  // call once for the whole collection gets one call in which the array parameters bound from
  // the pipeline hold every object's value, provided all objects bound the same way.
  const calls = input.map((item) => bindOneInput(call, item));
  const first = calls[0] as BoundCall;
  const fromPipeline = Object.keys(first.parameters).filter((k) => !(k in call.parameters));
  const cmd = lookupCmdlet(call.cmdlet);
  const merged: Record<string, PsValue> = { ...first.parameters };
  for (const other of calls.slice(1)) {
    const keys = Object.keys(other.parameters).filter((k) => !(k in call.parameters));
    const same =
      other.parameterSet === first.parameterSet && keys.length === fromPipeline.length && keys.every((k) => fromPipeline.includes(k));
    if (!same) {
      throw bindingError(
        'PipelineInputNotUniform',
        `The ${input.length} input objects bind to different parameters of ${call.cmdlet}; pipe objects of one kind at a time.`,
      );
    }
    for (const key of fromPipeline) {
      const isArray = cmd?.parameters.find((p) => p.name === key)?.definition.type.array === true;
      const a = merged[key];
      const b = other.parameters[key] ?? null;
      if (isArray && Array.isArray(a) && Array.isArray(b)) merged[key] = [...a, ...b];
      else if (JSON.stringify(a) !== JSON.stringify(b)) {
        throw bindingError(
          'PipelineInputNotUniform',
          `The input objects give different values for -${key} of ${call.cmdlet}, which takes a single value; pipe one object at a time.`,
          key,
        );
      }
    }
  }
  return { ...first, parameters: merged };
}

function bindOneInput(call: BoundCall, input: PsValue): BoundCall {
  const cmd = lookupCmdlet(call.cmdlet);
  if (cmd === undefined) throw commandNotFound(call.cmdlet);
  const state: State = {
    cmd,
    pipelineExpected: false,
    bound: new Map(Object.entries(call.parameters)),
    boundParams: new Set(cmd.parameters.filter((p) => p.name in call.parameters)),
    mask:
      call.pendingSets !== undefined
        ? setMaskOf(cmd, call.pendingSets)
        : call.parameterSet === ALL_SETS
          ? cmd.allMask
          : setMaskOf(cmd, [call.parameterSet]),
  };
  if (state.mask === 0) state.mask = cmd.allMask;
  const tryState = (byProperty: boolean, coerce: boolean, setMask: number): boolean => {
    let any = false;
    for (const p of cmd.parameters) {
      if (state.boundParams.has(p)) continue;
      const takes = p.memberships.some(
        (m) =>
          (m.inAllSets || (m.bit & setMask & state.mask) !== 0) &&
          (byProperty ? m.membership.valueFromPipelineByPropertyName : m.membership.valueFromPipeline),
      );
      if (!takes) continue;
      const value = byProperty ? propertyOf(input, p) : input;
      if (value === undefined) continue;
      const r = bindParameter(state, p, value, coerce);
      if (r.bound) any = true;
    }
    return any;
  };
  let anyBound = false;
  for (const [byProperty, coerce] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const defaultValid = cmd.defaultMask !== 0 && (state.mask & cmd.defaultMask) !== 0;
    let did = defaultValid && tryState(byProperty, coerce, cmd.defaultMask);
    if (!did) did = tryState(byProperty, coerce, state.mask);
    if (did) {
      anyBound = true;
      if (popcount(state.mask) === 0) throw ambiguousParameterSet(state);
    }
  }
  if (!anyBound) throw inputObjectNotBound(cmd);
  validateParameterSets(state, false);
  const missing = missingMandatory(state, false);
  if (missing.length > 0) {
    throw bindingError(
      'InputObjectMissingMandatory',
      `The input object cannot be bound because it did not contain the information required to bind all mandatory parameters: ${missing.map((p) => ` ${p.name}`).join('')}`,
      missing[0]?.name,
    );
  }
  refuseUnsupported(state);
  const set = setNameOf(cmd, state.mask);
  refuseUnsupportedSet(cmd, set);
  return { cmdlet: cmd.name, parameterSet: set, parameters: Object.fromEntries(state.bound), text: call.text };
}

// ---------------------------------------------------------------------------------------------
// Statements

async function argumentsOf(command: CommandNode, context: BindContext): Promise<Arg[]> {
  const args: Arg[] = [];
  for (const element of command.elements) {
    if (element.kind === 'parameter') {
      const arg: Arg = { kind: 'named', name: element.name, text: element.text, hasValue: false, colon: element.colon };
      if (element.colonValue !== undefined) {
        const evaluated = await evaluateExpression(element.colonValue, context, bindSingleCommand);
        arg.hasValue = true;
        arg.value = evaluated.value;
        if (evaluated.undefinedVariable !== undefined) arg.undefinedVariable = evaluated.undefinedVariable;
      }
      args.push(arg);
    } else if (element.kind === 'splat') {
      args.push(...(await splattedArguments(element.variable, element.text, context)));
    } else {
      const evaluated = await evaluateExpression(element.value, context, bindSingleCommand);
      const arg: Arg = { kind: 'positional', text: element.text, hasValue: true, value: evaluated.value, colon: false };
      if (evaluated.undefinedVariable !== undefined) arg.undefinedVariable = evaluated.undefinedVariable;
      args.push(arg);
    }
  }
  return args;
}

/**
 * `@name`, as PowerShell splats: a hashtable's entries are named parameters (`-Key:value`), any
 * other collection's elements positional arguments (a string is enumerated by characters, as in
 * PowerShell), anything else (and $null) one positional argument.
 */
async function splattedArguments(variable: string, text: string, context: BindContext): Promise<Arg[]> {
  const evaluated = await evaluateExpression({ kind: 'variable', name: variable, text }, context, bindSingleCommand);
  const value = evaluated.value;
  const positional = (v: PsValue): Arg => {
    const arg: Arg = { kind: 'positional', text: toPsString(v), hasValue: true, value: v, colon: false, splatted: true };
    if (evaluated.undefinedVariable !== undefined) arg.undefinedVariable = evaluated.undefinedVariable;
    return arg;
  };
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && value.kind === 'hashtable') {
    return value.entries.map((e) => ({
      kind: 'named',
      name: e.key,
      text: `-${e.key}`,
      hasValue: true,
      value: e.value,
      colon: true,
      splatted: true,
    }));
  }
  if (Array.isArray(value)) return value.map(positional);
  if (typeof value === 'string') return [...value].map(positional);
  return [positional(value)];
}

async function bindCommand(command: CommandNode, context: BindContext, pipelineExpected: boolean, asValue = false): Promise<BoundCall> {
  // The command is looked up before its arguments are evaluated, as PowerShell does.
  const cmd = lookupCmdlet(command.name);
  if (cmd === undefined) {
    const error = commandNotFound(command.name);
    if (!asValue) throw error;
    // `$x = web1` / `@{Mode=Drop}`: a bare word where a value is expected is a command in PowerShell.
    throw bindingError('CommandNotFound', `${error.message} To use it as text, quote it: '${clip(command.name)}'.`, command.name);
  }
  const args = await argumentsOf(command, context);
  return bindArguments(cmd, args, command.text, pipelineExpected);
}

async function bindSingleCommand(statement: ParsedStatement, context: BindContext, asValue?: boolean): Promise<BoundCall> {
  const command = statement.commands[0];
  if (command === undefined) throw new ChatOpsError('EmptyCommand', 'The command is empty.');
  return bindCommand(command, context, false, asValue === true);
}

export async function bindStatement(statement: ParsedStatement, context: BindContext): Promise<BoundStatement> {
  const result: BoundStatement = { pipeline: [], text: statement.text };
  if (statement.assignTo !== undefined) result.assignTo = statement.assignTo;
  if (statement.commands.length === 0) {
    result.value = statement.head === undefined ? null : (await evaluateExpression(statement.head, context, bindSingleCommand)).value;
    return result;
  }
  if (statement.head !== undefined) {
    result.input = (await evaluateExpression(statement.head, context, bindSingleCommand)).value;
  }
  for (let i = 0; i < statement.commands.length; i++) {
    const command = statement.commands[i] as CommandNode;
    const asValue = i === 0 && statement.head === undefined && statement.assignTo !== undefined;
    result.pipeline.push(await bindCommand(command, context, i > 0 || statement.head !== undefined, asValue));
  }
  return result;
}
