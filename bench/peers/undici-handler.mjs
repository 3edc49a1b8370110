// An @aws-sdk/client-s3 request handler on undici, for bench/peers/sdk-floor.mjs
// (SDK_HANDLER=undici, tool "sdk-undici" of bench/backup-vs-peers.sh): the SDK still
// builds, signs and parses each GetObject; only the HTTP transport changes. Bench code
// (GET only, no proxy); a full version for rcbs was measured and not kept (BENCHMARKS.md).
import { Agent, request } from 'undici';

export class UndiciHandler {
  metadata = { handlerProtocol: 'http/1.1' };
  dispatcher = new Agent({ connections: 17, keepAliveTimeout: 30_000 });

  async handle(req, { abortSignal } = {}) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(req.query ?? {})) {
      for (const v of Array.isArray(value) ? value : [value ?? '']) query.append(name, v);
    }
    const url = `${req.protocol}//${req.hostname}${req.port ? `:${req.port}` : ''}${req.path}${query.size ? `?${query}` : ''}`;
    const res = await request(url, { method: req.method, headers: req.headers, body: req.body, dispatcher: this.dispatcher, signal: abortSignal });
    const headers = {};
    for (const [name, value] of Object.entries(res.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    return { response: { statusCode: res.statusCode, headers, body: res.body } };
  }

  updateHttpClientConfig() {}
  httpHandlerConfigs() { return {}; }
  destroy() { void this.dispatcher.destroy(); }
}
