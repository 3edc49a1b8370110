// Pins config validation (SPEC §3, fastify-style "validate once, freeze"): every
// bad value in config.properties ends in ONE RcbsError RCBS_CONFIG_INVALID (exit 2)
// whose message names the key, the value (never a secret) and the line it came
// from, with every problem of the file listed at once. Also pins the good path
// (the guide's example config, the documented defaults), the unknown-key warning
// with the nearest key, unreadable files, requireKeys, and the deep freeze.

import t, { type Test } from 'tap';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, requireKeys } from '../src/config/load.js';
import { CONFIG_KEYS, configJsonSchema, envNameOf } from '../src/config/keys.js';
import { DEFAULT_CONFIG } from '../src/config/defaults.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../src/config/duration.js';
import { RcbsError } from '../src/errors.js';

async function load(t: Test, content: string | Buffer, env: NodeJS.ProcessEnv = {}) {
  const dir = t.testdir({ 'config.properties': content });
  return loadConfig({ configFile: path.join(dir, 'config.properties'), env, sets: [] });
}

async function rejection(promise: Promise<unknown>): Promise<RcbsError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof RcbsError) return err;
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

// [what, config.properties content, key named, value shown, line]
const BAD: Array<[string, string, string, string, number]> = [
  ['maxAge not a number', 'maxAge = abc\n', 'maxAge', 'abc', 1],
  ['maxAge negative', '# x\nmaxAge = -1\n', 'maxAge', '-1', 2],
  ['maxAge fractional days', 'maxAge = 1.5\n', 'maxAge', '1.5', 1],
  ['minAge bare P', 'minAge = P\n', 'minAge', 'P', 1],
  ['minAge ISO without T', 'minAge = P30M5H\n', 'minAge', 'P30M5H', 1],
  ['overlap with a unit suffix', 'overlap = 6h\n', 'overlap', '6h', 1],
  ['shardBy below a minute', 'shardBy = PT1S\n', 'shardBy', 'PT1S', 1],
  ['minDate not a calendar date', 'minDate = 2015-02-30\n', 'minDate', '2015-02-30', 1],
  ['minDate in another format', 'minDate = 31/07/2015\n', 'minDate', '31/07/2015', 1],
  ['maxDate in epoch seconds', 'maxDate = 1438300800\n', 'maxDate', '1438300800', 1],
  ['numThreads zero', 'numThreads = 0\n', 'numThreads', '0', 1],
  ['numThreads words', 'numThreads = four\n', 'numThreads', 'four', 1],
  ['numThreads scientific', 'numThreads = 1e3\n', 'numThreads', '1e3', 1],
  ['gwsPageSize above 10000', 'gwsPageSize = 10001\n', 'gwsPageSize', '10001', 1],
  ['gwsConcurrency zero', 'gwsConcurrency = 0\n', 'gwsConcurrency', '0', 1],
  ['awsProxyPort above 65535', 'awsProxyHost = 10.0.1.31\nawsProxyPort = 70000\n', 'awsProxyPort', '70000', 2],
  ['gwsProxyPort zero', 'gwsProxyHost = http://10.0.1.31\ngwsProxyPort = 0\n', 'gwsProxyPort', '0', 2],
  ['awsProxyHost without a port', 'awsProxyHost = 10.0.1.31\n', 'awsProxyPort', 'awsProxyHost=10.0.1.31', 1],
  ['gwsProxyPort without a host', 'gwsProxyPort = 8080\n', 'gwsProxyHost', 'gwsProxyPort=8080', 1],
  ['gwsProxyHost carrying the port', 'gwsProxyHost = http://proxy:3128\ngwsProxyPort = 3128\n', 'gwsProxyHost', 'http://proxy:3128', 1],
  ['metadataOnly yes', 'metadataOnly = yes\n', 'metadataOnly', 'yes', 1],
  ['skipLastRecordingCheck 1', 'skipLastRecordingCheck = 1\n', 'skipLastRecordingCheck', '1', 1],
  ['s3ForcePathStyle maybe', 's3ForcePathStyle = maybe\n', 's3ForcePathStyle', 'maybe', 1],
  ['downloadMode unknown', 'downloadMode = parallel\n', 'downloadMode', 'parallel', 1],
  ['encryptionFormat unknown', 'encryptionFormat = AES-512\n', 'encryptionFormat', 'AES-512', 1],
  ['mediaTypePattern does not compile', 'mediaTypePattern = audio/(mp3\n', 'mediaTypePattern', 'audio/(mp3', 1],
  ['gwsUriPrefix not http', 'gwsUriPrefix = ftp://example.com/api/v2\n', 'gwsUriPrefix', 'ftp://example.com/api/v2', 1],
  ['gwsUriPrefix without scheme', 'gwsUriPrefix = example.com/api/v2\n', 'gwsUriPrefix', 'example.com/api/v2', 1],
  ['s3Endpoint not a URL', 's3Endpoint = localhost 9000\n', 's3Endpoint', 'localhost 9000', 1],
  ['gwsRecordingsUri without leading slash', 'gwsRecordingsUri = recordings\n', 'gwsRecordingsUri', 'recordings', 1],
  ['s3KeyTemplate with a stray brace', 's3KeyTemplate = {keyPrefix{mediaId}\n', 's3KeyTemplate', '{keyPrefix{mediaId}', 1],
  ['minAge not below maxAge', 'maxAge = 2\nminAge = 3\n', 'minAge', '3', 2],
  ['minAge equal to maxAge (ISO)', 'maxAge = P7DT1H\nminAge = P7DT1H\n', 'minAge', 'P7DT1H', 2],
  ['minDate not after maxDate', 'minDate = 2015-07-01\nmaxDate = 2015-07-31\n', 'minDate', '2015-07-01', 1],
  ['rcbsInstanceId equal to the total', 'rcbsInstanceId = 4\ntotalRcbsInstances = 4\n', 'rcbsInstanceId', '4', 1],
  ['rcbsInstanceId without a total', 'rcbsInstanceId = 1\n', 'totalRcbsInstances', 'rcbsInstanceId=1', 1],
  ['totalRcbsInstances zero', 'totalRcbsInstances = 0\n', 'totalRcbsInstances', '0', 1],
  ['recordingFolderFormat climbing out', 'recordingFolderFormat = yyyy/../dd\n', 'recordingFolderFormat', 'yyyy/../dd', 1],
  ['recordingFolderFormat unknown token', 'recordingFolderFormat = YYYY/MM/dd\n', 'recordingFolderFormat', 'YYYY/MM/dd', 1],
  ['recordingFolderFormat backslash', 'recordingFolderFormat = yyyy\\\\MM\n', 'recordingFolderFormat', 'yyyy\\MM', 1],
  ['recordingFolderFormat absolute', 'recordingFolderFormat = /yyyy/MM\n', 'recordingFolderFormat', '/yyyy/MM', 1],
  ['targetDir with backslashes', 'targetDir = C:\\target\\rcbs\n', 'targetDir', 'C:\\target\\rcbs', 1],
  ['targetDir drive without slash', 'targetDir = C:target\n', 'targetDir', 'C:target', 1],
  ['decryptDir inside targetDir', 'targetDir = /data/backup\ndecryptDir = /data/backup/plain\n', 'decryptDir', '/data/backup/plain', 2],
  ['malformed unicode escape', 'targetDir = /data/caf\\u00g9\n', 'targetDir', '/data/caf\\u00g9', 1],
];

