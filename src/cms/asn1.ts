// Small in-memory ASN.1: a tree built from the streaming reader's events (so
// there is one BER parser), DER encoding, OIDs and names. Used for the small
// parts of a CMS file (recipients, algorithms) and for certificates.

import { BerReader, malformed, type BerEvents, type BerHeader } from './ber.js';

export interface Asn1Node {
  cls: number;
  constructed: boolean;
  tag: number;
  /** Content of a primitive element. */
  value: Buffer;
  children: Asn1Node[];
}

export const UNIVERSAL = 0;
export const CONTEXT = 2;
export const TAG = { INTEGER: 2, BIT_STRING: 3, OCTET_STRING: 4, NULL: 5, OID: 6, SEQUENCE: 16, SET: 17 } as const;

/** Builds a tree from reader events, refusing to hold more than `maxBytes` of content. */
export class TreeBuilder implements BerEvents {
  root: Asn1Node | undefined;
  private readonly stack: Asn1Node[] = [];
  private readonly parts: Buffer[][] = [];
  private bytes = 0;
  private readonly maxBytes: number;

  constructor(maxBytes = 16 << 20) {
    this.maxBytes = maxBytes;
  }

  get done(): boolean {
    return this.root !== undefined && this.stack.length === 0;
  }

  start(h: BerHeader): void {
    const node: Asn1Node = { cls: h.cls, constructed: h.constructed, tag: h.tag, value: EMPTY, children: [] };
    const parent = this.stack.at(-1);
    if (parent) parent.children.push(node);
    else this.root = node;
    this.stack.push(node);
    this.parts.push([]);
  }

  data(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) throw malformed(`a CMS header element is larger than ${this.maxBytes} bytes: not a file rcbs can read`);
    this.parts.at(-1)!.push(Buffer.from(chunk));
  }

  end(): void {
    const node = this.stack.pop()!;
    const parts = this.parts.pop()!;
    if (!node.constructed) node.value = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

const EMPTY = Buffer.alloc(0);

/** Parses one whole BER/DER element held in memory. */
export function parseBer(buf: Buffer): Asn1Node {
  const tree = new TreeBuilder(buf.length + 1);
  const reader = new BerReader(tree);
  reader.write(buf);
  reader.finish();
  return tree.root!;
}

export function is(node: Asn1Node | undefined, cls: number, tag: number): node is Asn1Node {
  return node !== undefined && node.cls === cls && node.tag === tag;
}

/** The bytes of an OCTET STRING, primitive or constructed (BER chunks). */
export function octets(node: Asn1Node): Buffer {
  if (!node.constructed) return node.value;
  return Buffer.concat(node.children.map(octets));
}

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Identifier octets for a low tag number (< 31), all this module writes. */
function identifier(cls: number, constructed: boolean, tag: number): number {
  return (cls << 6) | (constructed ? 0x20 : 0) | tag;
}

/** DER header for content of a known length. */
export function derHeader(cls: number, constructed: boolean, tag: number, length: number): Buffer {
  return Buffer.concat([Buffer.from([identifier(cls, constructed, tag)]), lengthBytes(length)]);
}

export function derElement(cls: number, constructed: boolean, tag: number, content: Buffer): Buffer {
  return Buffer.concat([derHeader(cls, constructed, tag, content.length), content]);
}

export const der = {
  sequence: (...items: Buffer[]) => derElement(UNIVERSAL, true, TAG.SEQUENCE, Buffer.concat(items)),
  /** SET OF in DER order: encodings sorted as octet strings. */
  setOf: (...items: Buffer[]) => derElement(UNIVERSAL, true, TAG.SET, Buffer.concat([...items].sort(Buffer.compare))),
  octetString: (bytes: Buffer) => derElement(UNIVERSAL, false, TAG.OCTET_STRING, bytes),
  integer: (n: number) => derElement(UNIVERSAL, false, TAG.INTEGER, Buffer.from([n])),
  oid: (dotted: string) => derElement(UNIVERSAL, false, TAG.OID, oidToDer(dotted)),
  null: () => Buffer.from([0x05, 0x00]),
  explicit: (tag: number, inner: Buffer) => derElement(CONTEXT, true, tag, inner),
};

/** Re-encodes a node as DER (definite lengths; primitive OCTET STRING chunks kept as parsed). */
export function encodeDer(node: Asn1Node): Buffer {
  if (!node.constructed) return derElement(node.cls, false, node.tag, node.value);
  return derElement(node.cls, true, node.tag, Buffer.concat(node.children.map(encodeDer)));
}

export function oidToString(value: Buffer): string {
  if (value.length === 0) throw malformed('an empty OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let n = 0;
  for (const b of value) {
    n = n * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(n);
      n = 0;
    }
  }
  const first = arcs.shift()!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
}

export function oidToDer(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const values = [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)];
  const out: number[] = [];
  for (const v of values) {
    const bytes = [v & 0x7f];
    for (let rest = Math.floor(v / 128); rest > 0; rest = Math.floor(rest / 128)) bytes.unshift((rest & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return Buffer.from(out);
}

export function readOid(node: Asn1Node | undefined, what: string): string {
  if (!is(node, UNIVERSAL, TAG.OID) || node.constructed) throw malformed(`${what}: expected an OBJECT IDENTIFIER`);
  return oidToString(node.value);
}

const NAME_ATTRIBUTES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.25': 'DC',
};

/** A Name as openssl prints it (`CN=…, O=…`), for messages. */
export function nameToString(name: Asn1Node): string {
  const parts: string[] = [];
  for (const rdn of name.children) {
    for (const atv of rdn.children) {
      const [type, value] = atv.children;
      if (!type || !value) continue;
      const oid = oidToString(type.value);
      const text = value.tag === 30 ? Buffer.from(value.value).swap16().toString('utf16le') : value.value.toString(value.tag === 12 ? 'utf8' : 'latin1');
      parts.push(`${NAME_ATTRIBUTES[oid] ?? oid}=${text}`);
    }
  }
  return parts.join(', ');
}
