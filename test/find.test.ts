// Pins `rcbs find` (SPEC §2): over a real backup tree on disk it prints each
// matching recording as one NDJSON line {"path","recording"}, applies every
// filter (caller, dialed, from/to, agent, tenant, id, media type, text) and
// their AND, skips .rcbs/ state and temp files of writes in progress, warns
// about unreadable JSON, exits like grep (0 match, 1 none, 2 bad arguments),
// and stops cleanly when the reader goes away (`| head`, a real pipe, EPIPE).
// Operators use it to find the calls a compliance request names: a filter that
// misses a recording is as bad as a lost file.

import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { findCommand, type FindOptions } from '../src/commands/find.js';
import { createLogger } from '../src/log.js';
import type { Recording } from '../src/pipeline/types.js';

function media(mediaId: string, type: string, extra: { tenant?: string; ani?: string; dnis?: string; agentId?: string; username?: string; startTime?: string } = {}) {
  return {
    startTime: extra.startTime ?? '2015-09-01T16:42:59.000+0000',
    stopTime: '2015-09-01T16:43:10.000+0000',
    mediaId,
    type,
    tenant: extra.tenant ?? 'Environment',
    ivrprofile: 'CallRecProfile',
    size: '184896',
    parameters: { ani: extra.ani, dnis: extra.dnis, agentId: extra.agentId, username: extra.username, sipsAppName: 'SIP_Server' },
  };
}

// The guide's example, trimmed, and neighbours that differ in one field each.
const guideCall: Recording = {
  id: '011AP643CSAPR4FKQGQE31TAES0001TH',
  callerPhoneNumber: '8522001',
  dialedPhoneNumber: '+14160000001',
  startTime: '2015-09-01T16:42:59.000+0000',
  stopTime: '2015-09-01T16:43:36.000+0000',
  mediaFiles: [media('011AP643_1.mp3', 'audio/mp3', { ani: '8522001', dnis: '+14160000001', agentId: '+14160000001', username: 'screen1@genesys.com' })],
  eventHistory: [
    { occurredAt: '2015-09-01T16:42:58.000+0000', event: 'Joined', calluuid: '011AP643CSAPR4FKQGQE31TAES0001TH', contact: { type: 'User', userName: 'screen3@genesys.com' } },
  ],
  region: 'region1',
};
const screen: Recording = {
  id: 'SCREEN0001',
  callRecordingId: '011AP643CSAPR4FKQGQE31TAES0001TH',
  startTime: '2015-09-01T16:43:00.000+0000',
  mediaFiles: [media('SCREEN0001.mp4', 'video/mp4', { agentId: 'agent-7' })],
};
const otherTenant: Recording = {
  id: 'OTHER0002',
  callerPhoneNumber: '+44 20 7946 0958',
  dialedPhoneNumber: '5550100',
  startTime: '2015-09-02T00:00:00.000Z',
  mediaFiles: [media('OTHER0002.wav', 'audio/wav', { tenant: 'Acme', startTime: '2015-09-02T00:00:00.000Z' })],
  notes: 'VIP complaint',
};
// No top-level caller: only the media parameters carry ani; no top-level startTime either.
const aniOnly: Recording = {
  id: 'ANI0003',
  mediaFiles: [media('ANI0003.mp3', 'audio/mp3', { ani: '(416) 555-0199', startTime: '2015-08-31T23:59:59.000+0000' })],
};

const files: Record<string, Recording> = {
  'Environment/2015/09/01/16/011AP643CSAPR4FKQGQE31TAES0001TH.json': guideCall,
  'Environment/2015/09/01/16/SCREEN0001.json': screen,
  'Acme/2015/09/02/00/OTHER0002.json': otherTenant,
  'Environment/2015/08/31/23/ANI0003.json': aniOnly,
};

function backupTree(t: Test): string {
  const dir = t.testdir({});
  for (const [rel, recording] of Object.entries(files)) {
    mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), JSON.stringify(recording, null, 2));
  }
  // Not recordings: state, a temp file of a write in progress, media, a broken file, another JSON.
  mkdirSync(path.join(dir, '.rcbs'), { recursive: true });
  writeFileSync(path.join(dir, '.rcbs', 'quarantine.json'), JSON.stringify({ ...guideCall, id: 'QUARANTINED' }));
  writeFileSync(path.join(dir, 'Environment/2015/09/01/16/.SCREEN0001.json.4f2a.part'), JSON.stringify({ ...screen, id: 'HALF' }));
  writeFileSync(path.join(dir, 'Environment/2015/09/01/16/011AP643_1.mp3.bin'), 'ciphertext 8522001');
  writeFileSync(path.join(dir, 'Environment/2015/09/01/16/broken.json'), '{"id": "BROKEN", "callerPhone');
  writeFileSync(path.join(dir, 'settings.json'), JSON.stringify({ note: '8522001' }));
  return dir;
}

interface FindResult {
  code: number;
  lines: Array<{ path: string; recording: Recording }>;
  ids: string[];
  logs: string[];
}

