/**
 * Free memory for the meter's health status, from the SDK's instrumentation: the system heap's
 * free bytes ("System Free Memory", which the ESP32 port reports; the XS chunk and slot heaps
 * are fixed at creation, so what can run short at run time is the system heap the network stack
 * and TLS draw on). A build or port that does not report it gives undefined, which the status
 * shows as null.
 */
import Instrumentation from 'instrumentation';

export function freeMemoryBytes(): number | undefined {
  const free = Instrumentation.get(Instrumentation.map('System Free Memory'));
  return typeof free === 'number' && free >= 0 ? free : undefined;
}
