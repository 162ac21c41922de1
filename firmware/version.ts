/** The firmware's version, as package.json names the release (test/firmware/meter-status.test.ts keeps them equal). */
export const FIRMWARE_VERSION = '0.1.0';
