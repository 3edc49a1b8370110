// Pins the outcome of a malformed config.properties through the real CLI (SPEC §3
// "Invalid values: exit 2 with the key, the value and what is allowed"; issue 5):
// each row is one broken file, run as `rcbs -config F` (the original's spelling);
// each must exit 2 naming the key (or the file), print no stack trace, and write
// nothing into targetDir. Typos warn with the nearest key instead.

import t from 'tap';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from './helpers/cli.js';
import { cliEnv } from './helpers/backup-state.js';

interface Row {
  name: string;
  /** Lines after gwsUriPrefix and targetDir (unless `whole`). */
  text: string;
  whole?: boolean;
  stderr: RegExp;
  code?: number;
}

const ROWS: Row[] = [
  { name: 'maxAge not a number or duration', text: 'maxAge = forever', stderr: /maxAge.*forever/ },
  { name: 'negative numThreads', text: 'numThreads = -3', stderr: /numThreads.*-3/ },
  { name: 'minAge not below maxAge', text: 'maxAge = 2\nminAge = 5', stderr: /minAge/ },
  { name: 'unknown downloadMode', text: 'downloadMode = turbo', stderr: /downloadMode.*turbo.*(single|multithread)/ },
  { name: 'mediaTypePattern not a regex', text: 'mediaTypePattern = audio/(mp3', stderr: /mediaTypePattern/ },
  { name: 'maxDate not a date', text: 'maxDate = 2024-13-45', stderr: /maxDate.*2024-13-45/ },
  { name: 'encryptionFormat not offered', text: 'encryptionFormat = AES-512', stderr: /encryptionFormat.*AES-512/ },
  { name: 'shardBy negative', text: 'shardBy = -1', stderr: /shardBy.*-1/ },
  { name: 'boolean that is not one', text: 'metadataOnly = maybe', stderr: /metadataOnly.*maybe/ },
  // Both come from the one config check (the component's requiresConfig, the key's parser), not from GWS code.
  { name: 'gwsUriPrefix missing', text: 'targetDir = ./t\n', whole: true, stderr: /gwsUriPrefix=\(not set\): required by gws-recordings/ },
  { name: 'gwsUriPrefix not a URL', text: 'gwsUriPrefix = not a url\ntargetDir = ./t', whole: true, stderr: /gwsUriPrefix=not a url: an http:\/\/ or https:\/\/ URL/ },
  { name: 'instance id without a total', text: 'rcbsInstanceId = 1', stderr: /totalRcbsInstances|RCBS_TOTAL_INSTANCES/ },
  { name: 'instance id not below the total', text: 'rcbsInstanceId = 3\ntotalRcbsInstances = 3', stderr: /rcbsInstanceId/ },
  { name: 'recordingFolderFormat climbing out of targetDir', text: 'recordingFolderFormat = ../../yyyy', stderr: /recordingFolderFormat/ },
  { name: 'binary garbage with NUL bytes', text: 'gwsUriPrefix = \u0000\u0001\u0002\ntargetDir = ./t', whole: true, stderr: /gwsUriPrefix/ },
];

t.test('malformed config.properties: exit 2 naming the key, no stack trace, nothing written', async (t) => {
  const dir = t.testdir();
  const env = cliEnv({ GWS_USERNAME: 'u', GWS_PASSWORD: 'p', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 's' });
  // Three at a time: each is a fresh node process.
  for (let i = 0; i < ROWS.length; i += 3) {
    await Promise.all(
      ROWS.slice(i, i + 3).map(async (row, j) => {
        const rowDir = path.join(dir, `row-${i + j}`);
        mkdirSync(rowDir);
        const config = path.join(rowDir, 'config.properties');
        writeFileSync(config, row.whole ? row.text : `gwsUriPrefix = http://127.0.0.1:9/api/v2\ntargetDir = ./t\n${row.text}\n`);
        const result = await runCli(['-config', config], { env, cwd: rowDir });
        t.equal(result.code, row.code ?? 2, `${row.name}: exit ${row.code ?? 2}\n${result.stderr.slice(-600)}`);
        t.match(result.stderr, row.stderr, `${row.name}: names the problem`);
        t.match(result.stderr, /RCBS_CONFIG_INVALID|RCBS_USAGE|RCBS_CONFIG_READ/, `${row.name}: coded`);
        t.notMatch(result.stderr, /\n\s+at /, `${row.name}: no stack trace`);
        t.notOk(existsSync(path.join(rowDir, 't')), `${row.name}: nothing written to targetDir`);
      }),
    );
  }
});

t.test('a config path that is a folder, or missing: exit 2 naming it', async (t) => {
  const dir = t.testdir({ folder: {} });
  for (const config of [path.join(dir, 'folder'), path.join(dir, 'missing.properties')]) {
    const result = await runCli(['-config', config], { env: cliEnv() });
    t.equal(result.code, 2, result.stderr);
    t.match(result.stderr, new RegExp(config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    t.notMatch(result.stderr, /\n\s+at /);
  }
});

t.test('a typo in a key warns with the nearest known key (not an error)', async (t) => {
  const dir = t.testdir();
  const config = path.join(dir, 'config.properties');
  writeFileSync(config, 'gwsUriPrefix = http://127.0.0.1:9/api/v2\ntargetDir = ./t\nmaxAgee = 3\n');
  const result = await runCli(['validate', 'backup', '--config', config], { env: cliEnv(), cwd: dir });
  t.match(result.stderr, /line 3: unknown key maxAgee is ignored; did you mean maxAge\?/, 'the typo names the key it probably meant, with its line');
  t.equal(result.code, 0, 'a typo alone is a warning');
});
