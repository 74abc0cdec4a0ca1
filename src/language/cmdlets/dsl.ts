import {
  ALL_SETS,
  type CmdletDefinition,
  type EnumDefinition,
  type ParameterDefinition,
  type SetMembership,
  type TypeKind,
  type TypeSpec,
  type Validation,
} from '../definition.js';

/** Small helpers so each cmdlet file reads like the tables in the reference. */

function t(kind: TypeKind, array: boolean, dotnet: string, display: string): TypeSpec {
  return { kind, array, dotnet: array ? `${dotnet}[]` : dotnet, display: array ? `${display}[]` : display };
}

export const T = {
  string: t('string', false, 'System.String', 'string'),
  strings: t('string', true, 'System.String', 'string'),
  int: t('int', false, 'System.Int32', 'int'),
  ints: t('int', true, 'System.Int32', 'int'),
  switch: t('switch', false, 'System.Management.Automation.SwitchParameter', 'switch'),
  bool: t('bool', false, 'System.Boolean', 'bool'),
  scriptblock: t('scriptblock', false, 'System.Management.Automation.ScriptBlock', 'scriptblock'),
  hashtable: t('hashtable', false, 'System.Collections.Hashtable', 'hashtable'),
  hashtables: t('hashtable', true, 'System.Collections.Hashtable', 'hashtable'),
  guid: t('guid', false, 'System.Guid', 'guid'),
  guids: t('guid', true, 'System.Guid', 'guid'),
  uri: t('uri', false, 'System.Uri', 'uri'),
  uris: t('uri', true, 'System.Uri', 'uri'),
  session: t('pssession', false, 'System.Management.Automation.Runspaces.PSSession', 'PSSession'),
  sessions: t('pssession', true, 'System.Management.Automation.Runspaces.PSSession', 'PSSession'),
  jobs: t('job', true, 'System.Management.Automation.Job', 'Job'),
  credential: t('pscredential', false, 'System.Management.Automation.PSCredential', 'pscredential'),
  sessionOption: t('pssessionoption', false, 'System.Management.Automation.Remoting.PSSessionOption', 'PSSessionOption'),
  psobject: t('psobject', false, 'System.Management.Automation.PSObject', 'psobject'),
  objects: t('object', true, 'System.Object', 'Object'),
  datetime: t('datetime', false, 'System.DateTime', 'datetime'),
  version: t('string', false, 'System.Version', 'version'),
  culture: t('cultureinfo', false, 'System.Globalization.CultureInfo', 'cultureinfo'),
  primitiveDictionary: t('psprimitivedictionary', false, 'System.Management.Automation.PSPrimitiveDictionary', 'PSPrimitiveDictionary'),
  enum(def: EnumDefinition): TypeSpec {
    return { kind: 'enum', array: false, enumDefinition: def, dotnet: def.dotnet, display: def.name };
  },
};

export const V = {
  notNull: { kind: 'notNull' } as Validation,
  notNullOrEmpty: { kind: 'notNullOrEmpty' } as Validation,
  notNullOrWhiteSpace: { kind: 'notNullOrWhiteSpace' } as Validation,
  range: (min: number, max: number): Validation => ({ kind: 'range', min, max }),
  set: (...values: string[]): Validation => ({ kind: 'set', values }),
  variableName: { kind: 'variableName' } as Validation,
};

export const INT_MAX = 2147483647;

/**
 * Parses a membership spec such as `'ComputerName@0!|vp; Session@1'`:
 * `@N` position, `!` mandatory, `|v` ValueFromPipeline, `|p` ValueFromPipelineByPropertyName,
 * `*` the implicit all-sets membership. Only ever applied to the literals in cmdlet files.
 */
export function parseSets(spec: string): Map<string, SetMembership> {
  const sets = new Map<string, SetMembership>();
  for (const raw of spec.split(';')) {
    let part = raw.trim();
    if (part === '') continue;
    let pipe = '';
    const bar = part.indexOf('|');
    if (bar >= 0) {
      pipe = part.slice(bar + 1);
      part = part.slice(0, bar);
    }
    const mandatory = part.endsWith('!');
    if (mandatory) part = part.slice(0, -1);
    let position: number | undefined;
    const at = part.indexOf('@');
    if (at >= 0) {
      position = Number(part.slice(at + 1));
      part = part.slice(0, at);
    }
    const name = part === '*' ? ALL_SETS : part;
    const membership: SetMembership = {
      mandatory,
      valueFromPipeline: pipe.includes('v'),
      valueFromPipelineByPropertyName: pipe.includes('p'),
    };
    if (position !== undefined) membership.position = position;
    sets.set(name, membership);
  }
  return sets;
}

export interface ParamOptions {
  aliases?: string[];
  validate?: Validation[];
  unsupported?: string;
  /** With `unsupported`: the values that are supported (all others are refused). */
  supportedValues?: string[];
  credential?: boolean;
}

export function param(name: string, type: TypeSpec, sets: string, description: string, options: ParamOptions = {}): ParameterDefinition {
  const definition: ParameterDefinition = {
    name,
    type,
    aliases: options.aliases ?? [],
    sets: parseSets(sets),
    validations: options.validate ?? [],
    description,
  };
  if (options.unsupported !== undefined) definition.unsupported = options.unsupported;
  if (options.supportedValues !== undefined) definition.supportedValues = options.supportedValues;
  if (options.credential) definition.credential = true;
  return definition;
}

export function cmdlet(
  definition: Omit<CmdletDefinition, 'supportsShouldProcess'> & { supportsShouldProcess?: boolean },
): CmdletDefinition {
  return { supportsShouldProcess: false, ...definition };
}
