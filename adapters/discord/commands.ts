import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  InteractionContextType,
  Routes,
  type REST,
  type RESTPutAPIApplicationCommandsJSONBody,
} from 'discord.js';
import { ChatOpsError } from '../../src/errors.js';
import { icmOptionsToLine, type IcmOptions } from './icm-line.js';

/**
 * Who sees the commands is the server's to decide: each is registered with
 * `default_member_permissions: "0"`, so at first only members with Administrator see and use
 * them, and a server admin grants roles, members or channels in Server Settings → Integrations.
 * Remote commands on servers are not something every member of a server should get by default;
 * the policy file still decides what each command may do. They exist in servers only (`contexts`:
 * guild), where the policy's channels are; in a DM they would only be refused.
 */
export const COMMAND_VISIBILITY = {
  default_member_permissions: '0',
  contexts: [InteractionContextType.Guild],
};

/**
 * The application commands and how each turns into a line of the command language.
 *
 * - `/ps line` — any line, as typed in PowerShell.
 * - `/icm` — typed options for the common Invoke-Command parameters; `computername`
 *   autocompletes the computers the channel may target. Built into the equivalent `/ps` line.
 * - `/job get|receive|stop|wait|remove id` — the job cmdlets for one job of the channel; `id`
 *   autocompletes the channel's job ids. `/ps` itself has no job autocomplete (a free text line
 *   has no option to complete), so this is where job ids are offered.
 */
export const COMMANDS: RESTPutAPIApplicationCommandsJSONBody = [
  {
    name: 'ps',
    ...COMMAND_VISIBILITY,
    type: ApplicationCommandType.ChatInput,
    description: 'Run a line of PowerShell-style remoting commands',
    options: [
      {
        name: 'line',
        description: 'e.g. Invoke-Command -ComputerName web1,web2 { uptime }',
        type: ApplicationCommandOptionType.String,
        required: true,
        max_length: 6000,
      },
    ],
  },
  {
    name: 'icm',
    ...COMMAND_VISIBILITY,
    type: ApplicationCommandType.ChatInput,
    description: 'Invoke-Command with typed options',
    options: [
      {
        name: 'computername',
        description: 'Computers, comma-separated (or one $variable)',
        type: ApplicationCommandOptionType.String,
        autocomplete: true,
      },
      { name: 'scriptblock', description: 'The script to run', type: ApplicationCommandOptionType.String },
      { name: 'asjob', description: 'Run as a background job', type: ApplicationCommandOptionType.Boolean },
      { name: 'jobname', description: 'Name of the job', type: ApplicationCommandOptionType.String },
      {
        name: 'hidecomputername',
        description: 'Leave computer names out of the results',
        type: ApplicationCommandOptionType.Boolean,
      },
      {
        name: 'throttlelimit',
        description: 'Most computers at once (default 32)',
        type: ApplicationCommandOptionType.Integer,
      },
      {
        name: 'configurationname',
        description: 'Session configuration, e.g. bash',
        type: ApplicationCommandOptionType.String,
      },
      {
        name: 'argumentlist',
        description: 'Arguments, comma-separated; quote an item to keep a comma',
        type: ApplicationCommandOptionType.String,
      },
      { name: 'filepath', description: 'A runbook from the runbook directory', type: ApplicationCommandOptionType.String },
    ],
  },
  {
    name: 'job',
    ...COMMAND_VISIBILITY,
    type: ApplicationCommandType.ChatInput,
    description: "This channel's jobs",
    options: [
      jobSub('get', 'Get-Job: show a job (or all jobs)', false),
      {
        ...jobSub('receive', 'Receive-Job: show the output of a job', true),
        options: [
          jobIdOption(true),
          { name: 'keep', description: 'Keep the output for the next Receive-Job', type: ApplicationCommandOptionType.Boolean },
        ],
      },
      jobSub('stop', 'Stop-Job: stop a running job', true),
      jobSub('wait', 'Wait-Job: wait until a job finishes', true),
      jobSub('remove', 'Remove-Job: delete a finished job', true),
    ],
  },
];

function jobIdOption(required: boolean) {
  return {
    name: 'id',
    description: 'Job id',
    type: ApplicationCommandOptionType.Integer as const,
    required,
    min_value: 1,
    autocomplete: true,
  };
}

function jobSub(name: string, description: string, required: boolean) {
  return {
    name,
    description,
    type: ApplicationCommandOptionType.Subcommand as const,
    options: [jobIdOption(required)],
  };
}

const JOB_CMDLETS: Record<string, string> = {
  get: 'Get-Job',
  receive: 'Receive-Job',
  stop: 'Stop-Job',
  wait: 'Wait-Job',
  remove: 'Remove-Job',
};

/** Option values as the interaction carries them (name → string | number | boolean). */
export type OptionValues = Record<string, string | number | boolean | undefined>;

/** The command-language line for a slash command. Throws ChatOpsError for unusable options. */
export function commandToLine(name: string, subcommand: string | null, o: OptionValues): string {
  const str = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const num = (k: string): number | undefined => (typeof o[k] === 'number' ? (o[k] as number) : undefined);
  const bool = (k: string): boolean | undefined => (typeof o[k] === 'boolean' ? (o[k] as boolean) : undefined);
  switch (name) {
    case 'ps': {
      const line = str('line') ?? '';
      if (line.trim() === '') throw new ChatOpsError('InvalidOption', 'The line option is empty.', { target: 'line' });
      return line;
    }
    case 'icm': {
      const opts: IcmOptions = {};
      for (const k of ['computername', 'scriptblock', 'jobname', 'configurationname', 'argumentlist', 'filepath'] as const) {
        const v = str(k);
        if (v !== undefined) opts[k] = v;
      }
      for (const k of ['asjob', 'hidecomputername'] as const) {
        const v = bool(k);
        if (v !== undefined) opts[k] = v;
      }
      const t = num('throttlelimit');
      if (t !== undefined) opts.throttlelimit = t;
      return icmOptionsToLine(opts);
    }
    case 'job': {
      const cmdlet = subcommand === null ? undefined : JOB_CMDLETS[subcommand];
      if (cmdlet === undefined) {
        throw new ChatOpsError('UnknownCommand', `Unknown /job subcommand '${subcommand ?? ''}'.`);
      }
      const id = num('id');
      const parts = [cmdlet];
      if (id !== undefined) parts.push('-Id', String(id));
      if (subcommand === 'receive' && bool('keep') === true) parts.push('-Keep');
      return parts.join(' ');
    }
    default:
      throw new ChatOpsError('UnknownCommand', `Unknown command /${name}.`);
  }
}

/**
 * Registers (or updates) the commands with one bulk overwrite: guild commands when a guild id
 * is configured (they update at once), otherwise global commands.
 */
export async function registerCommands(rest: REST, applicationId: string, guildId?: string): Promise<void> {
  const route = guildId !== undefined ? Routes.applicationGuildCommands(applicationId, guildId) : Routes.applicationCommands(applicationId);
  await rest.put(route, { body: COMMANDS });
}