t.test(`${BAD.length} bad config.properties each end in RCBS_CONFIG_INVALID naming key, value and line`, async (t) => {
  t.ok(BAD.length >= 25);
  for (const [what, content, key, value, line] of BAD) {
    const err = await rejection(load(t, content));
    t.equal(err.code, 'RCBS_CONFIG_INVALID', `${what}: code`);
    t.equal(err.exitCode, 2, `${what}: exit code 2`);
    t.ok(err.message.includes(key), `${what}: message names ${key}`, { diagnostic: !err.message.includes(key), found: err.message });
    t.ok(err.message.includes(value), `${what}: message shows ${value}`, { diagnostic: !err.message.includes(value), found: err.message });
    t.ok(err.message.includes(`config.properties line ${line}`), `${what}: message names line ${line}`, { found: err.message });
    const problems = err.details.problems as Array<{ key: string; value: string; allowed: string; source: string }>;
    t.ok(problems.some((p) => p.key === key && p.allowed.length > 0), `${what}: details list the problem`);
  }
});

t.test('a Windows drive path is refused on a machine that is not Windows', { skip: process.platform === 'win32' }, async (t) => {
  const err = await rejection(load(t, 'targetDir = D:/backup\n'));
  t.equal(err.code, 'RCBS_CONFIG_INVALID');
  t.match(err.message, /targetDir=D:\/backup: .*Windows drive/);
});

t.test('every problem of the file is listed in one error', async (t) => {
  const err = await rejection(load(t, 'maxAge = x\nnumThreads = 0\ndownloadMode = fast\nmetadataOnly = maybe\n'));
  const problems = err.details.problems as Array<{ key: string }>;
  t.same(problems.map((p) => p.key).sort(), ['downloadMode', 'maxAge', 'metadataOnly', 'numThreads']);
  for (const line of [1, 2, 3, 4]) t.match(err.message, `config.properties line ${line}`);
  t.match(err.message, /4 problems/);
});

