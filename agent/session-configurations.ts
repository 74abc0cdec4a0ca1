// Session configurations: the named endpoints an agent offers, each run by an executor kind;
// parsing them from the command line and choosing the defaults.
import { availableKinds, EXECUTOR_KINDS, type ExecutorKind } from './executors.js';

/** A session configuration the agent offers: its name and the executor that runs it. */
export interface SessionConfiguration {
  name: string;
  kind: ExecutorKind;
}

/** ASCII lower case: how configuration and executor names compare. */
export function lower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** Every executor found on PATH, each as a configuration named after it. */
export function availableConfigurations(): SessionConfiguration[] {
  return availableKinds().map((kind) => ({ name: kind, kind }) satisfies SessionConfiguration);
}

/** Microsoft.PowerShell when offered, else bash, else the first configuration. */
export function defaultConfigurationOf(configurations: readonly SessionConfiguration[]): string {
  const names = configurations.map((c) => c.name);
  return names.includes('Microsoft.PowerShell') ? 'Microsoft.PowerShell' : names.includes('bash') ? 'bash' : (names[0] ?? '');
}

/** The configuration named `name` (case-insensitive), if offered. */
export function findConfiguration(configurations: readonly SessionConfiguration[], name: string): SessionConfiguration | undefined {
  return configurations.find((c) => lower(c.name) === lower(name));
}

/** Parses `NAME` or `NAME=KIND` (KIND one of EXECUTOR_KINDS, case-insensitive). */
export function parseConfiguration(spec: string): SessionConfiguration | undefined {
  const [name, kindRaw] = spec.includes('=') ? [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)] : [spec, spec];
  const kind = EXECUTOR_KINDS.find((k) => lower(k) === lower(kindRaw));
  if (!kind || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) return undefined;
  return { name: lower(name) === lower(kind) ? kind : name, kind };
}
