/**
 * Values of the command language. This is the contract between the binder (which produces them
 * from text and channel variables) and the runtime (which consumes bound parameters and stores
 * channel variables). Every value is plain JSON so it can be kept in SQLite or PostgreSQL as is.
 */

/** `{ ... }` as typed: `text` is the inside of the braces, byte for byte. */
export interface ScriptBlockValue {
  kind: 'scriptblock';
  text: string;
  /** Names (without `$Using:`), lower-cased, de-duplicated, in order of first appearance. */
  usings: string[];
}

/** `@{ Key = value; ... }`; keys keep their typed case, lookups are case-insensitive. */
export interface HashtableValue {
  kind: 'hashtable';
  entries: Array<{ key: string; value: PsValue }>;
}

/**
 * A numeric literal whose text differs from the number's default string form (`007`, `0x10`,
 * `1kb`); converting it to a string yields `text` (PowerShell's round-trippable bare numerics).
 */
export interface NumberLiteralValue {
  kind: 'number';
  value: number;
  text: string;
  /**
   * The literal's .NET numeric type when it matters for binding (`1.0` is a double, `5L` a
   * long). Absent means: an integer in Int32 range is an int, anything else a double.
   */
  numberType?: 'int' | 'long' | 'double' | 'decimal';
}

/** A reference to an object the runtime owns; the runtime resolves it by id at execution time. */
export interface ObjectRefValue {
  kind: 'job' | 'session' | 'agent' | 'sessionoption';
  /** Job Id, PSSession Id, agent name; for `sessionoption`, the option values as a hashtable. */
  id: number | string;
  /** What PowerShell's ToString() would print, used when the object is bound to a string. */
  display: string;
  /** For sessionoption: the bound New-PSSessionOption parameters. */
  options?: Record<string, PsValue>;
  /**
   * Properties used for pipeline binding by property name (`Id`, `Name`, `InstanceId`,
   * `ComputerName`, `State`, ...), as the runtime knows them. When absent, `Id` is `id` and for
   * agents `Name`/`ComputerName` are `id`.
   */
  properties?: Record<string, PsValue>;
}

export type PsValue =
  | string
  | number
  | boolean
  | null
  | PsValue[]
  | ScriptBlockValue
  | HashtableValue
  | NumberLiteralValue
  | ObjectRefValue;

/** Variables visible to a line: the channel's variables, names lower-cased. */
export type Variables = ReadonlyMap<string, PsValue>;

/** ThrottleLimit 0 or less means this built-in default (reference 2.3); the binder applies it. */
export const DEFAULT_THROTTLE_LIMIT = 32;
