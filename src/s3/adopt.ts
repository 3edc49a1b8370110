// Adoption (SPEC §5): a media file already at its final path with no index entry (a
// targetDir filled by the original tool, or an index lost) is taken into the index
// without downloading it, when it verifies against the object: one HEAD (size, ETag,
// and the full-object checksum asked for with x-amz-checksum-mode), then a local digest
// by the strongest method the object offers (object-check.ts). A file of the right size
// with other bytes is not adopted; neither is one whose object offers nothing stronger
// than its size (an SSE-KMS object without a checksum): both are downloaded again, so
// a switch from the original tool never trusts a file it cannot prove.
//
// The HEAD is the only extra round trip, and only for files found without an index
// entry (SPEC §8): the normal path stays one GET per object.

import { stat } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { HeadObjectCommand } from './sdk.js';
import { digestFile, offeredCheck, type CheckMethod } from './object-check.js';
import type { ObjectRef } from './failure.js';

export type Adoption =
  | { adopted: true; bytes: number; md5: string; etag?: string; verifiedBy: CheckMethod; checksum?: string }
  | { adopted: false; reason: string };

/** Whether `file` is the object `ref`, proved by what the object offers. Never throws for
 * an answer S3 gives: a HEAD that fails means "not adopted", and the download that
 * follows meets (and reports) the real problem. */
export async function adoptIfSame(client: S3Client, ref: ObjectRef, file: string, signal?: AbortSignal): Promise<Adoption> {
  const local = await stat(file).catch(() => undefined);
  if (!local?.isFile()) return { adopted: false, reason: 'no file at the final path' };
  let head;
  try {
    head = await client.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key, ChecksumMode: 'ENABLED' }), signal ? { abortSignal: signal } : {});
  } catch (err) {
    if (signal?.aborted) throw err;
    return { adopted: false, reason: `HEAD failed (${(err as Error).name})` };
  }
  if (head.ContentLength !== local.size) return { adopted: false, reason: `size ${local.size} on disk, ${head.ContentLength} in S3` };
  const check = offeredCheck(head);
  if (check.method === 'size') return { adopted: false, reason: 'the object offers no checksum and no MD5 ETag to prove the bytes by' };

  // One pass over the file: the MD5 the index keeps, and the object's checksum if it has one.
  const digests = await digestFile(file, check.method, signal);
  const actual = digests.checksum ?? digests.md5;
  if (actual !== check.expected) return { adopted: false, reason: `the bytes on disk differ from the object (${check.method})` };
  return {
    adopted: true,
    bytes: local.size,
    md5: digests.md5,
    ...(head.ETag !== undefined ? { etag: head.ETag } : {}),
    verifiedBy: check.method,
    ...(digests.checksum !== undefined ? { checksum: digests.checksum } : {}),
  };
}
