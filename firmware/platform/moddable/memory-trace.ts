/**
 * The lin simulator's memory figures, for checking the meter against a device's XS heap
 * (manifests/lin-nodemcu): in a build with instrumentation (`mcconfig -i`), every
 * `memoryTraceSeconds` (mc/config; 0 or absent: off) collects garbage and traces the live chunk
 * bytes and slots, and the largest seen so far. A collection runs between turns, so this is the
 * live heap the meter keeps; what one turn needs on top of it (an r^n) shows as the fixed heap
 * being enough or not: XS aborts with "memory full" when a chunk does not fit.
 */
import Debug from 'debug';
import Instrumentation from 'instrumentation';
import config from 'mc/config';
import Timer from 'timer';

/** sizeof(txSlot) on a 64-bit host; the ESP32's is 16. */
const LIN_SLOT_BYTES = 32;

export function traceMemory(): void {
  const every = Number(config.memoryTraceSeconds);
  if (!(every > 0)) return;
  const chunks = Instrumentation.map('XS Chunk Heap Used');
  const slots = Instrumentation.map('XS Slot Heap Used');
  if (Instrumentation.get(chunks) === undefined) {
    trace('memory: no instrumentation in this build (mcconfig -i)\n');
    return;
  }
  let peakChunks = 0;
  let peakSlots = 0;
  Timer.repeat(() => {
    Debug.gc();
    const chunkBytes = Instrumentation.get(chunks) as number;
    const slotCount = (Instrumentation.get(slots) as number) / LIN_SLOT_BYTES;
    peakChunks = Math.max(peakChunks, chunkBytes);
    peakSlots = Math.max(peakSlots, slotCount);
    trace(`memory: live chunks ${chunkBytes} B (peak ${peakChunks}), live slots ${slotCount} (peak ${peakSlots})\n`);
  }, every * 1000);
}
