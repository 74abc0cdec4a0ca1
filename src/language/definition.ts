import type { BoundCall } from './bound-call.js';
import type { PsValue } from './values.js';

/**
 * Cmdlet metadata in the shape PowerShell's binder uses (reference section 0/3): parameters
 * with per-parameter-set position, mandatory and pipeline flags. The binder, Get-Help and
 * Get-Command -Syntax all read these same definitions.
 */

/** PowerShell's name for the implicit set of a parameter declared without a set name. */
export const ALL_SETS = '__AllParameterSets';

export interface EnumDefinition {
  /** Short name as shown in syntax lines, e.g. `JobState`. */
  name: string;
  /** Full .NET name used in conversion error texts. */
  dotnet: string;
  members: ReadonlyArray<readonly [string, number]>;
}

export type TypeKind =
  | 'string'
  | 'int'
  | 'switch'
  | 'bool'
  | 'scriptblock'
  | 'hashtable'
  | 'guid'
  | 'uri'
  | 'pssession'
  | 'job'
  | 'pscredential'
  | 'pssessionoption'
  | 'psobject'
  | 'object'
  | 'datetime'
  | 'cultureinfo'
  | 'psprimitivedictionary'
  | 'enum';

export interface TypeSpec {
  kind: TypeKind;
  /** True for `string[]`, `int[]`, `Job[]` ...: scalars are wrapped into one-element arrays. */
  array: boolean;
  enumDefinition?: EnumDefinition;
  /** Full .NET type name as PowerShell prints it in errors, e.g. `System.String[]`. */
  dotnet: string;
  /** Type as shown in syntax lines, e.g. `string[]`, `PSSession[]`. */
  display: string;
}

export interface SetMembership {
  /** Declared Position (ordinal, see reference 1.5). */
  position?: number;
  mandatory: boolean;
  valueFromPipeline: boolean;
  valueFromPipelineByPropertyName: boolean;
}

export type Validation =
  | { kind: 'notNull' }
  | { kind: 'notNullOrEmpty' }
  | { kind: 'notNullOrWhiteSpace' }
  | { kind: 'range'; min: number; max: number }
  | { kind: 'set'; values: string[] }
  | { kind: 'variableName' };

export interface ParameterDefinition {
  name: string;
  type: TypeSpec;
  aliases: string[];
  /** Set name (or ALL_SETS) to membership, in declaration order. */
  sets: ReadonlyMap<string, SetMembership>;
  validations: Validation[];
  /** `[Credential]` transformation: a string is a user name PowerShell would prompt for. */
  credential?: boolean;
  /**
   * Why this parameter has no meaning for chat remoting. The parameter still binds exactly as
   * in PowerShell (so set resolution and errors are unchanged) and is refused afterwards with
   * code `NotSupported` and the text `-<Name> is not supported: <reason>`.
   */
  unsupported?: string;
  /**
   * Values of the parameter that do work here (compared case-insensitively with the bound
   * value's string form); with `unsupported`, only other values are refused, as
   * `-<Name> <value> is not supported: <reason>` (e.g. -ErrorAction other than Continue).
   */
  supportedValues?: string[];
  /** One sentence for Get-Help. */
  description: string;
  /** Common and ShouldProcess parameters lose prefix ties against declared ones (1.2 step 4). */
  common?: boolean;
}

/** Bound parameter values so far, canonical names. */
export type BoundValues = Record<string, PsValue>;

export interface CmdletDefinition {
  name: string;
  aliases: string[];
  synopsis: string;
  /** DefaultParameterSetName; undefined when the cmdlet declares none. */
  defaultSet?: string;
  /** Parameter sets in declaration order (ALL_SETS alone for cmdlets without named sets). */
  sets: string[];
  parameters: ParameterDefinition[];
  supportsShouldProcess: boolean;
  /**
   * Why the whole cmdlet cannot work here (e.g. Start-Job would run inside the bot). It still
   * binds as in PowerShell; then it is refused with code NotSupported.
   */
  unsupported?: string;
  /** Sets that cannot work here, with the reason (e.g. Invoke-Command's InProcess). */
  unsupportedSets?: Record<string, string>;
  /**
   * Property-setter checks that PowerShell runs while binding (auth mutual exclusion,
   * Receive-Job -Keep/-Wait). Called after each named or positional bind with the values bound
   * so far (including the new one); returns the inner message of a ParameterBindingFailed.
   */
  setterCheck?(parameter: string, bound: BoundValues): string | undefined;
  /**
   * Normalisation PowerShell performs in setters or BeginProcessing that the runtime should not
   * repeat (JobName implies AsJob, ThrottleLimit <= 0 means 32).
   */
  normalize?(bound: BoundValues): void;
  /** BeginProcessing checks that need no runtime state; throw ChatOpsError. */
  beginProcessing?(call: BoundCall): void;
}
