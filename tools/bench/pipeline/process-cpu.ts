/** CPU milliseconds (user + system) a Linux process has used: the product's own reading of /proc. */
export { processCpuMs } from '../../../host/load/process-usage.ts';
