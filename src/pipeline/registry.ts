// Every component, one line each. Adding a component = adding its file and a line here
// (then `npm run docs` regenerates docs/components.md and the schema's name lists).
//
// A component's module loads only when a pipeline names it: a backup does not load the CSV
// writer, the filter compiler or the NDJSON and backup-folder readers (the registry's import
// took 89 ms instead of 156 ms on this machine, before a backup's first GWS request:
// BENCHMARKS.md, "Where issue 15 stands" of 16:06). The names are here, so a pipeline's step
// names are checked, and a misspelt one answered with the nearest, without loading any.
// test/component-compliance.test.ts checks that each module's component has the name and
// kind it is listed under.

import type { ComponentDef, ComponentKind } from './types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Load = () => Promise<{ default: ComponentDef<any> }>;

const LOADERS: Record<ComponentKind, Record<string, Load>> = {
  source: {
    'gws-recordings': () => import('../sources/gws-recordings.js'),
    ndjson: () => import('../sources/ndjson.js'),
    'backup-dir': () => import('../sources/backup-dir.js'),
  },
  transform: {
    validate: () => import('../transforms/validate.js'),
    'media-type': () => import('../transforms/media-type.js'),
    shard: () => import('../transforms/shard.js'),
    dedupe: () => import('../transforms/dedupe.js'),
    filter: () => import('../transforms/filter.js'),
    select: () => import('../transforms/select.js'),
  },
  sink: {
    's3-download': () => import('../sinks/s3-download.js'),
    'json-writer': () => import('../sinks/json-writer.js'),
    ndjson: () => import('../sinks/ndjson.js'),
    decrypt: () => import('../sinks/decrypt.js'),
    verify: () => import('../sinks/verify.js'),
    file: () => import('../sinks/file.js'),
  },
};

const KINDS = Object.keys(LOADERS) as ComponentKind[];

/** The component of that kind and name, loaded; undefined when there is none. */
export async function loadComponent(kind: ComponentKind, name: string): Promise<ComponentDef<Record<string, unknown>> | undefined> {
  const load = Object.hasOwn(LOADERS[kind], name) ? LOADERS[kind][name] : undefined;
  return load ? (await load()).default : undefined;
}

/** Every component, loaded (docs, build-time validators, tests). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function loadAllComponents(): Promise<Array<ComponentDef<any>>> {
  return Promise.all(KINDS.flatMap((kind) => Object.values(LOADERS[kind]).map(async (load) => (await load()).default)));
}

export function componentNames(kind: ComponentKind): string[] {
  return Object.keys(LOADERS[kind]).sort();
}

/** The kinds a component of that name exists as (ndjson is a source and a sink). */
export function componentKinds(name: string): ComponentKind[] {
  return KINDS.filter((kind) => Object.hasOwn(LOADERS[kind], name));
}