t.test('secret values are never echoed', async (t) => {
  const secret = 'Sup3r-S3cret-GWS-pw';
  const env = { GWS_PASSWORD: secret };
  const err = await rejection(load(t, `numThreads = ${secret}\ngwsUriPrefix = https://admin:${secret}@gws.example.com/api/v2\n`, env));
  t.equal(err.code, 'RCBS_CONFIG_INVALID');
  t.notMatch(err.message, secret);
  t.notMatch(JSON.stringify(err.details), secret);
  t.match(err.message, /numThreads=\[REDACTED\]/);
  t.match(err.message, /gwsUriPrefix=\[REDACTED\]: .*without user:password/);
  // A password in the URL is refused, and hidden, even when it is not a known env secret.
  const other = await rejection(load(t, 'gwsUriPrefix = https://admin:hunter2hunter2@gws.example.com/api/v2\n'));
  t.notMatch(other.message, 'hunter2hunter2');
  t.match(other.message, 'gwsUriPrefix=https://[REDACTED]@gws.example.com/api/v2');
});

t.test("the guide's example config loads with the documented meanings", async (t) => {
  const { config, warnings } = await load(t, [
    '# config.properties as the guide shows it',
    'gwsUriPrefix = https://example.com/api/v2',
    'maxAge = P7DT3H',
    'minAge = P7DT1H',
    'targetDir = //server_name/path',
    'awsProxyHost = 10.0.1.31',
    'awsProxyPort = 8080',
    'gwsProxyHost = http://10.0.1.31',
    'gwsProxyPort = 8080',
    'downloadMode = single',
    'encryptionFormat = aes-256',
    'gwsRecordingsUri = /recordings',
    'gwsSettingsUri = /me/settings/rcbs',
    'mediaTypePattern = audio\\/mp3',
    'metadataOnly = TRUE',
    'numThreads = 8',
    'overlap = P6D',
    'rcbsInstanceId = 0',
    'totalRcbsInstances = 4',
    'recordingFolderFormat = yyyy/MM/dd/HH',
    'shardBy = 1',
    'skipLastRecordingCheck = false',
    'usePayloadSigning = true',
    'decryptKey = keys/a.pem, keys/b.p12',
    'caFile = certs/corp-proxy-ca.pem',
    '',
  ].join('\n'));
  t.same(warnings, []);
  t.equal(config.gwsUriPrefix, 'https://example.com/api/v2');
  t.equal(config.maxAge, 7 * DAY_MS + 3 * HOUR_MS);
  t.equal(config.minAge, 7 * DAY_MS + 1 * HOUR_MS);
  t.equal(config.targetDir, '//server_name/path', 'UNC kept as written');
  t.equal(config.awsProxyHost, '10.0.1.31');
  t.equal(config.awsProxyPort, 8080);
  t.equal(config.gwsProxyHost, 'http://10.0.1.31');
  t.equal(config.downloadMode, 'single');
  t.equal(config.encryptionFormat, 'AES-256', 'case-insensitive, normalised');
  t.equal(config.mediaTypePattern, 'audio/mp3');
  t.equal(config.metadataOnly, true);
  t.equal(config.numThreads, 8);
  t.equal(config.overlap, 6 * DAY_MS);
  t.equal(config.rcbsInstanceId, 0);
  t.equal(config.totalRcbsInstances, 4);
  t.equal(config.shardBy, DAY_MS);
  t.equal(config.usePayloadSigning, true);
  t.equal(config.decryptKeys.length, 2);
  t.match(config.decryptKeys[0], /\/keys\/a\.pem$/);
  t.match(config.decryptKeys[1], /\/keys\/b\.p12$/);
  t.ok(path.isAbsolute(config.caFile!) && config.caFile!.endsWith('/certs/corp-proxy-ca.pem'), 'caFile relative to the config file');
});

t.test('durations and dates in every documented form', async (t) => {
  const { config } = await load(t, 'maxAge = P1Y2M3DT4H5M6.5S\nminAge = PT30M\noverlap = 0\nshardBy = P1W\n');
  t.equal(config.maxAge, 365 * DAY_MS + 60 * DAY_MS + 3 * DAY_MS + 4 * HOUR_MS + 5 * MINUTE_MS + 6500, 'Y = 365 days, M = 30 days');
  t.equal(config.minAge, 30 * MINUTE_MS);
  t.equal(config.overlap, 0);
  t.equal(config.shardBy, 7 * DAY_MS);
  const dates = await load(t, 'minDate = 2015-07-31\nmaxDate = 1438000000000\n');
  t.equal(dates.config.minDate, Date.UTC(2015, 6, 31));
  t.equal(dates.config.maxDate, 1438000000000);
});

