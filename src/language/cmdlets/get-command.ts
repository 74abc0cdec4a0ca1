import { cmdlet, param, T } from './dsl.js';

// Reduced Get-Command: the commands this bot understands.
export const getCommand = cmdlet({
  name: 'Get-Command',
  aliases: ['gcm'],
  synopsis: 'Lists the commands the bot understands, or their syntax with -Syntax.',
  defaultSet: 'CmdletSet',
  sets: ['CmdletSet', 'AllCommandSet'],
  parameters: [
    param('Name', T.strings, 'AllCommandSet@0|vp', 'Command names (wildcards allowed).'),
    param('Verb', T.strings, 'CmdletSet|p', 'Only commands with these verbs.'),
    param('Noun', T.strings, 'CmdletSet|p', 'Only commands with these nouns.'),
    param('Syntax', T.switch, '*', 'Show the syntax lines, one per parameter set.'),
  ],
});
