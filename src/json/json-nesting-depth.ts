/**
 * Deepest nesting of arrays and objects in JSON text, found by scanning (no recursion, no parse).
 * JSON.parse copes with deep nesting but JSON.stringify and every recursive walk after it overflow
 * the stack, so parsers of untrusted JSON check this first and refuse absurd depths.
 * Text that is not JSON gives a meaningless number; JSON.parse reports it afterwards.
 */
export function jsonNestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return max;
}
