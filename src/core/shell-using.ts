/**
 * `$Using:` for bash and sh scripts. Bash reads `$Using:name` as the variable `$Using` followed by
 * the text `:name`, so a shell script names a channel variable as the environment variable the
 * agent sets for it: `$USING_SERVERS` or `${USING_SERVERS}` for `$Using:servers` (agent/executors.ts
 * usingEnvName: `USING_` + the name upper-cased, other characters `_`). The core sends the values
 * as data beside the script; the agent puts them in the environment, never in the script text.
 */

/** The environment variable name a channel variable gets in bash/sh (same rule as the agent). */
export function shellUsingName(variable: string): string {
  return 'USING_' + variable.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

const REF = /\$(\{?)USING_([A-Z0-9_]+)(?![A-Za-z0-9_])/y;

/**
 * `USING_X` names referenced as `$USING_X` or `${USING_X...}` in a shell script, in order of
 * first appearance. Text in single quotes, after a backslash, or in `#` comments is not a reference.
 */
export function shellUsingReferences(script: string): string[] {
  const out: string[] = [];
  let inDouble = false;
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (!inDouble && c === "'") {
      const end = script.indexOf("'", i + 1);
      if (end < 0) break;
      i = end;
      continue;
    }
    if (!inDouble && c === '#' && (i === 0 || /[\s;&|(]/.test(script[i - 1]!))) {
      const end = script.indexOf('\n', i);
      if (end < 0) break;
      i = end;
      continue;
    }
    if (c === '"') {
      inDouble = !inDouble;
      continue;
    }
    if (c === '$') {
      REF.lastIndex = i;
      const m = REF.exec(script);
      if (m) {
        const name = `USING_${m[2]!}`;
        if (!out.includes(name)) out.push(name);
        i += m[0].length - 1;
      }
    }
  }
  return out;
}

/** The hint shown when a bash/sh script contains `$Using:name`. */
export function shellUsingHint(configuration: string, variable: string): string {
  return `In a ${configuration} script write $${shellUsingName(variable)} for $Using:${variable}`;
}
