/** meterveil's native random module (firmware/platform/moddable/native/random.js and .c). */
declare module 'meterveil/random' {
  /** `length` bytes from the hardware generator (ESP32) or getrandom(2) (lin); throws rather than degrade. */
  export default function randomBytes(length: number): Uint8Array;
}
