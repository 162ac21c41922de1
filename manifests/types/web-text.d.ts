/**
 * The TextEncoder and TextDecoder globals the portable firmware uses: on Moddable they are the
 * SDK's text/encoder and text/decoder modules, installed by firmware/platform/moddable/web-text.ts.
 */
declare var TextEncoder: typeof import('text/encoder').default;
declare var TextDecoder: typeof import('text/decoder').default;
