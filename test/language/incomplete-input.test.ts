import { describe, expect, it } from 'vitest';
import { isIncompleteInput, parseScript } from '../../src/language/index.js';

/**
 * IncompleteInput (PowerShell's ParseError.IncompleteInput): the parse errors that more lines
 * could cure. The console continues such input at `>>`; anything else runs (or is reported).
 */
describe('isIncompleteInput', () => {
  it.each([
    ['icm localhost {', 'an open script block'],
    ['icm localhost {\n  echo "}"', 'a brace inside a string does not close the block'],
    ['icm localhost { echo "x', 'an open string inside a block'],
    ['icm localhost { $(', 'an open subexpression inside a block'],
    ['Get-Job (Get-Agent', 'an open parenthesis'],
    ['Get-Job @(', 'an open array expression'],
    ['$h = @{', 'an open hashtable'],
    ['$h = @{ a =', 'a hashtable key without its value yet'],
    ["$a = 'abc", 'an open single-quoted string'],
    ['$a = "abc', 'an open double-quoted string'],
    ["$a = @'", 'a here-string header'],
    ['$a = @"\nbody', 'a here-string without its footer'],
    ['Get-Job `', 'a trailing backtick'],
    ['Get-Job |', 'a trailing pipe'],
    ['Get-Job -Name a,', 'a trailing comma'],
    ['$a =', 'an assignment without its value'],
    ['Get-Job <# comment', 'an open block comment'],
  ])('%s: incomplete (%s)', (text) => {
    expect(isIncompleteInput(text)).toBe(true);
    // The same text still fails to parse, with PowerShell's error id, when run as it is.
    expect(() => parseScript(text)).toThrow();
  });

  it.each([
    ['icm localhost { echo hi }'],
    ["Get-Job -Name '{'"],
    ['Get-Job )'],
    ['Get-Job | | Get-Job'],
    ["$a = @'\nbody\n'@"],
    ['Get-Job # a comment ending in a backtick `'],
    [''],
    ['Get-Job ()'],
  ])('%j: complete (runs, or reports its error)', (text) => {
    expect(isIncompleteInput(text)).toBe(false);
  });

  it('keeps the error ids of the errors it marks', () => {
    expect(() => parseScript('icm localhost {')).toThrow(expect.objectContaining({ code: 'MissingEndCurlyBrace' }));
    expect(() => parseScript('Get-Job |')).toThrow(expect.objectContaining({ code: 'EmptyPipeElement' }));
  });
});
