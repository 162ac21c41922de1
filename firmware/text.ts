/**
 * UTF-8 through the web's TextEncoder and TextDecoder, one instance per call: a module-level
 * instance would be made while the module loads, and on Moddable the firmware bundle is
 * preloaded (evaluated when the SDK links the firmware, kept in flash), where no host
 * constructor can run.
 */
export function utf8Encode(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function utf8Decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
