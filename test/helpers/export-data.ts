// Recordings for export tests, made fast and simply (50k in well under a second):
// GWS-shaped metadata whose values need no CSV quoting, so a test can write the
// expected CSV bytes itself, independently of the code under test.

export const DAY_MS = 86_400_000;

/** GWS's time format: 2015-09-01T16:42:59.000+0000. */
export function gwsTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

export interface ExportMedia {
  mediaId: string;
  type: string;
  size: string | number;
  tenant: string;
  parameters: { agentId: string; username: string; ani: string; dnis: string };
}

export interface ExportRecording {
  id: string;
  startTime: string;
  stopTime: string;
  mediaFiles: ExportMedia[];
  [key: string]: unknown;
}

/** `count` recordings, startTimes spread over `days` days from `start`, 1 or 2 media files each. */
export function exportRecordings(count: number, start: number, days: number): ExportRecording[] {
  const out: ExportRecording[] = [];
  const step = Math.floor((days * DAY_MS) / count);
  for (let i = 0; i < count; i++) {
    const startMs = start + i * step;
    const agent = `agent${i % 7}`;
    const files: ExportMedia[] = [];
    const n = i % 3 === 0 ? 2 : 1;
    for (let k = 0; k < n; k++) {
      files.push({
        mediaId: `m${i}-${k}`,
        type: k === 0 ? 'audio/mp3' : 'video/mp4',
        // GWS sends sizes as strings at times.
        size: i % 2 === 0 ? 1000 + i : String(1000 + i),
        tenant: i % 5 === 0 ? 'Tenant_B' : 'Environment',
        parameters: { agentId: `${4160000000 + (i % 7)}`, username: `${agent}@example.com`, ani: `555${String(i).padStart(7, '0')}`, dnis: '4165550100' },
      });
    }
    out.push({ id: `rec${String(i).padStart(6, '0')}`, startTime: gwsTime(startMs), stopTime: gwsTime(startMs + 60_000 + (i % 600) * 1000), mediaFiles: files });
  }
  return out;
}

export function toNdjson(recordings: readonly object[]): string {
  return recordings.map((r) => JSON.stringify(r)).join('\n') + '\n';
}
