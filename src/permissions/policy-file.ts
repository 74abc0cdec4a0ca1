import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import { ChatOpsError } from '../errors.js';
import { invalidCmdletPattern, invalidComputerPattern, showName } from './names.js';
import type { PolicyRule } from './policy.js';

/**
 * The policy file (CHATOPS_POLICY_FILE), YAML. Every problem is reported with its line, all at
 * once; unknown keys are errors (a misspelt `maxComputer` must not silently lift a limit).
 *
 *   embeddedDefault: true        # optional; false drops the built-in console rule
 *   groups:                      # optional; named sets of channels
 *     oncall: [slack:T1/C123, discord:G1/C2]
 *   rules:
 *     - name: web-ops            # optional; shown as file:web-ops (default file:<index from 1>)
 *       channels: [oncall, console]   # required (or `channel: oncall`): channel ids or group names
 *       computers: [web*, role=web]   # names, wildcards (* ?), agent tags key=value; omitted = none
 *       cmdlets: [Invoke-Command, Get-Job, Receive-Job]  # required; full names, wildcards (Get-*, *)
 *       configurations: [bash]   # optional; omitted = any; `default` = none named
 *       runbooksOnly: false      # optional; true refuses ad-hoc script blocks
 *       runbooks: [restart-web.ps1]   # optional; which -FilePath runbooks; omitted = any
 *       users: [slack:U1, discord:123, console]   # optional; omitted = anyone in the channel
 *       roles: [discord:987]     # optional; platform-qualified role ids
 *       maxComputers: 5          # optional; most computers per command
 *       maxThrottleLimit: 8      # optional; highest ThrottleLimit
 */
export interface PolicyFile {
  embeddedDefault: boolean;
  groups: Map<string, string[]>;
  rules: PolicyRule[];
}

const CHANNEL = /^(console|(slack|discord):[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)?)$/;
const GROUP = /^[A-Za-z][A-Za-z0-9_-]*$/;
const PRINCIPAL = /^(console|(slack|discord):[A-Za-z0-9_-]+)$/;
const ROLE = /^(slack|discord):[A-Za-z0-9_-]+$/;
const CONFIGURATION = /^[A-Za-z0-9_.-]+$/;
const RUNBOOK = /^[A-Za-z0-9_.*?/-]+$/;

const RULE_KEYS = [
  'name',
  'channel',
  'channels',
  'computers',
  'cmdlets',
  'configurations',
  'runbooksOnly',
  'runbooks',
  'users',
  'roles',
  'maxComputers',
  'maxThrottleLimit',
];
const TOP_KEYS = ['embeddedDefault', 'groups', 'rules', 'version'];

export function readPolicyText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ChatOpsError('InvalidPolicy', `Policy file ${path} cannot be read: ${(e as Error).message}`, { cause: e });
  }
}

export function loadPolicyFile(path: string): PolicyFile {
  return parsePolicy(readPolicyText(path), basename(path));
}

