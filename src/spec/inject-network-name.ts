/**
 * Gives a CNI configuration without a `name` the definition's name (spec §3.4.2) by editing the
 * JSON text, not by re-serialising it: every other byte, key order and number spelling included,
 * reaches the delegate as its author wrote it (the Go client re-marshals and sorts the keys).
 * A missing top-level `name` is inserted as the first member; an empty-string one is filled in.
 * `configText` must already be known to be a JSON object (it was parsed before).
 */
export function injectNetworkName(configText: string, name: string): string {
  const members = topLevelMembers(configText);
  const encoded = JSON.stringify(name);
  const named = members.filter((m) => m.key === 'name');
  if (named.length === 0) {
    const open = configText.indexOf('{') + 1;
    const member = members.length === 0 ? `"name":${encoded}` : `"name":${encoded},`;
    return configText.slice(0, open) + member + configText.slice(open);
  }
  let out = configText;
  // Right to left, so earlier offsets stay valid; duplicates are all filled (JSON readers differ on which wins).
  for (const m of [...named].reverse()) {
    if (JSON.parse(configText.slice(m.valueStart, m.valueEnd)) !== '') continue;
    out = out.slice(0, m.valueStart) + encoded + out.slice(m.valueEnd);
  }
  return out;
}

interface Member {
  key: string;
  valueStart: number;
  valueEnd: number;
}

function topLevelMembers(text: string): Member[] {
  const members: Member[] = [];
  let i = text.indexOf('{') + 1;
  const skipSpace = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text.charAt(i))) i++;
  };
  for (;;) {
    skipSpace();
    if (text.charAt(i) !== '"') return members; // '}' of an empty object or after the last member
    const keyEnd = endOfString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = keyEnd;
    skipSpace();
    i++; // ':'
    skipSpace();
    const valueStart = i;
    i = endOfValue(text, i);
    members.push({ key, valueStart, valueEnd: i });
    skipSpace();
    if (text.charAt(i) === ',') i++;
  }
}

/** `start` is at an opening quote; returns the index after the closing one. */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text.charAt(i) !== '"') i += text.charAt(i) === '\\' ? 2 : 1;
  return i + 1;
}

function endOfValue(text: string, start: number): number {
  const first = text.charAt(start);
  if (first === '"') return endOfString(text, start);
  if (first !== '{' && first !== '[') {
    let i = start;
    while (i < text.length && !',}] \t\r\n'.includes(text.charAt(i))) i++;
    return i;
  }
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === '"') {
      i = endOfString(text, i);
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    i++;
    if (depth === 0) return i;
  }
  return i;
}
