// highland, loaded with require(). Imported from ESM, Node first lexes its 139 KB
// CommonJS file for named exports (cjs-module-lexer) and wraps it: 26-32 ms of every
// run's start against 5-8 ms by require (BENCHMARKS.md, "Where issue 15 stands: … 20:29"),
// and a backup loads it before its first request to GWS. The module is the same either
// way; the types are the package's own.

import { createRequire } from 'node:module';
import type HighlandModule from 'highland';

const require = createRequire(import.meta.url);

const highland = require('highland') as typeof HighlandModule;
export default highland;
