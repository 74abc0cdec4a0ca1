/**
 * Keys from a terminal in raw mode: the bytes of one read (a UTF-8 string) decoded into the
 * keys the line editor acts on. Escape sequences are the common xterm/VT forms (CSI and SS3);
 * unknown ones are dropped whole, so their bytes never land in the command line.
 */

export type KeyName =
  | 'text'
  | 'enter'
  | 'tab'
  | 'backspace'
  | 'delete'
  | 'left'
  | 'right'
  | 'up'
  | 'down'
  | 'home'
  | 'end'
  | 'word-left'
  | 'word-right'
  | 'delete-word-left'
  | 'delete-word-right'
  | 'kill-to-end'
  | 'kill-to-start'
  | 'interrupt'
  | 'eof'
  | 'clear-screen'
  | 'escape'
  | 'paste-start'
  | 'paste-end';

export interface Key {
  name: KeyName;
  /** The characters typed, for `text`. */
  text?: string;
}

const CONTROL_KEYS: Record<string, KeyName> = {
  '\r': 'enter',
  '\n': 'enter',
  '\t': 'tab',
  '\x7f': 'backspace',
  '\x08': 'backspace',
  '\x01': 'home',
  '\x02': 'left',
  '\x03': 'interrupt',
  '\x04': 'eof',
  '\x05': 'end',
  '\x06': 'right',
  '\x0b': 'kill-to-end',
  '\x0c': 'clear-screen',
  '\x0e': 'down',
  '\x10': 'up',
  '\x15': 'kill-to-start',
  '\x17': 'delete-word-left',
};

const CSI_FINAL: Record<string, KeyName> = { A: 'up', B: 'down', C: 'right', D: 'left', H: 'home', F: 'end' };
const CSI_TILDE: Record<string, KeyName> = {
  '1': 'home',
  '7': 'home',
  '4': 'end',
  '8': 'end',
  '3': 'delete',
  '200': 'paste-start',
  '201': 'paste-end',
};

/**
 * Decodes terminal input. Keeps an escape sequence cut by the end of a read until the next one
 * (a paste can be split anywhere); a lone ESC at the end of a read is the Escape key.
 */
export class KeyDecoder {
  private pending = '';

  decode(chunk: string): Key[] {
    const text = this.pending + chunk;
    this.pending = '';
    const keys: Key[] = [];
    let i = 0;
    const pushText = (t: string): void => {
      const last = keys[keys.length - 1];
      if (last?.name === 'text') last.text = (last.text ?? '') + t;
      else keys.push({ name: 'text', text: t });
    };
    while (i < text.length) {
      const c = text.charAt(i);
      if (c === '\x1b') {
        const end = sequenceEnd(text, i);
        if (end === undefined) {
          if (i + 1 >= text.length) {
            keys.push({ name: 'escape' });
            i++;
          } else {
            this.pending = text.slice(i);
            i = text.length;
          }
          continue;
        }
        const key = sequenceKey(text.slice(i, end));
        if (key) keys.push(key);
        i = end;
        continue;
      }
      if (c === '\r' && text.charAt(i + 1) === '\n') {
        keys.push({ name: 'enter' });
        i += 2;
        continue;
      }
      const control = CONTROL_KEYS[c];
      if (control) {
        keys.push({ name: control });
        i++;
        continue;
      }
      const code = c.charCodeAt(0);
      if (code < 0x20 || (code >= 0x80 && code < 0xa0)) {
        i++; // other controls do nothing
        continue;
      }
      pushText(c);
      i++;
    }
    return keys;
  }
}

/** Index after the escape sequence starting at `at`, or undefined when the text ends inside it. */
function sequenceEnd(text: string, at: number): number | undefined {
  const next = text.charAt(at + 1);
  if (next === '') return undefined;
  if (next === '[') {
    let j = at + 2;
    while (j < text.length) {
      const code = text.charCodeAt(j);
      if (code >= 0x40 && code <= 0x7e) return j + 1;
      j++;
    }
    return undefined;
  }
  if (next === 'O') return at + 2 < text.length ? at + 3 : undefined;
  return at + 2; // ESC followed by one character: Alt+key
}

function sequenceKey(seq: string): Key | undefined {
  if (seq.startsWith('\x1b[')) {
    const final = seq.charAt(seq.length - 1);
    const params = seq.slice(2, -1);
    if (final === '~') {
      const name = CSI_TILDE[params.split(';')[0] ?? ''];
      return name ? { name } : undefined;
    }
    const name = CSI_FINAL[final];
    if (!name) return undefined;
    // `1;5C` (Ctrl) or `1;3C` (Alt) on the arrows: by word.
    const modified = params.includes(';');
    if (modified && name === 'left') return { name: 'word-left' };
    if (modified && name === 'right') return { name: 'word-right' };
    return { name };
  }
  if (seq.startsWith('\x1bO')) {
    const name = CSI_FINAL[seq.charAt(2)];
    return name ? { name } : undefined;
  }
  switch (seq.charAt(1)) {
    case 'b':
      return { name: 'word-left' };
    case 'f':
      return { name: 'word-right' };
    case 'd':
      return { name: 'delete-word-right' };
    case '\x7f':
    case '\x08':
      return { name: 'delete-word-left' };
    case '\r':
      return { name: 'enter' };
    default:
      return undefined;
  }
}