// s3PartSize / s3PartThreshold (issue 15): bytes, or with a binary unit; a part below 64 KiB is refused.
t.test('byte sizes: plain bytes or KiB/MiB/GiB', async (t) => {
  const { config } = await load(t, 's3PartSize = 8MiB\ns3PartThreshold = 1G\n');
  t.equal(config.s3PartSize, 8 * 1024 * 1024);
  t.equal(config.s3PartThreshold, 1024 ** 3);
  t.equal((await load(t, 's3PartSize = 262144\ns3PartThreshold = 0\n')).config.s3PartThreshold, 0, '0 = never split');
  const err = await rejection(loadConfig({ env: {}, sets: ['s3PartSize=1KiB'] }));
  t.equal(err.code, 'RCBS_CONFIG_INVALID');
  t.match(err.message, /s3PartSize/);
});

t.test('the table documents every key, and its default texts parse to the packaged defaults', async (t) => {
  const guideKeys = ['gwsUriPrefix', 'maxAge', 'targetDir', 'awsProxyHost', 'awsProxyPort', 'gwsProxyHost', 'gwsProxyPort', 'downloadMode', 'encryptionFormat', 'gwsRecordingsUri', 'gwsSettingsUri', 'mediaTypePattern', 'metadataOnly', 'minAge', 'minDate', 'maxDate', 'numThreads', 'overlap', 'rcbsInstanceId', 'totalRcbsInstances', 'recordingFolderFormat', 'shardBy', 'skipLastRecordingCheck', 'usePayloadSigning'];
  const extensions = ['s3Bucket', 's3Region', 's3Endpoint', 's3ForcePathStyle', 's3KeyTemplate', 'gwsPageSize', 'gwsConcurrency', 'decryptDir', 'decryptKey', 'caFile', 'restoreArchivedDays', 's3StallTimeout', 's3PartSize', 's3PartThreshold'];
  t.same(CONFIG_KEYS.map((k) => k.key).sort(), [...guideKeys, ...extensions].sort());
  for (const def of CONFIG_KEYS) {
    t.ok(def.description.length > 10 && def.allowed.length > 3, `${def.key} is described`);
    if (def.default === undefined || def.type === 'path') continue;
    const parsed = def.parse(def.default);
    t.ok(parsed.ok, `${def.key} default parses`);
    if (parsed.ok) t.same(parsed.value, (DEFAULT_CONFIG as unknown as Record<string, unknown>)[def.field], `${def.key} default matches DEFAULT_CONFIG`);
  }
  t.equal(envNameOf('totalRcbsInstances'), 'RCBS_TOTAL_RCBS_INSTANCES');
  const schema = configJsonSchema() as { properties: Record<string, unknown> };
  t.same(Object.keys(schema.properties).sort(), [...guideKeys, ...extensions].sort());
});

t.test('an unknown key warns, naming the nearest known key; credentials in the file are ignored', async (t) => {
  const { config, warnings } = await load(t, 'maxage = 9\ngwsUriPrefx = https://x.example\nGWS_PASSWORD = Pa55-in-file\n');
  t.equal(config.maxAge, DEFAULT_CONFIG.maxAge, 'the misspelt key did not take effect');
  t.match(warnings[0], /line 1: unknown key maxage .*case-sensitive: did you mean maxAge\?/);
  t.match(warnings[1], /line 2: unknown key gwsUriPrefx .*did you mean gwsUriPrefix\?/);
  t.match(warnings[2], /line 3: GWS_PASSWORD is ignored: credentials come only from the environment/);
  t.notMatch(warnings.join('\n'), 'Pa55-in-file');
});

t.test('a missing or unreadable config file is RCBS_CONFIG_READ naming the path', async (t) => {
  const dir = t.testdir({});
  const missing = path.join(dir, 'nope.properties');
  const err = await rejection(loadConfig({ configFile: missing, env: {}, sets: [] }));
  t.equal(err.code, 'RCBS_CONFIG_READ');
  t.equal(err.exitCode, 2);
  t.match(err.message, missing);
  t.match(err.message, /does not exist/);
  await mkdir(path.join(dir, 'folder.properties'));
  const folder = await rejection(loadConfig({ configFile: path.join(dir, 'folder.properties'), env: {}, sets: [] }));
  t.equal(folder.code, 'RCBS_CONFIG_READ');
  t.match(folder.message, /is a folder/);
});

