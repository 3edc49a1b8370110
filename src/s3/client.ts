// The one S3Client of a run (SPEC §3): region, endpoint and path style from the
// S3 location, credentials from the run's credentials or else the SDK's default
// chain (profiles, SSO, web identity, instance roles), requests through the
// awsProxyHost/awsProxyPort CONNECT proxy when set, else through HTTPS_PROXY /
// HTTP_PROXY unless NO_PROXY names the host, TLS trusting caFile and AWS_CA_BUNDLE
// on top of Node's roots (src/net/trust.ts), and keep-alive sockets sized
// to the number of concurrent transfers. The SDK's own retries are off
// (maxAttempts 1): src/s3/transfer.ts retries and resumes with the policy of
// src/retry.ts, so there is one retry budget and a resumed Range request instead
// of a re-download from zero.

import http from 'node:http';
import https from 'node:https';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { GetObjectCommand, S3Client } from './sdk.js';
import type { RcbsConfig, Credentials } from '../config/types.js';
import { RcbsError } from '../errors.js';
import { bareHostname, bypassesProxy, envProxy, noProxyOf, proxyAuthorization, routeMessage } from '../net/env-proxy.js';
import type { Logger } from '../log.js';
import { trustedContext } from '../net/trust.js';
import { TunnellingHttpAgent, TunnellingHttpsAgent, type ProxyAddress, type ProxyRoute } from './proxy.js';
import type { S3Location } from './location.js';

export interface S3ClientOptions {
  /** Transfers in flight at once; the socket pool is sized to it. */
  concurrency: number;
  /** A socket idle this long (no header, no body byte) fails the attempt, which is then resumed. */
  socketTimeoutMs?: number;
  connectionTimeoutMs?: number;
  /** Says once which proxy the environment chose. */
  log?: Logger;
}

export const DEFAULT_SOCKET_TIMEOUT_MS = 60_000;
const DEFAULT_CONNECTION_TIMEOUT_MS = 15_000;

/** awsProxyHost/awsProxyPort for every host; else the environment's proxy for the scheme unless NO_PROXY names the host. */
function proxyRoute(config: Readonly<RcbsConfig>, env: NodeJS.ProcessEnv, protocol: 'http:' | 'https:', log?: Logger): ProxyRoute | undefined {
  if (config.awsProxyHost) {
    const proxy: ProxyAddress = { host: config.awsProxyHost, port: config.awsProxyPort ?? 8080 };
    return () => proxy;
  }
  const found = envProxy(protocol, env);
  if (!found) return undefined;
  const noProxy = noProxyOf(env);
  const authorization = proxyAuthorization(found.url);
  const proxy: ProxyAddress = {
    host: bareHostname(found.url.hostname),
    port: Number(found.url.port) || 80,
    setting: `${found.variable} (${found.shown}) and NO_PROXY`,
    ...(authorization ? { authorization } : {}),
  };
  const said = new Set<string>();
  return (host, port) => {
    const bypass = bypassesProxy(host, port, noProxy);
    // Once per host, so an operator sees which way S3 went and why.
    if (!said.has(`${host}:${port}`)) {
      said.add(`${host}:${port}`);
      log?.info(routeMessage('S3', `${host}:${port}`, bypass ? undefined : found));
    }
    return bypass ? undefined : proxy;
  };
}

function agents(config: Readonly<RcbsConfig>, env: NodeJS.ProcessEnv, concurrency: number, log?: Logger): { httpAgent: http.Agent; httpsAgent: https.Agent } {
  // A spare socket per pool so a transfer that is being torn down does not block the next one.
  const agentOptions = { keepAlive: true, maxSockets: concurrency + 1, maxFreeSockets: concurrency + 1 };
  const secureContext = trustedContext(config.caFile, env, 's3');
  const httpsOptions = { ...agentOptions, ...(secureContext ? { secureContext } : {}) };
  const httpRoute = proxyRoute(config, env, 'http:', log);
  const httpsRoute = proxyRoute(config, env, 'https:', log);
  return {
    httpAgent: httpRoute ? new TunnellingHttpAgent(httpRoute, agentOptions) : new http.Agent(agentOptions),
    // Always rcbs's agent: it labels a refused certificate with the host it came from.
    httpsAgent: new TunnellingHttpsAgent(httpsRoute ?? (() => undefined), httpsOptions),
  };
}

/** Static credentials when the run has them; otherwise undefined, which selects the SDK's default chain. */
function staticCredentials(credentials: Readonly<Credentials>): S3ClientConfig['credentials'] {
  const { awsAccessKeyId, awsSecretAccessKey, awsSessionToken } = credentials;
  if (!awsAccessKeyId && !awsSecretAccessKey) return undefined;
  if (!awsAccessKeyId || !awsSecretAccessKey) {
    throw new RcbsError('RCBS_S3_CREDENTIALS',
      `only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set; set both, or neither to use the AWS profile chain`);
  }
  return { accessKeyId: awsAccessKeyId, secretAccessKey: awsSecretAccessKey, ...(awsSessionToken ? { sessionToken: awsSessionToken } : {}) };
}

