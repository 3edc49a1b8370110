// HTTPS_PROXY / HTTP_PROXY / NO_PROXY (SPEC §3), read as curl and the AWS CLI read
// them, for GWS and S3 alike when their *ProxyHost keys are unset. One decision per
// target host, made here for both sides, so a NO_PROXY entry means the same to both.
//
// Why not a library: proxy-from-env (axios, proxy-agent) matches a bare NO_PROXY
// entry `example.com` only exactly, where curl and the AWS CLI also bypass
// `s3.example.com`; undici's EnvHttpProxyAgent matches like curl but is a
// dispatcher, which the S3 side (node:https agents inside the AWS SDK) cannot use,
// and it reads `::1` as host `:` port 1. Neither knows CIDR entries, which curl
// (>= 7.86) and the AWS CLI accept. node:net's BlockList does the address part.
//
// - the target's scheme picks the variable: https → https_proxy, else HTTPS_PROXY;
//   http → http_proxy, else HTTP_PROXY (lower case first, as curl; an https target
//   does not fall back to HTTP_PROXY, as neither curl nor the AWS CLI does);
// - a proxy without scheme is http://; only http:// proxies (CONNECT) are supported;
//   user:password in it is sent as Basic Proxy-Authorization and never printed;
// - NO_PROXY (no_proxy first): `*` alone bypasses every host; each comma- or
//   space-separated entry is a host name matching itself and its subdomains (a
//   leading `.` or `*.` is ignored), an IP address, or a CIDR block, optionally with
//   `:port` (IPv6 in brackets then) to bypass only that port.

import net from 'node:net';
import { RcbsError } from '../errors.js';
import { addSecret } from '../log.js';

export interface EnvProxy {
  /** The proxy as the run uses it (may carry user:password: never print it, print `shown`). */
  url: URL;
  /** host:port, safe to print. */
  shown: string;
  /** The variable it came from, e.g. HTTPS_PROXY. */
  variable: string;
}

interface Target {
  protocol: string;
  hostname: string;
  port?: string | number;
}

function variable(env: NodeJS.ProcessEnv, name: string): { name: string; value: string } | undefined {
  for (const candidate of [name.toLowerCase(), name.toUpperCase()]) {
    const value = env[candidate]?.trim();
    if (value) return { name: candidate, value };
  }
  return undefined;
}

/** The proxy of a *_PROXY value: http:// only, scheme optional, credentials kept but registered as secrets. */
export function parseProxyUrl(value: string, name: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL | undefined;
  try {
    url = new URL(withScheme);
  } catch {
    url = undefined;
  }
  // The value itself may hold a password: the message names the variable only.
  if (!url || !url.hostname) {
    throw new RcbsError('RCBS_CONFIG_INVALID', `${name} is not a proxy URL: expected http://host:port (user:password@ allowed).`, { variable: name });
  }
  if (url.protocol !== 'http:') {
    throw new RcbsError('RCBS_CONFIG_INVALID',
      `${name} uses ${url.protocol}//, but rcbs supports HTTP CONNECT proxies only: give http://host:port.`, { variable: name, protocol: url.protocol });
  }
  addSecret(decoded(url.password));
  return url;
}

/** A URL's user or password as typed (percent-decoding that fails keeps the raw text). */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** host:port of a proxy URL, without credentials. */
export function shownProxy(url: URL): string {
  return `${url.hostname.includes(':') && !url.hostname.startsWith('[') ? `[${url.hostname}]` : url.hostname}:${url.port || 80}`;
}

/** The proxy the environment sets for targets of this scheme, NO_PROXY aside; a malformed one is a config error. */
export function envProxy(protocol: string, env: NodeJS.ProcessEnv): EnvProxy | undefined {
  const found = variable(env, protocol === 'https:' ? 'https_proxy' : 'http_proxy');
  if (!found) return undefined;
  const url = parseProxyUrl(found.value, found.name);
  return { url, shown: shownProxy(url), variable: found.name };
}

/** NO_PROXY (or no_proxy) as set, '' when unset. */
export function noProxyOf(env: NodeJS.ProcessEnv): string {
  return variable(env, 'no_proxy')?.value ?? '';
}

/** The proxy the environment asks for to reach `target`, or undefined to go direct. */
export function envProxyFor(target: Target, env: NodeJS.ProcessEnv): EnvProxy | undefined {
  const proxy = envProxy(target.protocol, env);
  if (!proxy) return undefined;
  const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
  return bypassesProxy(target.hostname, port, noProxyOf(env)) ? undefined : proxy;
}

/** `Basic …` for a proxy URL's user:password, or undefined. */
export function proxyAuthorization(url: URL): string | undefined {
  if (!url.username && !url.password) return undefined;
  return `Basic ${Buffer.from(`${decoded(url.username)}:${decoded(url.password)}`).toString('base64')}`;
}

/** A URL's hostname as sockets take it: an IPv6 address without its brackets. */
export function bareHostname(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1');
}

/** True when NO_PROXY says `hostname:port` is reached directly. */
export function bypassesProxy(hostname: string, port: number, noProxy: string): boolean {
  const host = bareHostname(hostname.toLowerCase()).replace(/\.$/, '');
  const entries = noProxy.toLowerCase().split(/[\s,]+/).filter((e) => e.length > 0);
  if (entries.includes('*')) return true;
  const hostFamily = net.isIP(host);
  for (const raw of entries) {
    const { name, entryPort } = splitPort(raw);
    if (entryPort !== undefined && entryPort !== port) continue;
    if (hostFamily !== 0) {
      if (addressMatches(host, hostFamily, name)) return true;
      continue;
    }
    const domain = name.replace(/^\*?\./, '').replace(/\.$/, '');
    if (domain && (host === domain || host.endsWith(`.${domain}`))) return true;
  }
  return false;
}

function splitPort(entry: string): { name: string; entryPort?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { name: bracketed[1]!, ...(bracketed[2] ? { entryPort: Number(bracketed[2]) } : {}) };
  // A bare IPv6 address (or block) has colons of its own: no port then.
  if (net.isIP(entry.split('/')[0]!) === 6) return { name: entry };
  const withPort = /^(.+):(\d+)$/.exec(entry);
  return withPort ? { name: withPort[1]!, entryPort: Number(withPort[2]) } : { name: entry };
}

function addressMatches(host: string, family: number, entry: string): boolean {
  const [address, bits] = entry.split('/');
  const entryFamily = net.isIP(address!);
  if (entryFamily !== family) return false;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  const list = new net.BlockList();
  try {
    if (bits === undefined) list.addAddress(address!, type);
    else list.addSubnet(address!, Number(bits), type);
  } catch {
    return false; // a malformed block matches nothing, as in curl
  }
  return list.check(host, type);
}

/** The info line saying which way a service went, and why. */
export function routeMessage(service: string, hostPort: string, proxy: EnvProxy | undefined): string {
  return proxy ? `${service} at ${hostPort} is reached through the proxy ${proxy.shown} from ${proxy.variable}` : `${service} at ${hostPort} is reached directly: NO_PROXY names it`;
}
