// Pins the precedence of settings (SPEC §3): packaged defaults < config.properties
// < pipeline file `config` < environment (RCBS_ + UPPER_SNAKE key) < --set, with
// the source of every final value reported; empty environment variables count as
// unset; an empty value resets to the default; relative paths resolve against the
// folder of the layer that wrote them (config file folder, or the current folder).

import t from 'tap';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { CONFIG_KEYS, envNameOf } from '../src/config/keys.js';
import { DEFAULT_CONFIG } from '../src/config/defaults.js';
import { DAY_MS, HOUR_MS } from '../src/config/duration.js';

t.test('each layer overrides the ones below it, key by key', async (t) => {
  const dir = t.testdir({
    'config.properties': ['numThreads = 5', 'maxAge = 3', 'overlap = 1', 'gwsPageSize = 50', 'encryptionFormat = AES-256', ''].join('\n'),
  });
  const { config, sources } = await loadConfig({
    configFile: path.join(dir, 'config.properties'),
    pipelineConfig: { numThreads: 6, maxAge: '4', overlap: 2 },
    env: { RCBS_NUM_THREADS: '7', RCBS_MAX_AGE: '5' },
    sets: ['numThreads=8'],
  });
  t.equal(config.numThreads, 8, '--set wins over everything');
  t.equal(sources.numThreads, '--set');
  t.equal(config.maxAge, 5 * DAY_MS, 'environment wins over pipeline and file');
  t.equal(sources.maxAge, 'env RCBS_MAX_AGE');
  t.equal(config.overlap, 2 * HOUR_MS, 'pipeline file wins over config.properties');
  t.equal(sources.overlap, 'pipeline file config');
  t.equal(config.gwsPageSize, 50, 'config.properties wins over the defaults');
  t.equal(sources.gwsPageSize, 'config.properties line 4');
  t.equal(config.encryptionFormat, 'AES-256');
  t.equal(config.downloadMode, DEFAULT_CONFIG.downloadMode, 'untouched keys keep the packaged default');
  t.equal(sources.downloadMode, 'defaults');
});

t.test('environment names: RCBS_ + the key in UPPER_SNAKE, for every key', async (t) => {
  t.equal(envNameOf('targetDir'), 'RCBS_TARGET_DIR');
  t.equal(envNameOf('gwsUriPrefix'), 'RCBS_GWS_URI_PREFIX');
  t.equal(envNameOf('s3ForcePathStyle'), 'RCBS_S3_FORCE_PATH_STYLE');
  t.equal(envNameOf('totalRcbsInstances'), 'RCBS_TOTAL_RCBS_INSTANCES');
  const names = CONFIG_KEYS.map((k) => envNameOf(k.key));
  t.equal(new Set(names).size, names.length, 'no two keys share a variable');
  const { config, sources } = await loadConfig({
    env: {
      RCBS_GWS_URI_PREFIX: 'https://gws.example.com/api/v2/',
      RCBS_S3_FORCE_PATH_STYLE: 'true',
      RCBS_RCBS_INSTANCE_ID: '1',
      RCBS_TOTAL_RCBS_INSTANCES: '3',
      RCBS_MEDIA_TYPE_PATTERN: 'audio/mp3',
      RCBS_DECRYPT_KEY: '/keys/a.pem,/keys/b.pem',
    },
    sets: [],
  });
  t.equal(config.gwsUriPrefix, 'https://gws.example.com/api/v2', 'trailing slash dropped: paths are appended');
  t.equal(config.s3ForcePathStyle, true);
  t.equal(config.rcbsInstanceId, 1);
  t.equal(config.totalRcbsInstances, 3);
  t.equal(sources.totalRcbsInstances, 'env RCBS_TOTAL_RCBS_INSTANCES');
  t.equal(config.mediaTypePattern, 'audio/mp3');
  t.same(config.decryptKeys, ['/keys/a.pem', '/keys/b.pem']);
});

