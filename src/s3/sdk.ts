// The AWS SDK's S3 client, loaded with require(). Imported from ESM, Node first lexes
// the SDK's CommonJS bundle and every module it re-exports to find their named exports
// (cjs-module-lexer): loading src/s3/client.js and transfer.js took 146-147 ms this way
// against 202-213 ms before (BENCHMARKS.md, "Where issue 15 stands" of 16:06). The module
// is the same either way (one CommonJS instance), so the types are the package's own.

import { createRequire } from 'node:module';
import type * as ClientS3 from '@aws-sdk/client-s3';

const require = createRequire(import.meta.url);

export const { S3Client, GetObjectCommand, HeadObjectCommand, RestoreObjectCommand, PutObjectCommand } = require('@aws-sdk/client-s3') as typeof ClientS3;
export type S3Client = ClientS3.S3Client;
export type GetObjectCommand = ClientS3.GetObjectCommand;
export type HeadObjectCommand = ClientS3.HeadObjectCommand;
