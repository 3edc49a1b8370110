// The streaming CMS decrypt: a Transform from EnvelopedData (DER, BER with
// indefinite lengths, PEM or S/MIME) to the plaintext. The small header
// (version, recipients, algorithm) is collected as it arrives; when the
// encrypted content starts the key is unwrapped and the ciphertext streams
// through createDecipheriv, so memory stays flat whatever the file size.
// The last block's padding is checked at the very end: a consumer must keep
// nothing until the stream has finished without error (see file.ts).

import { createDecipheriv, type Decipher } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { RcbsError, toRcbsError } from '../errors.js';
import { CONTEXT, TAG, TreeBuilder, UNIVERSAL, readOid, type Asn1Node } from './asn1.js';
import { OID, readContentAlgorithm, type ContentCipher } from './algorithms.js';
import { ArmorDecoder } from './armor.js';
import { BerReader, malformed, type BerEvents, type BerHeader } from './ber.js';
import type { Identity } from './keys.js';
import { describeRecipients, openRecipients, readRecipients, type Recipients } from './recipients.js';

type Role = 'contentInfo' | 'explicitContent' | 'envelopedData' | 'encryptedContentInfo' | 'chunks' | 'content';

interface Frame {
  role: Role;
  children: number;
}

const describe = (h: BerHeader) => `${['universal', 'application', 'context', 'private'][h.cls]} tag ${h.tag}${h.constructed ? ' (constructed)' : ''}`;

/** Walks the EnvelopedData structure from reader events and decrypts its content. */
class EnvelopedDataReader implements BerEvents {
  private readonly frames: Frame[] = [];
  private collector: { tree: TreeBuilder; done: (node: Asn1Node) => void } | undefined;
  private skipDepth = -1;
  private started = false;
  private version: Asn1Node | undefined;
  private recipients: Recipients | undefined;
  private algorithm: Asn1Node | undefined;
  private decipher: Decipher | undefined;
  private cipher: ContentCipher | undefined;
  private ciphertextBytes = 0;
  complete = false;

  constructor(
    private readonly identities: readonly Identity[],
    private readonly output: (plain: Buffer) => void,
  ) {}

  start(h: BerHeader): void {
    if (this.collector) return this.collector.tree.start(h);
    if (this.skipDepth >= 0) {
      this.skipDepth++;
      return;
    }
    const parent = this.frames.at(-1);
    const index = parent ? parent.children++ : 0;
    const isUniversal = (tag: number) => h.cls === UNIVERSAL && h.tag === tag;
    if (!parent) {
      if (this.started || !isUniversal(TAG.SEQUENCE) || !h.constructed) throw malformed('not CMS: the input does not start with a ContentInfo SEQUENCE');
      this.started = true;
      return this.push('contentInfo');
    }
    switch (parent.role) {
      case 'contentInfo':
        if (index === 0 && isUniversal(TAG.OID)) return this.collect(h, (node) => this.checkContentType(node));
        if (index === 1 && h.cls === CONTEXT && h.tag === 0 && h.constructed) return this.push('explicitContent');
        break;
      case 'explicitContent':
        if (index === 0 && isUniversal(TAG.SEQUENCE)) return this.push('envelopedData');
        break;
      case 'envelopedData':
        if (index === 0 && isUniversal(TAG.INTEGER)) return this.collect(h, (node) => (this.version = node));
        if (h.cls === CONTEXT && (h.tag === 0 || h.tag === 1)) return this.skip(); // originatorInfo, unprotectedAttrs
        if (isUniversal(TAG.SET) && !this.recipients) return this.collect(h, (node) => (this.recipients = readRecipients(node)));
        if (isUniversal(TAG.SEQUENCE) && this.recipients) return this.push('encryptedContentInfo');
        break;
      case 'encryptedContentInfo':
        if (index === 0 && isUniversal(TAG.OID)) return this.skipCollect(h);
        if (index === 1 && isUniversal(TAG.SEQUENCE)) return this.collect(h, (node) => (this.algorithm = node));
        if (index === 2 && h.cls === CONTEXT && h.tag === 0) {
          this.beginContent();
          return this.push(h.constructed ? 'chunks' : 'content');
        }
        break;
      case 'chunks':
        if (h.cls === UNIVERSAL && h.tag === TAG.OCTET_STRING) return this.push(h.constructed ? 'chunks' : 'content');
        break;
      case 'content':
        break;
    }
    throw malformed(`unexpected ${describe(h)} in the ${parent.role} of the CMS structure`);
  }

  data(chunk: Buffer): void {
    if (this.collector) return this.collector.tree.data(chunk);
    if (this.skipDepth >= 0) return;
    // Only 'content' frames are primitive and neither collected nor skipped.
    this.ciphertextBytes += chunk.length;
    const plain = this.decipher!.update(chunk);
    if (plain.length > 0) this.output(plain);
  }

