// Transform `shard`: with N instances sharing the load (SPEC §3), each keeps only
// the recordings whose key hashes to its own id, so together they fetch every
// recording exactly once. The hash is FNV-1a 32-bit (src/shard-hash.ts, with
// test vectors); the instance comes from rcbsInstanceId/totalRcbsInstances or the
// engine's environment (src/config/instance.ts). No instance set: all pass.
//
// The key is the recording id (SPEC §3: hash(recording id) mod total == id), so all
// media of a recording stay together. Option `followCall: true` hashes a screen
// recording on its `callRecordingId` instead, so one instance holds the whole
// interaction (call audio and its screens); it is off by default because SPEC
// names the recording id, and every instance of one deployment must agree on it.

import { resolveInstance } from '../config/instance.js';
import { recordingId } from '../recording.js';
import { shardOf } from '../shard-hash.js';
import { keepWhere } from '../pipeline/streams.js';
import { defineComponent, type Recording } from '../pipeline/types.js';

interface Options {
  /** Hash a screen recording on its callRecordingId (default false). */
  followCall?: boolean;
}

/** The string an instance is chosen by (see the header). A recording without any id
 * hashes as "" so exactly one instance sees it (and validate reports it once). */
export function shardKey(recording: Recording, followCall = false): string {
  const call = recording.callRecordingId;
  if (followCall && typeof call === 'string' && call.length > 0) return call;
  return recordingId(recording) ?? '';
}

export default defineComponent<Options>({
  kind: 'transform',
  name: 'shard',
  description: 'Keeps the recordings this instance owns: FNV-1a(recording id) mod totalRcbsInstances == rcbsInstanceId.',
  options: {
    type: 'object',
    properties: {
      followCall: { type: 'boolean', description: 'hash screen recordings on their callRecordingId so they stay with their call (default false: SPEC hashes the recording id)' },
    },
    additionalProperties: false,
  },
  create(options, context, self) {
    // Throws RCBS_CONFIG_INVALID when half set or id >= total: never a silent "keep all".
    const instance = resolveInstance(context.config, context.env);
    if (instance === undefined) {
      context.log.debug('shard: no instance id set, keeping every recording');
      return (records) => records;
    }
    const { id, total } = instance;
    const followCall = options.followCall ?? false;
    context.log.info(`shard: this is instance ${id} of ${total} (from ${instance.source}); keeping recordings with FNV-1a(id) mod ${total} == ${id}`);

    return (records) =>
      keepWhere(records, (record) => {
        const owner = shardOf(shardKey(record.recording, followCall), total);
        if (owner === id) return true;
        // Another instance's recording: not an error, not a failure.
        self.drop(record, { kind: 'filtered', message: `recording of instance ${owner}` });
        return false;
      });
  },
});
