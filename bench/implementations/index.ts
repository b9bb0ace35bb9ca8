import { baseline } from './baseline.ts';
import type { Implementation } from './implementation.ts';
import { multinetThick, multinetThin } from './multinet.ts';
import { multusThick, multusThin } from './multus.ts';

/** Every implementation, in run order. Adding one is one entry here. */
export const IMPLEMENTATIONS: readonly Implementation[] = [
  baseline,
  multinetThin,
  multinetThick,
  multusThin,
  multusThick,
];
