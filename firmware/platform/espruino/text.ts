/**
 * UTF-8 for Espruino, which has no TextEncoder or TextDecoder: the bundle build puts this module in
 * place of firmware/text.ts (tools/espruino/build.ts). The meter encodes its checkpoint, which is
 * ASCII JSON; any code point is encoded correctly all the same.
 */
export function utf8Encode(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low < 0xe000) {
        c = 0x10000 + (c - 0xd800) * 0x400 + (low - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  const bytes = new Uint8Array(out.length);
  bytes.set(out, 0);
  return bytes;
}

/** A byte that starts no well-formed sequence decodes as U+FFFD (overlong forms are not refused: the meter reads back what it wrote). */
export function utf8Decode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    const extra = b < 0x80 ? 0 : b >= 0xf0 && b < 0xf5 ? 3 : b >= 0xe0 ? 2 : b >= 0xc2 && b < 0xe0 ? 1 : -1;
    let c = extra === 0 ? b : extra === 1 ? b & 31 : extra === 2 ? b & 15 : b & 7;
    let ok = extra >= 0 && i + extra < bytes.length;
    for (let k = 1; ok && k <= extra; k++) {
      const next = bytes[i + k];
      if ((next & 0xc0) !== 0x80) ok = false;
      else c = c * 64 + (next & 63);
    }
    if (!ok) {
      out += '\ufffd';
      i++;
      continue;
    }
    i += extra + 1;
    if (c < 0x10000) out += String.fromCharCode(c);
    else out += String.fromCharCode(0xd800 + ((c - 0x10000) >> 10), 0xdc00 + ((c - 0x10000) & 1023));
  }
  return out;
}