async function find(dir: string, opts: Omit<FindOptions, 'targetDir'>): Promise<FindResult> {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  const logs: string[] = [];
  const code = await findCommand({ targetDir: dir, withPath: true, ...opts }, out, createLogger({ write: (line) => logs.push(line) }));
  const lines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { path: string; recording: Recording });
  return { code, lines, ids: lines.map((l) => l.recording.id as string).sort(), logs };
}

t.test('by default each line is the stored recording itself, nothing added', async (t) => {
  const dir = backupTree(t);
  let text = '';
  const out = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  t.equal(await findCommand({ targetDir: dir, id: 'ANI0003' }, out, createLogger({ write: () => {} })), 0);
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  t.equal(lines.length, 1);
  const [rel] = Object.entries(files).find(([, r]) => (r as Recording).id === 'ANI0003')!;
  t.same(lines[0], JSON.parse(JSON.stringify(files[rel])));
});

t.test('--with-path: every recording once, as {path, recording} NDJSON; state, temp and broken files skipped', async (t) => {
  const dir = backupTree(t);
  const { code, lines, ids, logs } = await find(dir, {});
  t.equal(code, 0);
  t.same(ids, ['011AP643CSAPR4FKQGQE31TAES0001TH', 'ANI0003', 'OTHER0002', 'SCREEN0001']);
  for (const line of lines) {
    t.same(Object.keys(line), ['path', 'recording']);
    t.same(line.recording, JSON.parse(JSON.stringify(files[line.path])), `${line.path} is relative with forward slashes and the recording is the file's JSON`);
  }
  t.match(logs.join('\n'), /skipping Environment\/2015\/09\/01\/16\/broken\.json/, 'a broken JSON file is named on stderr');
  t.match(logs.join('\n'), /1 JSON file\(s\) .* could not be read/);
});

t.test('--caller and --dialed match digits as substrings, also in ani/dnis', async (t) => {
  const dir = backupTree(t);
  t.same((await find(dir, { caller: '852-2001' })).ids, ['011AP643CSAPR4FKQGQE31TAES0001TH']);
  t.same((await find(dir, { caller: '2079460958' })).ids, ['OTHER0002'], '+44 20 7946 0958 written with spaces');
  t.same((await find(dir, { caller: '555 0199' })).ids, ['ANI0003'], 'found through parameters.ani');
  t.same((await find(dir, { dialed: '4160000001' })).ids, ['011AP643CSAPR4FKQGQE31TAES0001TH']);
  t.same((await find(dir, { dialed: '5550100' })).ids, ['OTHER0002']);
  t.same((await find(dir, { dialed: '8522001' })).ids, [], 'the caller is not the dialed number');
});

t.test('--from and --to on the start time: dates (UTC, --to includes its day), date-times, epoch ms', async (t) => {
  const dir = backupTree(t);
  t.same((await find(dir, { from: '2015-09-01', to: '2015-09-01' })).ids, ['011AP643CSAPR4FKQGQE31TAES0001TH', 'SCREEN0001']);
  t.same((await find(dir, { to: '2015-08-31' })).ids, ['ANI0003'], 'no top-level startTime: the earliest media startTime');
  t.same((await find(dir, { from: '2015-09-01T16:43:00Z' })).ids, ['OTHER0002', 'SCREEN0001'], 'from is inclusive');
  t.same((await find(dir, { to: '2015-09-01T18:42:59+02:00' })).ids, ['011AP643CSAPR4FKQGQE31TAES0001TH', 'ANI0003'], 'offsets count; to is inclusive');
  t.same((await find(dir, { from: String(Date.UTC(2015, 8, 2)) })).ids, ['OTHER0002'], 'epoch milliseconds');
});

t.test('--agent, --tenant, --id, --media-type, --text', async (t) => {
  const dir = backupTree(t);
  t.same((await find(dir, { agent: '+14160000001' })).ids, ['011AP643CSAPR4FKQGQE31TAES0001TH'], 'parameters.agentId');
  t.same((await find(dir, { agent: 'SCREEN1@Genesys.com' })).ids, ['011AP643CSAPR4FKQGQE31TAES0001TH'], 'parameters.username, case-insensitive');
  t.same((await find(dir, { agent: 'screen3@genesys.com' })).ids, ['011AP643CSAPR4FKQGQE31TAES0001TH'], 'eventHistory contact userName');
  t.same((await find(dir, { agent: 'agent-7' })).ids, ['SCREEN0001']);
  t.same((await find(dir, { tenant: 'acme' })).ids, ['OTHER0002']);
  t.same((await find(dir, { id: '011AP643CSAPR4FKQGQE31TAES0001TH' })).ids, ['011AP643CSAPR4FKQGQE31TAES0001TH', 'SCREEN0001'], 'the call and its screen recording');
  t.same((await find(dir, { id: 'SCREEN0001' })).ids, ['SCREEN0001']);
  t.same((await find(dir, { mediaType: 'video/mp4' })).ids, ['SCREEN0001']);
  t.same((await find(dir, { mediaType: 'audio/mp' })).ids, [], 'the whole type must match');
  t.same((await find(dir, { mediaType: 'audio\\/(mp3|wav)' })).ids, ['011AP643CSAPR4FKQGQE31TAES0001TH', 'ANI0003', 'OTHER0002']);
  t.same((await find(dir, { text: 'vip COMPLAINT' })).ids, ['OTHER0002']);
});

