/**
 * Escaping for Slack `mrkdwn` text. Slack's rules (api.slack.com "Formatting text for app
 * surfaces"): `&`, `<` and `>` are control characters and must be sent as `&amp;`, `&lt;`,
 * `&gt;`; everything else is literal. Escaping them is what stops output from forming
 * `<!here>`, `<@U123>` or `<https://evil|click>` links and mentions.
 */

/** Zero-width space: breaks a backtick run or a mention keyword without changing what a reader sees. */
export const ZWSP = '\u200B';
/** Word joiner: placed after `@` so `@channel` / `@here` / `@everyone` never notify anyone. */
const WORD_JOINER = '\u2060';

export function escapeMrkdwn(text: string): string {
  return neutraliseMentions(text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
}

/**
 * Plain `@channel` is not a mention in Block Kit text unless a client or `link_names` parses
 * it, but a message that looks like it pinged everyone is still a hazard: break the keyword.
 */
export function neutraliseMentions(text: string): string {
  return text.replace(/@(channel|here|everyone)\b/gi, `@${WORD_JOINER}$1`);
}

/**
 * Text for the inside of a ``` block: mrkdwn-escaped, and with every run of two or more
 * backticks broken by zero-width spaces, so output can never close the fence it sits in
 * (or open a new one). A single backtick inside a pre block is literal.
 */
export function escapeCode(text: string): string {
  return escapeMrkdwn(text).replace(/`(?=`)/g, '`' + ZWSP);
}

/** A fenced code block. Newlines around the content keep a leading/trailing backtick off the fence. */
export function codeFence(escapedContent: string): string {
  return '```\n' + (escapedContent === '' ? ' ' : escapedContent) + '\n```';
}
