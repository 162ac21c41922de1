/*
 * Cryptographically secure random bytes for the meter: the ESP32's hardware generator
 * (esp_fill_random; entropic while Wi-Fi or Bluetooth is on, which is always the case once the
 * meter reports), or getrandom(2) on Linux (the `lin` simulator). Not the SDK's `rng` module and
 * not Math.random: both are seeded once from c_rand and are not fit for Paillier's r.
 */
function fill(buffer) @ "xs_meterveil_random_fill";

export default function randomBytes(length) {
	const bytes = new Uint8Array(length);
	fill(bytes.buffer);
	return bytes;
}
