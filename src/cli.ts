#!/usr/bin/env node
// Thin on purpose: parse argv, build the logger, call a command, map errors to
// exit codes (SPEC §2: 0 done, 1 some items failed, 2 usage/config, 3 lock held,
// 130 interrupted). Logs go to stderr; stdout carries data only. Everything this
// process says on stderr goes through the logger, Node's own warnings and the
// "SIGTERM received" line too, so `--log-format json` gives JSON lines only.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import process from 'node:process';
import v8 from 'node:v8';
import type * as Commander from 'commander';
import { isRcbsError, toRcbsError } from './errors.js';
import { startHeapBudget } from './heap.js';
import { createLogger, sharedStderr, type LogFormat, type LogLevel, type Logger } from './log.js';
import type { RunCommandOptions } from './commands/run.js';
import { FIND_HELP } from './commands/find.js';

// commander by require(): imported from ESM, Node lexes its CommonJS index first, ~10 ms of
// every command's start (test/commonjs-by-require.test.ts; BENCHMARKS.md).
const { Command, CommanderError, Option } = createRequire(import.meta.url)('commander') as typeof Commander;
type Command = Commander.Command;

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// undici parses HTTP with llhttp compiled to WebAssembly. V8's optimising tier recompiles it
// in the background on first use, a transient ~35 MB of peak RSS for a parser that only
// sees GWS's headers and chunk framing (BENCHMARKS.md). The baseline tier is enough, and
// faster to start. A compile-time flag: it applies to modules compiled after this line.
v8.setFlagsFromString('--liftoff-only');

const ROOT_HELP = `
Examples:
  rcbs -config config.properties               back up as the original tool did
  rcbs run metadata-export --config config.properties --ndjson | jq .recording.id
  rcbs run backup --config config.properties --dry-run
  rcbs decrypt target/ --key private.pem --out decrypted/
  rcbs verify --config config.properties --key private.pem
  rcbs find --target target --caller 5551234 --from 2026-11-01

Environment:
  GWS_USERNAME, GWS_PASSWORD                   GWS account (HTTP Basic)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY     S3 credentials (AWS_SESSION_TOKEN, AWS profiles work too)
  RCBS_<KEY>                                   any config key, e.g. RCBS_TARGET_DIR, RCBS_MAX_AGE
  RCBS_KEY_PASSPHRASE                          passphrase of an encrypted private key
  JOB_COMPLETION_INDEX / AWS_BATCH_JOB_ARRAY_INDEX with RCBS_TOTAL_INSTANCES   instance id from the engine

Exit codes:
  0 all done   1 finished, some items failed (listed)   2 usage, config or credentials error,
  or a folder or file to read that does not exist   3 another instance holds the target folder's lock
  4 could not start or go on (GWS/S3 unreachable, targetDir not writable or full)
  130 interrupted (in-flight work finished or cleaned up)

Logs (stderr): --log-format json gives one JSON object per line, the summary last ("msg":"summary");
  --quiet keeps warnings, errors and the summary; human lines are timestamped off a terminal.
`;

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The original is started as `java -jar rp_clouddownload.jar -config config.properties`
 * (and copies of the guide carry an en dash): accept those spellings as `run backup --config`. */
export function normaliseArgv(args: string[]): string[] {
  const out = args.map((a) => a.replace(/^[\u2013\u2014]/, '--').replace(/^-config(=|$)/, '--config$1'));
  const first = out[0];
  if (first !== undefined && (first === '--config' || first.startsWith('--config='))) return ['run', 'backup', ...out];
  return out;
}

interface GlobalOptions {
  logFormat?: LogFormat;
  logLevel?: LogLevel;
  quiet?: boolean;
}

function loggerOf(globals: GlobalOptions): Logger {
  // --quiet: warnings, errors and the summary (which the logger prints whatever the level).
  return createLogger({ format: globals.logFormat ?? 'human', level: globals.quiet ? 'warn' : (globals.logLevel ?? 'info') });
}

