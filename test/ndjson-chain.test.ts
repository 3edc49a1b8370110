// Pins SPEC §2's composition: `rcbs run export --ndjson | jq … | rcbs run fetch-media`
// through a real shell pipe against the sandbox. The export writes nothing to disk;
// the filtered records arrive on fetch-media's stdin and exactly those recordings
// are backed up (media byte-identical, JSON beside it), nothing else.

import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import fg from 'fast-glob';
import { startSandbox } from '../src/sandbox/index.js';
import { mediaFilesOf } from '../src/recording.js';
import { CLI, cleanEnv } from './helpers/cli.js';

t.test('export | filter | fetch-media backs up exactly the filtered recordings', async (t) => {
  const sandbox = await startSandbox({ recordings: 12, seed: 7, oddities: false });
  t.teardown(() => sandbox.close());
  const dir = t.testdir();
  const target = path.join(dir, 'target');
  const config = path.join(dir, 'config.properties');
  writeFileSync(config, sandbox.configProperties(target));
  const env = cleanEnv(sandbox.env());

  // The filter in the middle is a plain node one-liner standing in for jq: keep Tenant_B.
  const filter = `"${process.execPath}" -e 'require("readline").createInterface({input:process.stdin}).on("line",l=>{const r=JSON.parse(l);if(r.recording.mediaFiles[0].tenant==="Tenant_B")console.log(l)})'`;
  const script = `set -o pipefail; "${process.execPath}" "${CLI}" run export --config "${config}" --ndjson 2>"${dir}/export.err" | ${filter} | "${process.execPath}" "${CLI}" run fetch-media --config "${config}" 2>"${dir}/fetch.err"`;
  // Asynchronous spawn: the sandbox answers from this very process.
  const status = await new Promise<number | null>((resolve) => spawn('bash', ['-c', script], { env, stdio: 'ignore' }).on('close', resolve));
  t.equal(status, 0, readFileSync(`${dir}/fetch.err`, 'utf8'));

  const wanted = sandbox.recordings.filter((r) => mediaFilesOf(r.recording)[0]?.tenant === 'Tenant_B');
  t.ok(wanted.length > 0 && wanted.length < sandbox.recordings.length, 'the filter keeps some, not all');
  const jsons = await fg('**/*.json', { cwd: target, ignore: ['.rcbs/**'] });
  t.equal(jsons.length, wanted.length, 'one JSON per filtered recording');
  for (const json of jsons) t.match(json, /^Tenant_B\//);
  for (const rec of wanted) {
    for (const media of rec.media.filter((m) => /^(audio\/mp3|video\/mp4)$/.test(m.type ?? ''))) {
      const [file] = await fg(`Tenant_B/**/${media.mediaId}.bin`, { cwd: target });
      t.ok(file, `media ${media.mediaId} downloaded`);
      if (file) t.equal(createHash('md5').update(readFileSync(path.join(target, file))).digest('hex'), media.encryptedMd5, 'byte-identical to the S3 object');
    }
  }
});
