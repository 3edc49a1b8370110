// One way to quarantine a record (SPEC §5), whichever component finds it bad:
// the record goes to .rcbs/quarantine.ndjson with its reason (the store logs it),
// the component reports the drop (so the runner counts it), and the caller drops the record.
// Under --dry-run, or in a pipeline that does not write the backup (export: the
// store is open read-only, without the lock), nothing is written; the record is
// still dropped, counted and reported.

import { recordingId } from '../recording.js';
import type { ComponentEvents, PipelineRecord, Problem, RunContext } from './types.js';

export async function quarantineRecord(context: RunContext, self: ComponentEvents, record: PipelineRecord, problem: Problem): Promise<void> {
  const id = recordingId(record.recording) ?? '(no id)';
  if (context.dryRun) {
    context.log.warn('would quarantine record', { recordingId: id, code: problem.code, reason: problem.message });
  } else {
    const store = await context.store();
    if (store.readOnly) {
      context.log.warn('invalid record dropped; not added to quarantine.ndjson (this pipeline does not write the backup)', { recordingId: id, code: problem.code, reason: problem.message });
    } else {
      await store.quarantine({ reason: problem.message, code: problem.code, recording: record.recording });
    }
  }
  self.drop(record, { kind: 'quarantined', code: problem.code, message: problem.message });
}
