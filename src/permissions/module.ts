import type { AppDeps } from '../app-deps.js';
import type { ChatCoreOptions } from '../core/chat-core.js';
import { embeddedAgentName } from '../hub/embedded-agent.js';
import { SqliteAuditLog } from '../audit/audit-log.js';
import { permissionCmdlets } from './admin-cmdlets.js';
import { createPolicyAuthorizer, type PolicyAuthorizer, type PolicyAuthorizerOptions } from './policy-authorizer.js';

/**
 * The permissions module. startApp builds one by default; tests that need its options pass
 * their own:
 *
 *   const permissions = createPermissionsModule({ reloadDebounceMs: 20 });
 *   const app = await startApp(config, { authorizer: permissions.authorizer, extraCmdlets: permissions.extraCmdlets });
 *   ...
 *   permissions.close(); // on shutdown (stops watching the policy file)
 *
 * The authorizer is built from the app's own database, config (CHATOPS_POLICY_FILE,
 * CHATOPS_ADMINS), agent registry (tags) and logger. A broken policy file makes startApp throw
 * ChatOpsError `InvalidPolicy` naming the lines.
 */
export interface PermissionsModule {
  authorizer: (deps: AppDeps) => PolicyAuthorizer;
  extraCmdlets: NonNullable<ChatCoreOptions['extraCmdlets']>;
  /** The authorizer, once startApp has built it. */
  instance(): PolicyAuthorizer | undefined;
  close(): void;
}

export function createPermissionsModule(
  options: Pick<PolicyAuthorizerOptions, 'localNames' | 'reloadDebounceMs' | 'onReload'> = {},
): PermissionsModule {
  let authz: PolicyAuthorizer | undefined;
  const lazy = permissionCmdletsFor(() => {
    if (authz === undefined) throw new Error('the permissions module is used before startApp built its authorizer');
    return authz;
  });
  return {
    authorizer: (deps) => {
      authz?.close();
      authz = createPolicyAuthorizer({
        db: deps.db,
        ...(deps.config.policyFile !== undefined ? { policyFile: deps.config.policyFile } : {}),
        admins: deps.config.admins,
        tags: (name) => deps.registry.get(name)?.tags,
        // The embedded agent's registered name, its alias `localhost`, and the host name.
        localNames: options.localNames ?? [embeddedAgentName(), 'localhost'],
        embedded: { names: deps.embeddedAgentNames, allowChat: deps.config.embeddedAgentChat },
        log: deps.log,
        audit: new SqliteAuditLog(deps.db),
        ...(options.reloadDebounceMs !== undefined ? { reloadDebounceMs: options.reloadDebounceMs } : {}),
        ...(options.onReload ? { onReload: options.onReload } : {}),
      });
      return authz;
    },
    extraCmdlets: lazy,
    instance: () => authz,
    close: () => authz?.close(),
  };
}

/** The admin cmdlets bound to an authorizer that exists only later (after startApp). */
function permissionCmdletsFor(get: () => PolicyAuthorizer): PermissionsModule['extraCmdlets'] {
  const names = ['Get-ChannelPermission', 'Grant-ChannelPermission', 'Revoke-ChannelPermission'];
  const out: PermissionsModule['extraCmdlets'] = {};
  for (const name of names) {
    out[name] = { run: (call, ctx) => permissionCmdlets(get())[name]!.run(call, ctx) };
  }
  return out;
}
