// `rcbs run <name or file>` and the original's `rcbs -config config.properties`:
// read the pipeline, load the config with the pipeline's own layer, check both
// completely, then run with the target store opened (and locked) on first use.

import type { Readable, Writable } from 'node:stream';
import { RcbsError, isRcbsError } from '../errors.js';
import { runHeapPolicy, setHeapPolicy } from '../heap.js';
import { loadConfig, requireKeys } from '../config/load.js';
import type { RcbsConfig } from '../config/types.js';
import type { Logger, Stderr } from '../log.js';
import { loadComponent } from '../pipeline/registry.js';
import { declaredParams, readPipeline, resolvePipeline, type LoadedPipeline, type ResolvedStep } from '../pipeline/loader.js';
import { createRunContext } from '../pipeline/context.js';
import { createProgress, formatSummary, runReport, summaryFields } from '../pipeline/report.js';
import { runPipeline } from '../pipeline/runner.js';
import type { RunContext } from '../pipeline/types.js';
import { openStore } from '../store/index.js';
import { checkTrustFiles } from '../net/trust.js';
import { openFailedRecords, writeRunReport, type FailedRecordsFile } from '../store/run-reports.js';
import type { Store } from '../store/types.js';

export interface RunCommandOptions {
  config?: string;
  set?: string[];
  dryRun?: boolean;
  ndjson?: boolean;
  pipelines?: string;
  progress?: boolean;
  /** Extra config keys set by the command itself (e.g. `verify --key`), below --set. */
  presets?: string[];
  /** The command as the run report names it (default `run <pipeline>`). */
  command?: string;
}

export interface RunIo {
  stdin: Readable;
  stdout: Writable;
  /** stderr as shared by the log lines and the progress line (log.ts sharedStderr()). */
  stderr: Stderr;
  /** --quiet: no progress line unless --progress asks for it. */
  quiet?: boolean;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  log: Logger;
}

export interface PreparedRun {
  loaded: LoadedPipeline;
  config: Readonly<RcbsConfig>;
  /** Where each config key's value came from ("defaults", "--set"…). */
  configSources: Readonly<Record<string, string>>;
  steps: ResolvedStep[];
  warnings: string[];
}

/** --set entries naming a parameter the pipeline declares go to the pipeline; the rest are config keys. */
function splitSets(loaded: LoadedPipeline, sets: string[]): { params: Record<string, string>; configSets: string[] } {
  const declared = declaredParams(loaded.file);
  const params: Record<string, string> = {};
  const configSets: string[] = [];
  for (const entry of sets) {
    const at = entry.indexOf('=');
    const key = at > 0 ? entry.slice(0, at).trim() : '';
    if (declared.includes(key)) params[key] = entry.slice(at + 1);
    else configSets.push(entry);
  }
  return { params, configSets };
}

/** Reads and checks a pipeline and its config; throws one coded error listing every problem
 * of both (a config problem does not hide the pipeline's). */
export async function preparePipeline(target: string, options: RunCommandOptions, env: NodeJS.ProcessEnv): Promise<PreparedRun & { credentials: Awaited<ReturnType<typeof loadConfig>>['credentials'] }> {
  const loaded = await readPipeline(target, options.pipelines);
  const pipelineConfig = loaded.file && typeof loaded.file.config === 'object' && loaded.file.config !== null ? loaded.file.config : undefined;
  const { params, configSets } = splitSets(loaded, [...(options.presets ?? []), ...(options.set ?? [])]);
  let configError: RcbsError | undefined;
  const loadedConfig = await loadConfig({ configFile: options.config, pipelineConfig, env, sets: configSets }).catch(async (err: unknown) => {
    if (!isRcbsError(err) || err.code !== 'RCBS_CONFIG_INVALID') throw err;
    configError = err;
    // The pipeline is still checked, against the defaults, so every problem shows at once.
    return loadConfig({ env: {}, sets: [] });
  });
  const { config, credentials, warnings, sources } = loadedConfig;
  let steps: ResolvedStep[];
  try {
    steps = await resolvePipeline(loaded, config, env, params);
  } catch (err) {
    if (!configError || !isRcbsError(err)) throw err;
    throw new RcbsError(configError.code, `${configError.message}\n${err.message}`, { ...configError.details, pipelineProblems: err.details.problems }, { cause: configError });
  }
  if (configError) throw configError;
  for (const step of steps) {
    if (step.component.requiresConfig) requireKeys(config, step.component.requiresConfig, `by ${step.component.name} (${loaded.file.name} ${step.at})`);
    step.component.checkConfig?.(step.options as Record<string, unknown>, config);
  }
  // The CA bundles the pipeline's connections will trust are read here, not by the first
  // connection that needs them: caFile when it talks to GWS or S3, AWS_CA_BUNDLE for S3.
  // A pipeline that stays on this machine (verify, decrypt) does not depend on them.
  const downloads = steps.some((s) => s.component.movesMedia) && !config.metadataOnly;
  const queriesGws = steps.some((s) => s.component.requiresConfig?.includes('gwsUriPrefix')) || (downloads && config.gwsUriPrefix !== undefined);
  checkTrustFiles(config.caFile, env, [...(queriesGws ? ['gws' as const] : []), ...(downloads ? ['s3' as const] : [])]);
  if (options.ndjson && !steps.some((s) => s.kind === 'sink' && s.component.name === 'ndjson' && !s.options.path)) {
    // --ndjson: the records that reach the end, with their outcome, go to stdout.
    steps = [...steps, { kind: 'sink', at: '--ndjson', component: (await loadComponent('sink', 'ndjson'))!, options: Object.freeze({}) }];
  }
  return { loaded, config, configSources: sources, credentials, steps, warnings };
}