// Issue 13: `--agent agent1` also matched agent10..agent19. --agent is exact now;
// --agent-match takes a regex for the looser searches.
t.test('--agent is exact; --agent-match takes a regex', async (t) => {
  const dir = backupTree(t);
  const agents = ['agent-1', 'agent-10', 'agent-17', 'Agent-2'];
  for (const agentId of agents) {
    const rel = `Environment/2015/09/03/10/${agentId.toUpperCase()}.json`;
    mkdirSync(path.join(dir, path.dirname(rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), JSON.stringify({ id: agentId.toUpperCase(), startTime: '2015-09-03T10:00:00.000Z', mediaFiles: [media(`${agentId}.mp3`, 'audio/mp3', { agentId })] }));
  }
  t.same((await find(dir, { agent: 'agent-1' })).ids, ['AGENT-1'], 'agent-1 does not match agent-10 or agent-17');
  t.same((await find(dir, { agent: 'SCREEN1' })).ids, [], 'no substring match');
  t.same((await find(dir, { agent: 'agent-2' })).ids, ['AGENT-2'], 'case-insensitive');
  t.same((await find(dir, { agentMatch: '^agent-1[0-9]$' })).ids, ['AGENT-10', 'AGENT-17'], 'an anchored regex');
  t.same((await find(dir, { agentMatch: 'screen1' })).ids, ['011AP643CSAPR4FKQGQE31TAES0001TH'], 'unanchored: anywhere in the value');
  t.same((await find(dir, { agent: 'agent-1', agentMatch: '^agent-1' })).ids, ['AGENT-1'], 'both: AND');
  const bad = await find(dir, { agentMatch: 'agent-(1' });
  t.equal(bad.code, 2, 'a broken regex is a usage error');
  t.match(bad.logs.join('\n'), /--agent-match "agent-\(1" is not a usable regular expression/);
});

t.test('filters combine with AND; no match exits 1', async (t) => {
  const dir = backupTree(t);
  t.same((await find(dir, { tenant: 'Environment', mediaType: 'audio/mp3', from: '2015-09-01' })).ids, ['011AP643CSAPR4FKQGQE31TAES0001TH']);
  const none = await find(dir, { tenant: 'Acme', caller: '8522001' });
  t.equal(none.code, 1);
  t.same(none.lines, []);
});

t.test('bad arguments exit 2 with every problem named, before any output', async (t) => {
  const dir = backupTree(t);
  const bad = await find(dir, { from: 'yesterday', to: '2015-13-45', caller: 'alice', mediaType: 'audio/(mp3' });
  t.equal(bad.code, 2);
  t.same(bad.lines, []);
  const logs = bad.logs.join('\n');
  t.match(logs, /--from "yesterday" is not a time/);
  t.match(logs, /--to "2015-13-45" is not a time/);
  t.match(logs, /--caller "alice" has no digits/);
  t.match(logs, /--media-type "audio\/\(mp3" is not a valid regular expression/);
  t.equal((await find(dir, { from: '2015-09-02', to: '2015-09-01' })).code, 2, 'from after to');
  const missing = await find(path.join(dir, 'nope'), {});
  t.equal(missing.code, 2);
  t.match(missing.logs.join('\n'), /is not a folder/);
});

t.test('a reader that goes away (| head -n 1) ends the search cleanly', async (t) => {
  const dir = t.testdir({});
  // Enough output to fill the pipe well past head's exit, so later writes meet EPIPE.
  const folder = path.join(dir, 'Environment', '2015', '09', '01', '16');
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < 400; i++) {
    writeFileSync(path.join(folder, `R${i}.json`), JSON.stringify({ id: `R${i}`, mediaFiles: [], padding: 'x'.repeat(2000) }));
  }
  const head = spawn('head', ['-n', '1'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let headOut = '';
  head.stdout.on('data', (chunk) => (headOut += String(chunk)));
  const headExit = new Promise<number | null>((resolve) => head.on('close', resolve));
  const logs: string[] = [];
  const code = await findCommand({ targetDir: dir }, head.stdin, createLogger({ level: 'debug', write: (line) => logs.push(line) }));
  t.equal(code, 0, 'matches were printed before the reader left');
  t.equal(await headExit, 0);
  t.equal(headOut.split('\n').filter(Boolean).length, 1);
  t.match(JSON.parse(headOut), { id: /^R\d+$/, padding: String }, 'by default a line is the recording itself');
  t.same(logs.filter((l) => /error/i.test(l)), [], 'no error is logged');
  t.match(logs.join('\n'), /find finished .*stoppedEarly=true/, 'the walk stopped at the broken pipe instead of reading on');
});
