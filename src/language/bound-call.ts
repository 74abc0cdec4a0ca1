import type { PsValue } from './values.js';

/**
 * A cmdlet call after PowerShell's binding rules ran: one parameter set chosen, every parameter
 * under its canonical name (`ComputerName`, never `Cn` or `comp`), values converted to the
 * parameter's type (string[] parameters always hold arrays, switches hold booleans,
 * ThrottleLimit <= 0 already replaced by 32, JobName having set AsJob).
 */
export interface BoundCall {
  /** Canonical cmdlet name, e.g. `Invoke-Command`, even when typed as `icm`. */
  cmdlet: string;
  parameterSet: string;
  parameters: Record<string, PsValue>;
  /** The source text of this call, as typed (for status messages and audit). */
  text: string;
  /**
   * Only on calls bound "expecting pipeline input" whose set PowerShell defers until an input
   * object arrives: the sets still possible. `parameterSet` is '' until `bindPipelineInput`
   * resolves it. Absent on fully bound calls.
   */
  pendingSets?: string[];
}

/**
 * One statement of a message: an optional `$name =` assignment and a pipeline of one or more
 * calls (`Get-Job | Receive-Job`), or a bare variable reference piped into calls (`$j | Wait-Job`).
 */
export interface BoundStatement {
  /** Lower-cased variable name to assign the pipeline's result to, without `$`. */
  assignTo?: string;
  /** When the statement is a pure value (`$servers = 'web1','web2'`), that value. */
  value?: PsValue;
  /** The calls in pipeline order; the first receives `input` when set. */
  pipeline: BoundCall[];
  /** Pipeline input given as a value (`$j | Wait-Job`), bound by the runtime. */
  input?: PsValue;
  /** Variable operations: `Get-Variable`, `Remove-Variable` are ordinary calls in `pipeline`. */
  text: string;
}