export async function runCommand(target: string, options: RunCommandOptions, io: RunIo): Promise<number> {
  const prepared = await preparePipeline(target, options, io.env);
  for (const warning of prepared.warnings) io.log.warn(warning);
  const { config, steps, loaded } = prepared;
  const name = loaded.file.name;

  const writes = !options.dryRun && steps.some((s) => s.component.writesTarget);
  // A run that downloads media keeps a larger heap budget; an export (no media, no backup
  // written) a tighter policy, so that its peak does not grow with the number of
  // recordings (src/heap.ts).
  setHeapPolicy(runHeapPolicy({ movesMedia: steps.some((s) => s.component.movesMedia), writesTarget: steps.some((s) => s.component.writesTarget) }));
  const progress = createProgress(io.stderr, options.progress ?? (io.stderr.isTTY && !io.quiet));
  let store: Store | undefined;
  const context: RunContext = createRunContext({
    config,
    configSources: prepared.configSources,
    credentials: prepared.credentials,
    log: io.log,
    signal: io.signal,
    dryRun: options.dryRun ?? false,
    env: io.env,
    stdin: io.stdin,
    stdout: io.stdout,
    // Only a pipeline that writes the backup takes the lock; a dry run or an NDJSON
    // export reads the state (e.g. last_recording_endtime.txt) without locking, so
    // `rcbs run export --ndjson | rcbs run fetch-media` can share one targetDir.
    openStore: async () => (store = await openStore({ targetDir: config.targetDir, recordingFolderFormat: config.recordingFolderFormat, log: io.log, lock: writes, readOnly: !writes })),
    onProgress: (event) => progress.update(event),
  });

  io.log.info(`running pipeline ${name}`, { pipeline: loaded.path, targetDir: config.targetDir, dryRun: options.dryRun || undefined });
  const startedAt = Date.now();
  let failedRecords: FailedRecordsFile | undefined;
  try {
    // The lock first: a second instance must exit 3 at once (SPEC §5), before any
    // component talks to GWS or S3.
    if (writes) {
      await context.store();
      failedRecords = await openFailedRecords(config.targetDir);
    }
    const outcome = await runPipeline(steps, context, {
      storeOpened: () => store !== undefined,
      onStop: (reason) => {
        if (reason === 'stopped') io.log.error(`stopping the run: ${context.stopError?.message ?? ''}`, { code: context.stopError?.code });
        else io.log.warn(reason === 'aborted' ? 'stopping: finishing or cleaning up the transfers in flight (press Ctrl-C again to quit at once)' : 'stdout was closed: stopping the run');
      },
      onRecord: async (record) => {
        if (record.status === 'failed' && failedRecords && Object.keys(record.recording).length > 0) await failedRecords.add(record.recording);
      },
      onEnd: async (outcome, error) => {
        if (options.dryRun) return;
        const report = runReport({ command: options.command ?? `run ${target}`, pipeline: { name, path: loaded.path }, targetDir: config.targetDir, dryRun: false, startedAt, outcome, ...(error ? { error } : {}) });
        try {
          await failedRecords?.finish({ completed: !outcome.stoppedEarly && !error });
          failedRecords = undefined;
          const file = await writeRunReport(config.targetDir, startedAt, report, { createState: writes });
          if (file) io.log.debug('run report written', { file });
        } catch (err) {
          // The backup itself is done (or not) either way: a report that cannot be written is a warning.
          io.log.warn(`the run report could not be written: ${(err as Error).message}`);
        }
      },
    });
    progress.stop();
    // A reader that closed stdout early (| head) asked for less: that is a clean end.
    const exitCode = outcome.reason === 'stdout-closed' ? 0 : outcome.exitCode;
    const report = runReport({ command: options.command ?? `run ${target}`, pipeline: { name, path: loaded.path }, targetDir: config.targetDir, dryRun: options.dryRun ?? false, startedAt, outcome });
    io.log.summary(formatSummary(name, context, outcome), summaryFields(report, exitCode));
    return exitCode;
  } finally {
    progress.stop();
    await failedRecords?.abort().catch(() => {});
    await store?.close();
  }
}