/** Parses and validates policy text; throws ChatOpsError `InvalidPolicy` naming every bad line. */
export function parsePolicy(text: string, fileName: string): PolicyFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const problems: string[] = [];
  const at = (node: Node | null | undefined): string => {
    const offset = node?.range?.[0];
    return offset === undefined ? `${fileName}` : `${fileName} line ${lc.linePos(offset).line}`;
  };

  for (const e of doc.errors) {
    const line = lc.linePos(e.pos[0]).line;
    problems.push(`${fileName} line ${line}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  if (problems.length > 0) fail(fileName, problems);

  const out: PolicyFile = { embeddedDefault: true, groups: new Map(), rules: [] };
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return out;
  if (!isMap(root)) fail(fileName, [`${at(root)}: the policy must be a mapping with a 'rules' list`]);
  const top = root as YAMLMap<unknown, unknown>;

  const keyOf = (pairKey: unknown): string => (isScalar(pairKey) ? String(pairKey.value) : String(pairKey));

  const stringList = (node: unknown, what: string, check: (s: string) => string | undefined): string[] | undefined => {
    const items = isSeq(node) ? node.items : [node];
    const list: string[] = [];
    for (const item of items) {
      const v = isScalar(item) ? item.value : undefined;
      if (typeof v !== 'string' && typeof v !== 'number') {
        problems.push(`${at((isScalar(item) || isMap(item) || isSeq(item) ? item : node) as Node)}: ${what} must be a list of names`);
        return undefined;
      }
      const s = String(v);
      const why = check(s);
      if (why !== undefined) {
        problems.push(`${at(item as Node)}: ${what}: ${why}`);
        continue;
      }
      list.push(s);
    }
    if (list.length === 0 && items.length === 0) problems.push(`${at(node as Node)}: ${what} must not be empty`);
    return list;
  };

  const positiveInt = (node: unknown, what: string): number | undefined => {
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      problems.push(
        `${at(node as Node)}: ${what} must be a whole number of at least 1, got '${isScalar(node) ? String(node.value) : 'a structure'}'`,
      );
      return undefined;
    }
    return v;
  };

  for (const pair of top.items) {
    const key = keyOf(pair.key);
    if (!TOP_KEYS.includes(key)) {
      problems.push(`${at(pair.key as Node)}: unknown key '${key}' (expected ${TOP_KEYS.join(', ')})`);
    }
  }

  const defaultNode = top.get('embeddedDefault', true);
  if (defaultNode !== undefined) {
    const v = isScalar(defaultNode) ? defaultNode.value : undefined;
    if (typeof v !== 'boolean') problems.push(`${at(defaultNode as Node)}: embeddedDefault must be true or false`);
    else out.embeddedDefault = v;
  }

  const groupsNode = top.get('groups', true);
  if (groupsNode !== undefined && !(isScalar(groupsNode) && groupsNode.value === null)) {
    if (!isMap(groupsNode)) {
      problems.push(`${at(groupsNode as Node)}: groups must map group names to lists of channels`);
    } else {
      for (const pair of groupsNode.items) {
        const name = keyOf(pair.key);
        if (!GROUP.test(name)) {
          problems.push(
            `${at(pair.key as Node)}: group name '${showName(name)}' must be letters, digits, '-' or '_', starting with a letter`,
          );
          continue;
        }
        const members = stringList(pair.value, `group ${name}`, (s) =>
          CHANNEL.test(s) ? undefined : `'${showName(s)}' is not a channel id (console, slack:TEAM/CHANNEL, discord:GUILD/CHANNEL)`,
        );
        if (members) out.groups.set(name.toLowerCase(), members);
      }
    }
  }

  const rulesNode = top.get('rules', true);
  if (rulesNode === undefined || (isScalar(rulesNode) && rulesNode.value === null)) {
    if (problems.length > 0) fail(fileName, problems);
    return out;
  }
  if (!isSeq(rulesNode)) fail(fileName, [...problems, `${at(rulesNode as Node)}: rules must be a list`]);
  const names = new Set<string>();
  (rulesNode as { items: unknown[] }).items.forEach((item, index) => {
    const where = at(item as Node);
    if (!isMap(item)) {
      problems.push(`${where}: each rule must be a mapping`);
      return;
    }
    for (const pair of item.items) {
      const key = keyOf(pair.key);
      if (!RULE_KEYS.includes(key)) problems.push(`${at(pair.key as Node)}: unknown rule key '${key}' (expected ${RULE_KEYS.join(', ')})`);
    }
    const get = (k: string): unknown => item.get(k, true);
    const nameNode = get('name');
    let name = String(index + 1);
    if (nameNode !== undefined) {
      const v = isScalar(nameNode) ? nameNode.value : undefined;
      if ((typeof v !== 'string' && typeof v !== 'number') || !/^[A-Za-z0-9_.-]+$/.test(String(v))) {
        problems.push(`${at(nameNode as Node)}: name must be letters, digits, '-', '_' or '.'`);
      } else {
        name = String(v);
      }
    }
    if (names.has(name)) problems.push(`${at((nameNode ?? item) as Node)}: a rule named '${name}' already exists`);
    names.add(name);

    const channelNode = get('channels') ?? get('channel');
    if (get('channels') !== undefined && get('channel') !== undefined) problems.push(`${where}: use channel or channels, not both`);
    let channels: string[] = [];
    if (channelNode === undefined) {
      problems.push(`${where}: rule ${name} needs channels`);
    } else {
      channels =
        stringList(channelNode, 'channels', (s) => {
          if (CHANNEL.test(s)) return undefined;
          if (GROUP.test(s)) return out.groups.has(s.toLowerCase()) ? undefined : `no group named '${s}' is defined under groups`;
          return `'${showName(s)}' is not a channel id (console, slack:TEAM/CHANNEL, discord:GUILD/CHANNEL) or group name`;
        }) ?? [];
    }

    const cmdletNode = get('cmdlets');
    let cmdlets: string[] = [];
    if (cmdletNode === undefined) problems.push(`${where}: rule ${name} needs cmdlets`);
    else cmdlets = stringList(cmdletNode, 'cmdlets', invalidCmdletPattern) ?? [];

    const computersNode = get('computers');
    const computers = computersNode === undefined ? [] : (stringList(computersNode, 'computers', invalidComputerPattern) ?? []);

    const rule: PolicyRule = {
      id: `file:${name}`,
      source: 'file',
      channels,
      computers,
      cmdlets,
      runbooksOnly: false,
      origin: `${where}`,
    };

    const cfg = get('configurations');
    if (cfg !== undefined) {
      const list = stringList(cfg, 'configurations', (s) =>
        CONFIGURATION.test(s) ? undefined : `'${showName(s)}' is not a configuration name`,
      );
      if (list) rule.configurations = list;
    }
    const rbo = get('runbooksOnly');
    if (rbo !== undefined) {
      const v = isScalar(rbo) ? rbo.value : undefined;
      if (typeof v !== 'boolean') problems.push(`${at(rbo as Node)}: runbooksOnly must be true or false`);
      else rule.runbooksOnly = v;
    }
    const rbs = get('runbooks');
    if (rbs !== undefined) {
      const list = stringList(rbs, 'runbooks', (s) =>
        RUNBOOK.test(s) && !s.split('/').includes('..') && !s.startsWith('/')
          ? undefined
          : `'${showName(s)}' is not a runbook name inside the library`,
      );
      if (list) rule.runbooks = list;
    }
    const users = get('users');
    if (users !== undefined) {
      const list = stringList(users, 'users', (s) =>
        PRINCIPAL.test(s) ? undefined : `'${showName(s)}' is not a user id (console, slack:USERID, discord:USERID)`,
      );
      if (list) rule.users = list;
    }
    const roles = get('roles');
    if (roles !== undefined) {
      const list = stringList(roles, 'roles', (s) => (ROLE.test(s) ? undefined : `'${showName(s)}' is not a role id (discord:ROLEID)`));
      if (list) rule.roles = list;
    }
    const maxC = get('maxComputers');
    if (maxC !== undefined) {
      const n = positiveInt(maxC, 'maxComputers');
      if (n !== undefined) rule.maxComputers = n;
    }
    const maxT = get('maxThrottleLimit');
    if (maxT !== undefined) {
      const n = positiveInt(maxT, 'maxThrottleLimit');
      if (n !== undefined) rule.maxThrottleLimit = n;
    }
    out.rules.push(rule);
  });

  if (problems.length > 0) fail(fileName, problems);
  return out;
}

function fail(fileName: string, problems: string[]): never {
  throw new ChatOpsError('InvalidPolicy', `Policy file ${fileName} is not valid:\n- ${problems.join('\n- ')}`);
}
