// The parts of undici that rcbs uses (Agent, ProxyAgent, the request API and the connector
// the direct Agent's connections are built on, src/gws/warm-connections.ts),
// loaded without undici's index. The index requires all of undici: fetch, WebSocket,
// EventSource, the cache and mock agents, 110 modules. Skipping it takes 13-16 MB off
// the peak RSS of a command that only talks to GWS, and 4-8 MB off a backup's
// (BENCHMARKS.md, "Start-up memory" and the backup section).
//
// Below are undici 7.30.2's own file paths; package.json pins that exact version, and
// test/gws-undici-parts.test.ts fails if an upgrade moves or renames them. The index does
// one more thing, repeated here: it adds the request/stream/connect API to
// Dispatcher.prototype. ProxyAgent needs it too, for its CONNECT (`client.connect`).

import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

const Dispatcher = require('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;
Object.assign(Dispatcher.prototype, require('undici/lib/api/index.js') as object);

export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export const ProxyAgent = require('undici/lib/dispatcher/proxy-agent.js') as typeof Undici.ProxyAgent;
export const buildConnector = require('undici/lib/core/connect.js') as typeof Undici.buildConnector;
export type { Dispatcher } from 'undici';
