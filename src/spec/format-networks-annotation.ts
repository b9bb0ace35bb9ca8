import type { NetworkSelectionElement } from './network-selection-element.ts';
import { SpecError } from './spec-error.ts';
import { toWireSelectionElement } from './wire-selection-element.ts';

/**
 * Writes elements back as a networks annotation value (spec §4.1). The namespace is always written
 * (`ns/name`), so the value reads the same whatever pod it is put on.
 * The text form can carry only name, namespace and interface; asking for it with any other key set,
 * or with an interface name holding a character the text form uses (`,` `@` `/`, or `[` `{` `"`
 * that switch readers to JSON), throws a SpecError rather than dropping information.
 */
export function formatNetworksAnnotation(
  elements: readonly NetworkSelectionElement[],
  form: 'text' | 'json',
): string {
  if (form === 'json') return JSON.stringify(elements.map(toWireSelectionElement));
  return elements.map(toTextItem).join(',');
}

function toTextItem(element: NetworkSelectionElement, index: number): string {
  const fail = (key: string, reason: string): never => {
    throw new SpecError({
      code: 'INVALID_NETWORKS_ANNOTATION',
      subject: 'networks annotation',
      element: index,
      elementName: element.name,
      key,
      reason: `cannot be written in the text form: ${reason}`,
    });
  };
  const extra = Object.entries(element).find(
    ([field, value]) => value !== undefined && !['name', 'namespace', 'interface'].includes(field),
  );
  if (extra) fail(extra[0], 'only name, namespace and interface exist there; use the JSON form');
  if (element.interface !== undefined && /[,@/[{"]/.test(element.interface)) {
    fail('interface', 'it contains one of , @ / [ { "');
  }
  const ifName = element.interface === undefined ? '' : `@${element.interface}`;
  return `${element.namespace}/${element.name}${ifName}`;
}