export function createS3Client(
  config: Readonly<RcbsConfig>,
  credentials: Readonly<Credentials>,
  location: S3Location,
  options: S3ClientOptions,
  env: NodeJS.ProcessEnv = process.env,
): S3Client {
  const client = new S3Client({
    region: location.region,
    ...(location.endpoint ? { endpoint: location.endpoint } : {}),
    forcePathStyle: config.s3ForcePathStyle ?? false,
    credentials: staticCredentials(credentials),
    maxAttempts: 1,
    // rcbs checks every file itself (Content-Length, the object's checksum or ETag MD5:
    // src/s3/object-check.ts) across resumed Range requests, which the SDK's
    // whole-object validation cannot cover. WHEN_SUPPORTED would make the SDK (3.1175)
    // set ChecksumMode and hash every body a second time in pure JS, failing with a
    // plain Error at the body's end; transfer.ts asks for the checksums by header instead.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      ...agents(config, env, options.concurrency, options.log),
      connectionTimeout: options.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
      socketTimeout: options.socketTimeoutMs ?? DEFAULT_SOCKET_TIMEOUT_MS,
    },
  });
  applyPayloadSigning(client, config.usePayloadSigning);
  return client;
}

/**
 * usePayloadSigning (the guide: "whether payload signing is used during the file
 * transfer"). SigV4 signs a hash of the request body; with signing off the body is
 * declared UNSIGNED-PAYLOAD and never hashed, which is what makes it faster.
 * Honestly: rcbs only downloads, and a GET has no body (its payload hash is that of
 * the empty string either way), so today this changes nothing on the wire. It is
 * kept so the setting means the same as in the original tool should rcbs ever
 * upload (the sandbox seeding its S3, for instance).
 */
function applyPayloadSigning(client: S3Client, usePayloadSigning: boolean): void {
  if (usePayloadSigning) return; // SDK default: bodies it can hash are signed.
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      if (request.headers && request.body !== undefined && request.body !== null && request.body !== '') {
        request.headers['x-amz-content-sha256'] ??= 'UNSIGNED-PAYLOAD';
      }
      return next(args);
    },
    { step: 'build', name: 'rcbsPayloadSigning' },
  );
}

/** Thrown inside the warm-up request where the network would start; never leaves warmUp. */
class StoppedBeforeTheNetwork extends Error {
  constructor() {
    super('warm-up request stopped before the network');
  }
}

/**
 * Gets a client ready for a run's first transfers while the first GWS pages are on their
 * way, instead of after they came: runs one GetObject for `bucket`/`key` through the
 * client's whole middleware (endpoint rules, serialising, SigV4 signing with its derived
 * key) and stops it where the request would be sent. Nothing goes on the wire: no
 * connection, no request. That first pass costs lazily loaded modules and cold code
 * (BENCHMARKS.md). True when the request got that far; false when the middleware failed
 * (the real transfers then meet and report that failure).
 */
export async function warmUp(client: S3Client, bucket: string, key: string): Promise<boolean> {
  const command = new GetObjectCommand({ Bucket: bucket, Key: key });
  // A turn of the event loop before each step, so the warm-up, which is CPU only, lets
  // the run's own I/O through (its GWS requests go out as their connections come up).
  for (const step of ['initialize', 'serialize', 'build', 'finalizeRequest'] as const) {
    command.middlewareStack.add(
      (next) => async (args) => {
        await new Promise((resolve) => setImmediate(resolve));
        return next(args);
      },
      // (One overload per step: the union of steps matches none of them.)
      { step, priority: 'high', name: `rcbsWarmUpYield-${step}` } as { step: 'initialize'; priority: 'high'; name: string },
    );
  }
  command.middlewareStack.add(
    () => async () => {
      throw new StoppedBeforeTheNetwork();
    },
    // The innermost place: after signing (finalizeRequest) and the deserializer.
    { step: 'deserialize', priority: 'low', name: 'rcbsWarmUpStop' },
  );
  try {
    await client.send(command);
  } catch (err) {
    return err instanceof StoppedBeforeTheNetwork;
  }
  return false;
}

/**
 * Resolves the credentials once before any transfer, so "no credentials at all"
 * is one clear config error (exit 2) instead of a failure per media file.
 */
export async function checkCredentials(client: S3Client): Promise<void> {
  try {
    const identity = await client.config.credentials();
    if (!identity?.accessKeyId) throw new Error('empty identity');
  } catch (err) {
    throw new RcbsError('RCBS_S3_CREDENTIALS',
      'no AWS credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a profile in ~/.aws, or run with an instance/task role (metadataOnly=true needs none)',
      { reason: err instanceof Error ? err.message : String(err) },
      { cause: err });
  }
}

/**
 * The run's client for its bucket, following the region S3 names for it (SPEC §5): a
 * bucket in another region than configured answers 301 PermanentRedirect with
 * x-amz-bucket-region, or 400 AuthorizationHeaderMalformed naming the region only in
 * its body (the SDK's followRegionRedirects handles the first form only). The first
 * transfer that meets it switches every later one to a client for that region; the
 * operator gets one info line, not one per file.
 */
export class BucketClient {
  #current: S3Client;
  #region: string;
  readonly #byRegion = new Map<string, S3Client>();

  constructor(
    private readonly create: (region: string) => S3Client,
    region: string,
    private readonly onFollow: (from: string, to: string) => void,
  ) {
    this.#region = region;
    this.#current = create(region);
    this.#byRegion.set(region, this.#current);
  }

  get client(): S3Client {
    return this.#current;
  }

  get region(): string {
    return this.#region;
  }

  /** The client for `region`, which becomes the one every later transfer uses. */
  follow(region: string): S3Client {
    if (region === this.#region) return this.#current;
    let client = this.#byRegion.get(region);
    if (!client) {
      client = this.create(region);
      this.#byRegion.set(region, client);
      this.onFollow(this.#region, region);
    }
    this.#region = region;
    this.#current = client;
    return client;
  }
}
