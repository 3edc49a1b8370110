// Every component, one line each. Adding a component = adding its file and a line here
// (then `npm run docs` regenerates docs/components.md and the schema's name lists).

import type { ComponentDef, ComponentKind } from './types.js';
import ndjsonSource from '../sources/ndjson.js';
import ndjsonSink from '../sinks/ndjson.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const COMPONENTS: ReadonlyArray<ComponentDef<any>> = [
  ndjsonSource,
  ndjsonSink,
];

export function findComponent(kind: ComponentKind, name: string): ComponentDef<Record<string, unknown>> | undefined {
  return COMPONENTS.find((c) => c.kind === kind && c.name === name);
}

export function componentNames(kind: ComponentKind): string[] {
  return COMPONENTS.filter((c) => c.kind === kind).map((c) => c.name).sort();
}
