// The stable hash that splits recordings across instances (SPEC §3): every
// instance, every run, every machine and any other tool must agree on it, so it
// is written down exactly instead of borrowed from a library that may change.
//
// FNV-1a, 32 bit (http://www.isthe.com/chongo/tech/comp/fnv/), over the UTF-8
// bytes of the key:
//   hash = 0x811c9dc5
//   for each byte b: hash = (hash XOR b) * 0x01000193  (mod 2^32)
// The instance that keeps a key is `hash mod total` (hash as an unsigned 32-bit
// integer). Test vectors: fnv1a32("") = 0x811c9dc5, fnv1a32("a") = 0xe40c292c,
// fnv1a32("foobar") = 0xbf9cf968, and the guide's example recording id
// fnv1a32("011AP643CSAPR4FKQGQE31TAES0001TH") is pinned in test/shard.test.ts.
// In a shell: python3 -c 'h=0x811c9dc5
// for b in "ID".encode(): h=((h^b)*0x01000193)&0xffffffff
// print(h % TOTAL)'

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const utf8 = new TextEncoder();

/** FNV-1a 32-bit of the UTF-8 bytes of `key`, as an unsigned integer. */
export function fnv1a32(key: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of utf8.encode(key)) {
    hash ^= byte;
    // Math.imul keeps the multiplication in 32 bits (a plain * loses precision past 2^53).
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/** The instance (0 … total-1) that handles `key`. */
export function shardOf(key: string, total: number): number {
  return fnv1a32(key) % total;
}