t.test('an empty environment variable counts as unset; a near-miss name warns', async (t) => {
  const dir = t.testdir({ 'config.properties': 'maxAge = 3\n' });
  const { config, warnings } = await loadConfig({ configFile: path.join(dir, 'config.properties'), env: { RCBS_MAX_AGE: '', RCBS_MAXAGE: '9', RCBS_TOTAL_INSTANCES: '2', JOB_COMPLETION_INDEX: '0' }, sets: [] });
  t.equal(config.maxAge, 3 * DAY_MS);
  t.same(warnings, ['env RCBS_MAXAGE is not a config variable and is ignored; did you mean RCBS_MAX_AGE?'], 'RCBS_TOTAL_INSTANCES is known, not a typo');
});

t.test('an empty value resets a key to its default, so a later layer can clear an earlier one', async (t) => {
  const dir = t.testdir({ 'config.properties': 'awsProxyHost = 10.0.1.31\nawsProxyPort = 8080\nnumThreads = 9\n' });
  const { config } = await loadConfig({ configFile: path.join(dir, 'config.properties'), env: {}, sets: ['awsProxyHost=', 'awsProxyPort=', 'numThreads='] });
  t.equal(config.awsProxyHost, undefined);
  t.equal(config.awsProxyPort, undefined);
  t.equal(config.numThreads, DEFAULT_CONFIG.numThreads);
});

t.test('only the final value is validated: a bad value overridden by a later layer is harmless', async (t) => {
  const dir = t.testdir({ 'config.properties': 'maxAge = soon\n' });
  const { config } = await loadConfig({ configFile: path.join(dir, 'config.properties'), env: {}, sets: ['maxAge=P3D'] });
  t.equal(config.maxAge, 3 * DAY_MS);
  await t.rejects(loadConfig({ configFile: path.join(dir, 'config.properties'), env: {}, sets: [] }), { code: 'RCBS_CONFIG_INVALID' });
});

t.test('--set splits at the first =', async (t) => {
  const { config } = await loadConfig({ env: {}, sets: ['s3KeyTemplate=media={mediaId}'] });
  t.equal(config.s3KeyTemplate, 'media={mediaId}');
});

t.test('relative paths resolve against the folder of the layer that wrote them', async (t) => {
  const root = t.testdir({ etc: { 'config.properties': 'targetDir = backup\ndecryptDir = ../plain\ndecryptKey = keys/k.pem\n' }, work: {} });
  const configFile = path.join(root, 'etc', 'config.properties');
  const cwd = path.join(root, 'work');
  const fromFile = await loadConfig({ configFile, env: {}, sets: [], cwd });
  t.equal(fromFile.config.targetDir, path.join(root, 'etc', 'backup'), 'from config.properties: its folder');
  t.equal(fromFile.config.decryptDir, path.join(root, 'plain'));
  t.same(fromFile.config.decryptKeys, [path.join(root, 'etc', 'keys', 'k.pem')]);

  const fromSet = await loadConfig({ configFile, env: { RCBS_DECRYPT_DIR: 'plain' }, sets: ['targetDir=out'], cwd });
  t.equal(fromSet.config.targetDir, path.join(cwd, 'out'), 'from --set: the current folder');
  t.equal(fromSet.config.decryptDir, path.join(cwd, 'plain'), 'from the environment: the current folder');

  const defaultTarget = await loadConfig({ configFile: path.join(root, 'etc', 'config.properties'), env: {}, sets: ['targetDir='], cwd });
  t.equal(defaultTarget.config.targetDir, path.join(root, 'etc', 'target'), 'the default target sits beside the config file, like <Installation Directory>/target');
  const noFile = await loadConfig({ env: {}, sets: [], cwd });
  t.equal(noFile.config.targetDir, path.join(cwd, 'target'), 'without a config file: the current folder');

  const relativeConfig = await loadConfig({ configFile: path.join('..', 'etc', 'config.properties'), env: {}, sets: [], cwd });
  t.equal(relativeConfig.config.targetDir, path.join(root, 'etc', 'backup'), 'a relative --config is found from the current folder');
});

t.test('UNC and absolute paths are kept, with forward slashes', async (t) => {
  const { config } = await loadConfig({ env: {}, sets: ['targetDir=//server/share/rcbs', 'decryptDir=/srv/plain/'] });
  t.equal(config.targetDir, '//server/share/rcbs');
  t.equal(config.decryptDir, '/srv/plain');
});
