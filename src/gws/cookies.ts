// GWS ties a session to JSESSIONID (SPEC §4): sending it back spares the server a
// fresh Basic-auth login per page. A small jar is enough: name=value per host and
// path, dropped when the server expires it. Domain widening and Secure/HttpOnly
// flags do not matter for one client talking to one host.

interface StoredCookie {
  value: string;
  path: string;
  /** Epoch ms; undefined = session cookie. */
  expires?: number;
}

export class CookieJar {
  readonly #byHost = new Map<string, Map<string, StoredCookie>>();

  /** Stores the Set-Cookie headers of a response to `url`. */
  store(url: URL, setCookie: string | string[] | undefined, now = Date.now()): void {
    if (setCookie === undefined) return;
    for (const header of Array.isArray(setCookie) ? setCookie : [setCookie]) this.#storeOne(url, header, now);
  }

  /** The Cookie header value for a request to `url`, or undefined when none apply. */
  header(url: URL, now = Date.now()): string | undefined {
    const cookies = this.#byHost.get(url.host);
    if (!cookies) return undefined;
    const pairs: string[] = [];
    for (const [name, cookie] of cookies) {
      if (cookie.expires !== undefined && cookie.expires <= now) {
        cookies.delete(name);
        continue;
      }
      if (pathMatches(url.pathname, cookie.path)) pairs.push(`${name}=${cookie.value}`);
    }
    return pairs.length > 0 ? pairs.join('; ') : undefined;
  }

  #storeOne(url: URL, header: string, now: number): void {
    const [pair = '', ...attributes] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    let path = defaultPath(url.pathname);
    let maxAgeExpires: number | undefined;
    let dateExpires: number | undefined;
    // Attributes only: the name=value pair is not looked at here, so a value that
    // happens to read "max-age" or "expires" changes nothing.
    for (const attribute of attributes) {
      const [key = '', ...rest] = attribute.split('=');
      const attrValue = rest.join('=').trim();
      switch (key.trim().toLowerCase()) {
        case 'path':
          if (attrValue.startsWith('/')) path = attrValue;
          break;
        case 'max-age': {
          // RFC 6265 §5.2.2: an optional "-" and digits, else the attribute is ignored.
          if (/^-?\d+$/.test(attrValue)) maxAgeExpires = now + Number(attrValue) * 1000;
          break;
        }
        case 'expires': {
          const date = Date.parse(attrValue);
          if (!Number.isNaN(date)) dateExpires = date;
          break;
        }
      }
    }
    // Max-Age wins over Expires, whichever comes first (RFC 6265 §5.3 step 3).
    const expires = maxAgeExpires ?? dateExpires;
    let cookies = this.#byHost.get(url.host);
    if (!cookies) this.#byHost.set(url.host, (cookies = new Map()));
    if (expires !== undefined && expires <= now) cookies.delete(name);
    else cookies.set(name, { value, path, expires });
  }
}

function defaultPath(pathname: string): string {
  const slash = pathname.lastIndexOf('/');
  return slash <= 0 ? '/' : pathname.slice(0, slash);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}
