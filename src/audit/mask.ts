import { maskSecrets } from '../log.js';

/**
 * Masks secrets in a command line before it is stored in the audit trail. Three layers:
 * `maskSecrets` (registered secrets and our own / Slack / Discord token shapes); the value of
 * any parameter whose name looks like a credential, however it is abbreviated or cased
 * (`-Credential`, `-cred`, `-Password:x`, `-Token`, `-ApiKey`, `-Secret`); and common token
 * shapes that can appear inside script blocks (bearer tokens, `password=...`, URL user info,
 * JWTs, GitHub and AWS keys, private keys). A `$variable` value is kept: it names, not reveals.
 */

// Parameter names starting like a credential parameter (`-Cr` is already unambiguous for -Credential).
const SECRET_PARAM =
  /(^|[\s;|({])(-(?:cr|pass|pwd|secret|token|apikey|api-key|accesskey|accesstoken|privatekey|certificatepassword|securestring|key)[a-z0-9_-]*(?![a-z0-9_-]))(:?)(\s*)(?!-)((?:'(?:[^']|'')*'|"(?:[^"`]|`.)*"|\([^)]*\)|[^\s;|)}]+))/gi;

// `ConvertTo-SecureString 'x' -AsPlainText`, `Get-Credential` with a value, `-AsPlainText 'x'`.
const SECURE_STRING = /(ConvertTo-SecureString\s+(?:-String\s+)?)('(?:[^']|'')*'|"(?:[^"`]|`.)*"|[^\s;|)}$]+)/gi;

const SHAPES: Array<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '***'],
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 ***'],
  [/\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;'"]+)/gi, '$1$2***'],
  [/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi, '$1***@'],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, '***'],
  [/\bgh[pousr]_[A-Za-z0-9]{30,}\b/g, '***'],
  [/\bgithub_pat_[A-Za-z0-9_]{30,}\b/g, '***'],
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/g, '***'],
  [/\bsk-[A-Za-z0-9_-]{20,}\b/g, '***'],
];

export function maskCommandLine(text: string, secrets: Iterable<string> = []): string {
  let out = maskSecrets(text, secrets);
  out = out.replace(
    SECRET_PARAM,
    (_m, pre: string, name: string, colon: string, space: string, value: string) =>
      `${pre}${name}${colon}${space}${value.startsWith('$') ? value : '***'}`,
  );
  out = out.replace(SECURE_STRING, (_m, pre: string, value: string) => `${pre}${value.startsWith('$') ? value : '***'}`);
  for (const [re, replacement] of SHAPES) out = out.replace(re, replacement);
  return out;
}
