// Text forms of CMS: PEM (`-----BEGIN CMS-----`, `PKCS7`) and S/MIME
// (`openssl smime -encrypt`: MIME headers, a blank line, base64). Decoded line by
// line as it arrives, so a large PEM file streams like DER does.

import { malformed } from './ber.js';

const BASE64_LINE = /^[A-Za-z0-9+/=]*$/;
const MAX_LINE = 1 << 20;

export class ArmorDecoder {
  private state: 'preamble' | 'body' | 'done' = 'preamble';
  private sawHeader = false;
  private bodyBytes = 0;
  private partial = '';
  /** Base64 characters not yet making a whole 4-character group. */
  private carry = '';
  private readonly emit: (bytes: Buffer) => void;

  constructor(emit: (bytes: Buffer) => void) {
    this.emit = emit;
  }

  write(chunk: Buffer): void {
    let text = this.partial + chunk.toString('latin1');
    let newline = text.indexOf('\n');
    while (newline !== -1 && this.state !== 'done') {
      this.line(text.slice(0, newline).replace(/\r$/, ''));
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    this.partial = this.state === 'done' ? '' : text;
    if (this.partial.length > MAX_LINE) throw malformed('a line of the PEM/S-MIME input is longer than 1 MiB: not a PEM or S/MIME file');
  }

  end(): void {
    if (this.partial) this.line(this.partial.replace(/\r$/, ''));
    this.partial = '';
    if (this.state === 'preamble') throw malformed('the input is neither DER/BER CMS nor PEM or S/MIME: no base64 body found');
    if (this.carry.replace(/=+$/, '').length % 4 === 1) throw malformed('the base64 body ends in the middle of a group: the file is truncated');
    if (this.carry) this.emitBase64(this.carry);
    this.carry = '';
  }

  private emitBase64(chars: string): void {
    const bytes = Buffer.from(chars, 'base64');
    this.bodyBytes += bytes.length;
    if (bytes.length) this.emit(bytes);
  }

  private line(line: string): void {
    if (this.state === 'preamble') {
      if (line.startsWith('-----BEGIN ')) this.state = 'body';
      else if (line === '' && this.sawHeader) this.state = 'body';
      else if (/^[A-Za-z0-9-]+:/.test(line) || (this.sawHeader && /^[ \t]/.test(line))) this.sawHeader = true;
      else if (line !== '') throw malformed('the input is neither DER/BER CMS nor PEM or S/MIME');
      return;
    }
    if (line.startsWith('-----END ')) {
      this.state = 'done';
      return;
    }
    const chars = line.replace(/[ \t]/g, '');
    if (chars === '') {
      if (this.bodyBytes > 0 || this.carry) this.state = 'done'; // the blank line closing a MIME body
      return;
    }
    if (!BASE64_LINE.test(chars)) throw malformed('the PEM/S-MIME body holds characters that are not base64');
    const all = this.carry + chars;
    const whole = all.length - (all.length % 4);
    this.carry = all.slice(whole);
    if (whole > 0) this.emitBase64(all.slice(0, whole));
  }
}