t.test('a file that is not UTF-8 reads as ISO-8859-1, as Java reads it', async (t) => {
  const latin1 = Buffer.from('targetDir = /data/caf\xe9\n', 'latin1');
  const { config } = await load(t, latin1);
  t.equal(config.targetDir, '/data/café');
});

t.test('the returned config is deep-frozen and holds no credentials', async (t) => {
  const dir = t.testdir({ 'config.properties': 'decryptKey = a.pem,b.pem\n' });
  const env = { GWS_USERNAME: 'admin@tenant.com', GWS_PASSWORD: 'pw-123456', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret-123456', AWS_SESSION_TOKEN: 'token-123456' };
  const { config, credentials } = await loadConfig({ configFile: path.join(dir, 'config.properties'), env, sets: [] });
  t.ok(Object.isFrozen(config));
  t.ok(Object.isFrozen(config.decryptKeys));
  t.throws(() => { (config as { maxAge: number }).maxAge = 1; }, TypeError);
  t.throws(() => { (config.decryptKeys as string[]).push('c.pem'); }, TypeError);
  t.ok(Object.isFrozen(credentials));
  t.same(credentials, { gwsUsername: 'admin@tenant.com', gwsPassword: 'pw-123456', awsAccessKeyId: 'AKIAEXAMPLE', awsSecretAccessKey: 'secret-123456', awsSessionToken: 'token-123456' });
  const dump = JSON.stringify(config);
  for (const secret of ['pw-123456', 'secret-123456', 'token-123456']) t.notMatch(dump, secret);
});

t.test('requireKeys names the missing keys and why they are needed', async (t) => {
  const { config } = await loadConfig({ env: {}, sets: [] });
  t.doesNotThrow(() => requireKeys(config, ['targetDir'], 'to back up'));
  const err = (() => { try { requireKeys(config, ['gwsUriPrefix', 'decryptDir'], 'by the GWS source'); } catch (e) { return e as RcbsError; } return undefined; })();
  t.equal(err?.code, 'RCBS_CONFIG_INVALID');
  t.equal(err?.exitCode, 2);
  t.match(err?.message, /gwsUriPrefix=\(not set\): required by the GWS source: set it in config\.properties, as RCBS_GWS_URI_PREFIX/);
  t.match(err?.message, /decryptDir/);
});

t.test('a bad --set is an error naming the nearest key', async (t) => {
  const err = await rejection(loadConfig({ env: {}, sets: ['maxage=3', 'justakey'] }));
  t.equal(err.code, 'RCBS_CONFIG_INVALID');
  t.match(err.message, /maxage=3: a known key; keys are case-sensitive: did you mean maxAge\? \(from --set\)/);
  t.match(err.message, /justakey=\(no value\): --set takes key=value/);
});

t.test('bad values from the environment and the pipeline file name their source', async (t) => {
  const err = await rejection(loadConfig({ pipelineConfig: { numThreads: 0, metadataOnly: { yes: true } }, env: { RCBS_MAX_AGE: 'two' }, sets: [] }));
  t.match(err.message, /numThreads=0: .*\(from pipeline file config\)/);
  t.match(err.message, /metadataOnly=\{"yes":true\}: a string, number or boolean \(from pipeline file config\)/);
  t.match(err.message, /maxAge=two: .*\(from env RCBS_MAX_AGE\)/);
});


t.test('the key table renders as Markdown with every key and its variable', async (t) => {
  const { renderConfigKeysMarkdown } = await import('../src/config/keys.js');
  const doc = renderConfigKeysMarkdown();
  for (const def of CONFIG_KEYS) t.match(doc, `| \`${def.key}\``, def.key);
  t.match(doc, '`RCBS_TOTAL_RCBS_INSTANCES`');
  t.match(doc, 'audio/mp3\\|video/mp4', 'pipes in values are escaped for the table');
});

// An invalid value stops the run; a misspelt key beside it (often the cause) must not
// vanish: the warning travels in the same error message.
t.test('warnings ride along when the config is invalid', async (t) => {
  const dir = t.testdir({ 'config.properties': 'gwsUriPrefix = https://x.example/api\nmaxage = 3\nnumThreads = zero\n' });
  const err = await loadConfig({ configFile: `${dir}/config.properties`, env: {}, sets: [] }).then(() => undefined, (e: unknown) => e as RcbsError);
  t.equal(err?.code, 'RCBS_CONFIG_INVALID');
  t.match(err?.message, /numThreads=zero/);
  t.match(err?.message, /unknown key maxage .*did you mean maxAge\?/);
});
