/*
 * Native half of "meterveil/random" (random.js): fills an ArrayBuffer from the platform's
 * cryptographic generator, or throws; it never falls back to a weaker source.
 */
#include "xsmc.h"
#include "xsHost.h"

#if ESP32
	#include "esp_random.h"
#elif defined(__linux__)
	#include <errno.h>
	#include <sys/random.h>
#else
	#error "meterveil/random: no cryptographic generator known for this platform"
#endif

void xs_meterveil_random_fill(xsMachine *the)
{
	void *data;
	xsUnsignedValue size;

	xsmcGetBufferWritable(xsArg(0), &data, &size);
#if ESP32
	esp_fill_random(data, size);
#else
	uint8_t *bytes = data;
	xsUnsignedValue done = 0;
	while (done < size) {
		ssize_t got = getrandom(bytes + done, size - done, 0);
		if (got < 0) {
			if (EINTR == errno)
				continue;
			xsUnknownError("getrandom failed");
		}
		done += (xsUnsignedValue)got;
	}
#endif
}