  end(): void {
    if (this.collector) {
      const { tree, done } = this.collector;
      tree.end();
      if (tree.done) {
        this.collector = undefined;
        done(tree.root!);
      }
      return;
    }
    if (this.skipDepth >= 0) {
      this.skipDepth--;
      return;
    }
    const frame = this.frames.pop()!;
    if (frame.role === 'encryptedContentInfo' && !this.decipher) {
      throw new RcbsError('RCBS_DECRYPT_UNSUPPORTED', 'the EnvelopedData has no encrypted content (detached content): rcbs needs the content in the file');
    }
    if (frame.role === 'contentInfo') this.complete = true;
  }

  /** The padding check: the content is good only if this passes. */
  finish(): void {
    if (!this.complete || !this.decipher || !this.cipher) throw malformed('the input ends before the CMS structure does: the file is truncated');
    if (this.ciphertextBytes === 0 || this.ciphertextBytes % this.cipher.blockSize !== 0) {
      throw malformed(`the encrypted content is ${this.ciphertextBytes} bytes, not a whole number of ${this.cipher.name} blocks: the file is truncated or corrupt`);
    }
    let tail: Buffer;
    try {
      tail = this.decipher.final();
    } catch {
      throw new RcbsError(
        'RCBS_DECRYPT_WRONG_KEY',
        `the content did not decrypt (bad ${this.cipher.name} padding): the key unwrapped is not this file's key, or the file is corrupt. Recipients present: ${describeRecipients(this.recipients!)}`,
        { recipients: describeRecipients(this.recipients!) },
      );
    }
    if (tail.length > 0) this.output(tail);
  }

  private push(role: Role): void {
    this.frames.push({ role, children: 0 });
  }

  private collect(h: BerHeader, done: (node: Asn1Node) => void): void {
    this.collector = { tree: new TreeBuilder(), done };
    this.collector.tree.start(h);
  }

  private skipCollect(h: BerHeader): void {
    this.collect(h, () => {});
  }

  private skip(): void {
    this.skipDepth = 0;
  }

  private checkContentType(node: Asn1Node): void {
    const oid = readOid(node, 'contentType');
    if (oid !== OID.envelopedData) {
      throw malformed(`the CMS content type is ${oid}, not EnvelopedData (${OID.envelopedData}): this is not an encrypted file`, { oid });
    }
  }

  private beginContent(): void {
    if (!this.version || !this.recipients || !this.algorithm) throw malformed('the encrypted content comes before the recipients and algorithm');
    const { cipher, iv } = readContentAlgorithm(this.algorithm);
    const key = openRecipients(this.recipients, this.identities, cipher.keyLength);
    this.cipher = cipher;
    this.decipher = createDecipheriv(cipher.name, key, iv);
  }
}

/** Feeds input to the right front end: BER directly, or PEM / S/MIME through base64. */
class InputForm {
  private sink: ((chunk: Buffer) => void) | undefined;
  private armor: ArmorDecoder | undefined;
  private sawInput = false;
  readonly reader: BerReader;

  constructor(events: BerEvents) {
    this.reader = new BerReader(events);
  }

  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.sawInput = true;
    if (!this.sink) {
      if (chunk[0] === 0x30) this.sink = (c) => this.reader.write(c);
      else {
        const armor = (this.armor = new ArmorDecoder((bytes) => this.reader.write(bytes)));
        this.sink = (c) => armor.write(c);
      }
    }
    this.sink(chunk);
  }

  end(): void {
    if (!this.sawInput) throw malformed('the input is empty: not a CMS file');
    this.armor?.end();
    this.reader.finish();
  }
}

export interface DecryptStreamOptions {
  identities: readonly Identity[];
}

/** A Transform from CMS EnvelopedData to plaintext; errors are RcbsError (RCBS_DECRYPT_*). */
export function createDecryptStream(options: DecryptStreamOptions): Transform {
  let envelope: EnvelopedDataReader;
  let input: InputForm;
  return new Transform({
    construct(callback) {
      envelope = new EnvelopedDataReader(options.identities, (plain) => this.push(plain));
      input = new InputForm(envelope);
      callback();
    },
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        input.write(chunk);
        callback();
      } catch (err) {
        callback(toRcbsError(err, 'RCBS_DECRYPT_MALFORMED'));
      }
    },
    flush(callback: TransformCallback) {
      try {
        input.end();
        envelope.finish();
        callback();
      } catch (err) {
        callback(toRcbsError(err, 'RCBS_DECRYPT_MALFORMED'));
      }
    },
  });
}
