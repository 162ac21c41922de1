/**
 * The portable firmware encodes and decodes UTF-8 with the web's TextEncoder and TextDecoder
 * globals; the Moddable SDK provides them only as modules. Imported first by each entry so the
 * globals exist before any firmware module evaluates.
 */
import TextDecoder from 'text/decoder';
import TextEncoder from 'text/encoder';

Object.assign(globalThis, { TextEncoder, TextDecoder });
