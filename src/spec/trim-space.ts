/**
 * The one whitespace rule of the text-form networks annotation: Go's strings.TrimSpace
 * (unicode.IsSpace), as the Go client and Multus parse it. So NEL (U+0085) and NO-BREAK SPACE are
 * whitespace, and a BOM (U+FEFF) is not (JavaScript's String.prototype.trim says the opposite of
 * both). docs/annotations.md states the rule.
 */
const SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const EDGES = new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, 'g');

export function trimSpace(text: string): string {
  return text.replace(EDGES, '');
}

export function isBlank(text: string): boolean {
  return trimSpace(text) === '';
}
