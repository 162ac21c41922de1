/** The SDK's native digests ($(MODULES)/crypt/digest), which ship no typings; the part meterveil uses. */
declare module 'crypt' {
  export class Digest {
    constructor(type: 'MD5' | 'SHA1' | 'SHA224' | 'SHA256' | 'SHA384' | 'SHA512');
    write(data: ArrayBuffer | string): void;
    close(): ArrayBuffer;
    reset(): void;
    readonly blockSize: number;
    readonly outputSize: number;
  }
}
