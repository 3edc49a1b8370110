// Where the encrypted media live: GET {gwsUriPrefix}{gwsSettingsUri} → settings.s3
// (SPEC §4). The config extensions s3Bucket / s3Region / s3Endpoint override each
// field (SPEC §3) for deployments whose settings API does not say, or says wrong.

import { RcbsError } from '../errors.js';
import type { RunContext } from '../pipeline/types.js';
import { createGwsClient, displayUrl, runGwsClient, type GwsClient, type GwsClientOptions } from './client.js';

export interface S3Settings {
  bucket: string;
  region: string;
  keyPrefix: string;
  endpoint?: string;
}

/** S3 regions are required by the SDK; an S3-compatible endpoint ignores it. */
const ENDPOINT_REGION = 'us-east-1';

/** Asks GWS for the S3 location and applies the config's overrides: on the run's GWS
 * client (runGwsClient), or on one of its own when `clientOptions` change the client. */
export async function fetchS3Settings(context: RunContext, clientOptions: Partial<GwsClientOptions> = {}): Promise<S3Settings> {
  if (Object.keys(clientOptions).length === 0) return s3SettingsFrom(runGwsClient(context), context);
  const client = createGwsClient(context, clientOptions);
  try {
    return await s3SettingsFrom(client, context);
  } finally {
    await client.close();
  }
}

export async function s3SettingsFrom(client: GwsClient, context: RunContext): Promise<S3Settings> {
  const { config } = context;
  const url = client.url(config.gwsSettingsUri);
  let s3: Record<string, unknown> = {};
  try {
    const document = await client.json(url);
    const settings = document.settings as { s3?: unknown } | undefined;
    if (settings && typeof settings === 'object' && settings.s3 && typeof settings.s3 === 'object') {
      s3 = settings.s3 as Record<string, unknown>;
    } else if (!config.s3Bucket) {
      context.log.warn('GWS settings have no "settings.s3" object', { url: displayUrl(url) });
    }
  } catch (err) {
    // A settings API that does not exist is fine when the config names the bucket.
    const notFound =
      err instanceof RcbsError &&
      ((err.code === 'RCBS_GWS_HTTP' && err.details.status === 404) || (err.code === 'RCBS_GWS_STATUS' && err.details.statusCode === 6));
    if (!(notFound && config.s3Bucket)) throw err;
    context.log.warn('GWS has no settings at gwsSettingsUri; using s3Bucket/s3Region/s3Endpoint from the config', { url: displayUrl(url) });
  }

  const bucket = config.s3Bucket ?? stringField(s3.bucket);
  const endpoint = config.s3Endpoint ?? stringField(s3.endpoint);
  const region = config.s3Region ?? stringField(s3.region) ?? (endpoint ? ENDPOINT_REGION : undefined);
  const keyPrefix = stringField(s3.keyPrefix) ?? '';
  if (!bucket) {
    throw new RcbsError(
      'RCBS_CONFIG_INVALID',
      `GWS settings at ${displayUrl(url)} name no S3 bucket (settings.s3.bucket) and s3Bucket is not set: set s3Bucket in config.properties, or check gwsSettingsUri.`,
      { key: 's3Bucket', url: displayUrl(url) },
    );
  }
  if (!region) {
    throw new RcbsError(
      'RCBS_CONFIG_INVALID',
      `GWS settings at ${displayUrl(url)} name no S3 region (settings.s3.region) and s3Region is not set: set s3Region in config.properties.`,
      { key: 's3Region', url: displayUrl(url) },
    );
  }
  return endpoint ? { bucket, region, keyPrefix, endpoint } : { bucket, region, keyPrefix };
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
