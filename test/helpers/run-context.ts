// A RunContext for driving runPipeline in-process against a sandbox, for tests that build
// their steps by hand: the sandbox's config.properties written into the test's folder (the
// targetDir there too), its credentials and environment, a silent logger, a drained stdout,
// and the store opened on first use (like the run command's).

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { createRunContext } from '../../src/pipeline/context.js';
import type { RunContext } from '../../src/pipeline/types.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { openStore } from '../../src/store/index.js';

export interface SandboxContextOptions {
  /** Extra config.properties keys. */
  config?: Record<string, string>;
  /** Rewrites the generated config.properties text (another gwsUriPrefix…). */
  edit?: (properties: string) => string;
  signal?: AbortSignal;
  stdin?: PassThrough;
}

export interface SandboxContext {
  context: RunContext;
  targetDir: string;
  /** Whether the run asked for its store (runPipeline's `storeOpened`). */
  storeOpened: () => boolean;
  /** Closes the store if the run opened it. */
  closeStore: () => Promise<void>;
}

export async function sandboxRunContext(sandbox: Sandbox, dir: string, options: SandboxContextOptions = {}): Promise<SandboxContext> {
  const targetDir = path.join(dir, 'backup');
  const configPath = path.join(dir, 'config.properties');
  const properties = sandbox.configProperties(targetDir, options.config);
  await writeFile(configPath, options.edit ? options.edit(properties) : properties);
  const { config, credentials } = await loadConfig({ configFile: configPath, env: sandbox.env(), sets: [] });
  const stdout = new PassThrough();
  stdout.resume();
  let opened = false;
  const context = createRunContext({
    config,
    credentials,
    log: silentLogger,
    env: sandbox.env(),
    stdout,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.stdin ? { stdin: options.stdin } : {}),
    openStore: async () => {
      opened = true;
      return openStore({ targetDir, recordingFolderFormat: config.recordingFolderFormat, log: silentLogger });
    },
  });
  return {
    context,
    targetDir,
    storeOpened: () => opened,
    closeStore: async () => {
      if (opened) await (await context.store()).close();
    },
  };
}