function loggerFor(command: Command): Logger {
  return loggerOf(command.optsWithGlobals() as GlobalOptions);
}

/** The progress line: on a terminal unless --quiet, or wherever --progress asks for it. */
function progressFor(command: Command, asked: boolean | undefined) {
  const stderr = sharedStderr();
  return { stderr, enabled: asked ?? (stderr.isTTY && !(command.optsWithGlobals() as GlobalOptions).quiet) };
}

function runOptions(command: Command) {
  return command
    .option('--config <file>', 'config.properties file (Java properties format)')
    .option('--set <key=value>', 'set a config key, above every other source (repeatable)', collect, [])
    .option('--pipelines <dir>', 'folder with your own pipeline files', './pipelines');
}

/** Commands that stop cleanly on SIGINT/SIGTERM through the AbortSignal say so here;
 * for the others (decrypt, find, validate…) a signal ends the process at once. */
let handlesSignals = false;
const stopsOnSignal = () => {
  handlesSignals = true;
};

export function buildProgram(signal: AbortSignal, setExitCode: (code: number) => void): Command {
  const program = new Command();
  program
    .name('rcbs')
    .description(
      'Back up Genesys Interaction Recording metadata and encrypted media from GWS and S3, and decrypt them.\n' +
        'Drop-in for the original: rcbs -config config.properties (runs the pipeline "backup").',
    )
    .addOption(new Option('--log-format <format>', 'log lines on stderr as human text or JSON').choices(['human', 'json']).default('human'))
    .addOption(new Option('--log-level <level>', 'least important log level shown').choices(['debug', 'info', 'warn', 'error']).default('info'))
    .option('-q, --quiet', 'print warnings, errors and the summary only (no progress line)')
    .version(packageVersion(), '-V, --version')
    .addHelpText('after', ROOT_HELP)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const io = (command: Command) => ({
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: sharedStderr(),
    quiet: Boolean((command.optsWithGlobals() as GlobalOptions).quiet),
    env: process.env,
    signal,
    log: loggerFor(command),
  });

  runOptions(program.command('run <pipeline>'))
    .description('run a named pipeline (packaged or from --pipelines) or a pipeline file')
    .option('--dry-run', 'plan (window, slices, shard, what would be fetched) without writing anything')
    .option('--ndjson', 'write each record that reaches the end, with its outcome, as one JSON line to stdout')
    .option('--progress', 'show the progress line even when stderr is not a terminal')
    .action(async (pipeline: string, opts: RunCommandOptions, command: Command) => {
      const { runCommand } = await import('./commands/run.js');
      stopsOnSignal();
      setExitCode(await runCommand(pipeline, opts, io(command)));
    });

  program
    .command('pipelines')
    .description('list the named pipelines with their descriptions')
    .option('--pipelines <dir>', 'folder with your own pipeline files', './pipelines')
    .action(async (opts: { pipelines?: string }) => {
      const { listPipelines } = await import('./pipeline/loader.js');
      for (const p of await listPipelines(opts.pipelines)) {
        process.stdout.write(`${p.name.padEnd(18)} ${p.description}${p.packaged ? '' : `  (${p.path})`}\n`);
      }
      setExitCode(0);
    });

  runOptions(program.command('validate <pipeline>'))
    .description('check a pipeline file and its config against the schemas; exit 0 or a list of every problem')
    .action(async (pipeline: string, opts: RunCommandOptions, command: Command) => {
      const log = loggerFor(command);
      const { preparePipeline } = await import('./commands/run.js');
      const prepared = await preparePipeline(pipeline, opts, process.env);
      for (const warning of prepared.warnings) log.warn(warning);
      process.stdout.write(`${prepared.loaded.path}: valid (${prepared.steps.map((s) => s.component.name).join(' → ')})\n`);
      setExitCode(0);
    });

  program
    .command('decrypt <inputs...>')
    .description('decrypt CMS/PKCS#7 files or backup folders, openssl-compatibly and streaming (.bin suffix dropped)')
    .requiredOption('--key <file>', 'private key: PEM (PKCS#1/PKCS#8, encrypted too) or PKCS#12 (repeatable)', collect, [])
    .requiredOption('--out <dir>', 'folder for the decrypted files (a folder input keeps its layout)')
    .option('--passphrase-file <file>', 'file holding the key passphrase (or set RCBS_KEY_PASSPHRASE)')
    .option('--progress', 'show the progress line even when stderr is not a terminal')
    .action(async (inputs: string[], opts: { key: string[]; out: string; passphraseFile?: string; progress?: boolean }, command: Command) => {
      const [{ decryptCommand }, { createProgress }] = await Promise.all([import('./commands/decrypt.js'), import('./pipeline/report.js')]);
      stopsOnSignal();
      const { stderr, enabled } = progressFor(command, opts.progress);
      const progress = createProgress(stderr, enabled);
      setExitCode(await decryptCommand(inputs, { keys: opts.key, out: opts.out, passphraseFile: opts.passphraseFile, signal, progress }, loggerFor(command)));
    });

  runOptions(program.command('verify'))
    .description('check a backup: every indexed media file exists with the right size and digest, every JSON parses; with --key, that media decrypts')
    .option('--key <file>', 'private key to test-decrypt every media file with (repeatable)', collect, [])
    .option('--target <dir>', 'the backup folder (default: targetDir from the config)')
    .action(async (opts: RunCommandOptions & { key: string[]; target?: string }, command: Command) => {
      const presets = [...(opts.target ? [`targetDir=${opts.target}`] : []), ...(opts.key.length ? [`decryptKey=${opts.key.join(',')}`] : [])];
      const { runCommand } = await import('./commands/run.js');
      stopsOnSignal();
      setExitCode(await runCommand('verify', { ...opts, presets, command: 'verify' }, io(command)));
    });

  program
    .command('find')
    .description('search the downloaded metadata; prints matching recordings as NDJSON (one recording per line); exit 1 when nothing matches')
    .option('--config <file>', 'config.properties (for targetDir)')
    .option('--set <key=value>', 'set a config key (repeatable)', collect, [])
    .option('--target <dir>', 'the backup folder (default: targetDir from the config)')
    .option('--caller <number>', "caller's phone number (digits, substring)")
    .option('--dialed <number>', 'dialed phone number (digits, substring)')
    .option('--from <time>', 'startTime at or after (YYYY-MM-DD, ISO date-time or epoch ms)')
    .option('--to <time>', 'startTime before (YYYY-MM-DD, ISO date-time or epoch ms)')
    .option('--agent <id>', 'agent id or user name, exactly (case-insensitive): agent1 does not match agent10')
    .option('--agent-match <regex>', "agent id or user name matching a regex (case-insensitive), e.g. '^agent1[0-9]$'")
    .option('--tenant <name>', 'tenant of the media files')
    .option('--id <id>', 'recording id')
    .option('--media-type <type>', 'media MIME type, e.g. audio/mp3')
    .option('--text <text>', 'any text anywhere in the metadata')
    .option('--with-path', 'print {"path","recording"} per line, path relative to targetDir')
    .addHelpText('after', FIND_HELP)
    .action(async (opts: Record<string, string | string[] | undefined>, command: Command) => {
      const log = loggerFor(command);
      let targetDir = opts.target as string | undefined;
      if (!targetDir) {
        const { loadConfig } = await import('./config/load.js');
        const { config } = await loadConfig({ configFile: opts.config as string | undefined, env: process.env, sets: (opts.set as string[]) ?? [] });
        targetDir = config.targetDir;
      }
      const { findCommand } = await import('./commands/find.js');
      setExitCode(
        await findCommand(
          {
            targetDir,
            caller: opts.caller as string | undefined,
            dialed: opts.dialed as string | undefined,
            from: opts.from as string | undefined,
            to: opts.to as string | undefined,
            agent: opts.agent as string | undefined,
            agentMatch: opts.agentMatch as string | undefined,
            tenant: opts.tenant as string | undefined,
            id: opts.id as string | undefined,
            mediaType: opts.mediaType as string | undefined,
            text: opts.text as string | undefined,
            withPath: Boolean(opts.withPath),
          },
          process.stdout,
          log,
        ),
      );
    });

  program
    .command('sandbox')
    .description('start a local GWS + S3 with generated, really encrypted recordings and print the config to use (Ctrl-C stops it)')
    .option('--port <port>', 'GWS port (0 = any free port)', (v) => Number(v), 0)
    .option('--recordings <n>', 'how many recordings to generate', (v) => Number(v), 200)
    .option('--seed <n>', 'seed of the generator (same seed, same data)', (v) => Number(v), 1)
    .addOption(new Option('--mode <mode>', 'how GWS pages results').choices(['links', 'offset', 'capped']).default('links'))
    .option('--dir <dir>', 'folder to write config.properties, key.pem and cert.pem into')
    .option('--no-media', 'serve metadata only: no media objects in S3 (fast start for metadata-export with many recordings)')
    .option('--page-latency <ms>', 'GWS waits this long before answering each page of recordings (to measure concurrent slices)', (v) => Number(v), 0)
    .action(async (opts: { port: number; recordings: number; seed: number; mode: string; dir?: string; media: boolean; pageLatency: number }, command: Command) => {
      const { sandboxCommand } = await import('./commands/sandbox.js');
      stopsOnSignal();
      // Ctrl-C is how a sandbox is meant to stop: exit 0.
      await sandboxCommand(opts, loggerFor(command), signal);
      setExitCode(0);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  let exitCode = 0;
  let interrupts = 0;
  const program = buildProgram(controller.signal, (code) => (exitCode = code));
  const log = () => loggerOf(program.opts() as GlobalOptions);
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1 || !handlesSignals) process.exit(130);
    log().warn(`${signal} received, stopping`, { signal });
    controller.abort(new Error(signal));
  };
  // Node's own warnings (a deprecation, MaxListenersExceededWarning…) as log lines, not raw text.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => log().warn(warning.message, { warning: warning.name, code: (warning as { code?: string }).code }));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A file-size limit (ulimit -f) would kill the process mid-write; with a handler the
  // write fails with EFBIG instead, so that file fails cleanly and the others go on.
  process.on('SIGXFSZ', () => {});
  // A reader that went away (| head) is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });

  try {
    await program.parseAsync(normaliseArgv(argv), { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; every other parse problem is a usage error
      return err.exitCode === 0 ? 0 : 2;
    }
    const error = isRcbsError(err) ? err : toRcbsError(err);
    log().error(error.message, { code: error.code });
    // The outcome is the last line even when nothing could run (a monitor reads the last JSON line).
    log().summary(undefined, { status: error.code === 'RCBS_ABORTED' ? 'interrupted' : 'failed', exitCode: error.exitCode, error: { code: error.code, message: error.message } });
    if (error.code === 'RCBS_INTERNAL' && process.env.RCBS_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    exitCode = error.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return exitCode;
}

// Run when executed directly (not when imported by tests).
const invokedAs = process.argv[1] ?? '';
if (/(?:^|[\\/])cli\.(?:js|ts)$/.test(invokedAs) || invokedAs.endsWith('/rcbs')) {
  // Garbage collected before it sets the peak RSS (src/heap.ts); not in tests that import main().
  startHeapBudget();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // A scheduled backup must never hang after its work is done: if a forgotten
      // handle (a keep-alive socket…) keeps the loop alive, leave anyway. unref'd, so
      // a clean exit is not delayed by it.
      setTimeout(() => process.exit(code), 5000).unref();
    },
    (err: unknown) => {
      process.stderr.write(`rcbs: internal error: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
