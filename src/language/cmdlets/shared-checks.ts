import { ChatOpsError } from '../../errors.js';
import type { BoundValues } from '../definition.js';
import { DEFAULT_THROTTLE_LIMIT, type PsValue } from '../values.js';

/** Setter-time and BeginProcessing-time rules shared by several cmdlets (reference 2.3-2.5). */

function enumName(value: PsValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * Authentication mutual exclusion (2.4), checked each time -Credential, -CertificateThumbprint
 * or -Authentication is set; the parameter being set is the one named in the error.
 */
export function authConflict(parameter: string, bound: BoundValues): string | undefined {
  if (parameter !== 'Credential' && parameter !== 'CertificateThumbprint' && parameter !== 'Authentication') {
    return undefined;
  }
  const hasCredential = 'Credential' in bound && bound['Credential'] !== null;
  const hasThumbprint = 'CertificateThumbprint' in bound && bound['CertificateThumbprint'] !== null;
  const auth = enumName(bound['Authentication']);
  if (hasCredential && hasThumbprint) return 'A CertificateThumbPrint cannot be specified when Credential is specified.';
  if (auth !== undefined && auth !== 'Default' && hasThumbprint) {
    return `A CertificateThumbPrint cannot be specified when ${auth} is specified.`;
  }
  if (auth === 'NegotiateWithImplicitCredential' && hasCredential) {
    return 'A Credential cannot be specified when NegotiateWithImplicitCredential is specified.';
  }
  return undefined;
}

/** ThrottleLimit <= 0 means the built-in default of 32 (2.3). */
export function throttleDefault(bound: BoundValues): void {
  const value = bound['ThrottleLimit'];
  if (typeof value === 'number' && value <= 0) bound['ThrottleLimit'] = DEFAULT_THROTTLE_LIMIT;
}

/** IdleTimeout session option must be -1 or >= 60000 ms (2.5). */
export function checkIdleTimeout(bound: BoundValues): void {
  const option = bound['SessionOption'];
  if (option === null || option === undefined || typeof option !== 'object' || Array.isArray(option)) return;
  if (option.kind !== 'sessionoption') return;
  const idle = option.options?.['IdleTimeout'];
  if (typeof idle !== 'number') return;
  if (idle !== -1 && idle < 60000) {
    const seconds = Math.trunc(idle / 1000);
    throw new ChatOpsError(
      'InvalidArgument',
      `The specified IdleTimeout session option ${seconds} (seconds) is not a valid period.  Specify an IdleTimeout value that is greater than or equal to the minimum allowed 60 (seconds).`,
      { target: 'SessionOption' },
    );
  }
}
