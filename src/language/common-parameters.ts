import type { ParameterDefinition } from './definition.js';
import { param, T, V, INT_MAX } from './cmdlets/dsl.js';
import { ActionPreference } from './enums.js';
import { R } from './cmdlets/reasons.js';

/**
 * Common parameters (reference 1.10): present on every cmdlet, in every set, and they lose
 * prefix ties against declared parameters. Those with no meaning in chat bind and are refused.
 */
function common(definition: ParameterDefinition): ParameterDefinition {
  return { ...definition, common: true };
}

export const COMMON_PARAMETERS: ParameterDefinition[] = [
  common(param('Verbose', T.switch, '*', 'Also post verbose messages.', { aliases: ['vb'], unsupported: R.verbose })),
  common(param('Debug', T.switch, '*', 'Debug messages.', { aliases: ['db'], unsupported: R.debugStream })),
  common(
    param('ErrorAction', T.enum(ActionPreference), '*', 'What to do on a non-terminating error.', {
      aliases: ['ea'],
      unsupported: R.errorAction,
      supportedValues: ['Continue'],
    }),
  ),
  common(
    param('WarningAction', T.enum(ActionPreference), '*', 'What to do on a warning.', {
      aliases: ['wa'],
      unsupported: R.warningAction,
      supportedValues: ['Continue'],
    }),
  ),
  common(
    param('InformationAction', T.enum(ActionPreference), '*', 'What to do with information records.', {
      aliases: ['infa'],
      unsupported: R.informationStream,
    }),
  ),
  common(
    param('ProgressAction', T.enum(ActionPreference), '*', 'What to do with progress records.', {
      aliases: ['proga'],
      unsupported: R.progressStream,
    }),
  ),
  common(
    param('ErrorVariable', T.string, '*', 'Variable that receives errors.', {
      aliases: ['ev'],
      validate: [V.variableName],
      unsupported: R.streamVariable,
    }),
  ),
  common(
    param('WarningVariable', T.string, '*', 'Variable that receives warnings.', {
      aliases: ['wv'],
      validate: [V.variableName],
      unsupported: R.streamVariable,
    }),
  ),
  common(
    param('InformationVariable', T.string, '*', 'Variable that receives information records.', {
      aliases: ['iv'],
      validate: [V.variableName],
      unsupported: R.streamVariable,
    }),
  ),
  common(
    param('OutVariable', T.string, '*', 'Variable that receives the output.', {
      aliases: ['ov'],
      validate: [V.variableName],
      unsupported: R.streamVariable,
    }),
  ),
  common(
    param('OutBuffer', T.int, '*', 'Objects to buffer before passing them on.', {
      aliases: ['ob'],
      validate: [V.range(0, INT_MAX)],
      unsupported: R.outBuffer,
    }),
  ),
  common(
    param('PipelineVariable', T.string, '*', 'Variable that holds the current pipeline object.', {
      aliases: ['pv'],
      validate: [V.variableName],
      unsupported: R.streamVariable,
    }),
  ),
];

/** Present only on SupportsShouldProcess cmdlets. */
export const SHOULD_PROCESS_PARAMETERS: ParameterDefinition[] = [
  common(param('WhatIf', T.switch, '*', 'Shows what would happen without doing it.', { aliases: ['wi'] })),
  common(param('Confirm', T.switch, '*', 'Prompts for confirmation.', { aliases: ['cf'], unsupported: R.confirm })),
];
