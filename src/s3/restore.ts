// restoreArchivedDays (extension, SPEC §5): an object S3 holds in an archive tier
// answers 403 InvalidObjectState until restored. rcbs then asks S3 for a temporary
// copy (RestoreObject, Bulk tier: the cheapest, ready within 48 hours for Glacier
// Flexible Retrieval and Deep Archive) for N days; the next run downloads it. The
// Intelligent-Tiering archive tiers take no Days (the object moves back to a frequent
// tier), so none is sent for them.

import type { S3Client } from '@aws-sdk/client-s3';
import { RestoreObjectCommand } from './sdk.js';
import { objectUrl, type ObjectRef } from './failure.js';

export type RestoreOutcome = 'restore requested' | 'restore already in progress';

export async function requestRestore(client: S3Client, ref: ObjectRef, days: number, storageClass: string | undefined, signal?: AbortSignal): Promise<RestoreOutcome> {
  const intelligentTiering = storageClass?.toUpperCase() === 'INTELLIGENT_TIERING';
  try {
    await client.send(new RestoreObjectCommand({
      Bucket: ref.bucket,
      Key: ref.key,
      RestoreRequest: intelligentTiering ? {} : { Days: days, GlacierJobParameters: { Tier: 'Bulk' } },
    }), { abortSignal: signal });
    return 'restore requested';
  } catch (err) {
    // 409: a restore asked for earlier (by rcbs or someone else) is still running.
    if ((err as { name?: string }).name === 'RestoreAlreadyInProgress') return 'restore already in progress';
    throw Object.assign(new Error(`asking S3 to restore ${objectUrl(ref)} failed: ${(err as Error).message}`), { cause: err });
  }
}
