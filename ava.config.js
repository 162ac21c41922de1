// Files that spend minutes waiting in real time (an aggregator held down for five minutes) start
// first, so they wait while the CPU-bound files run beside them instead of after them.
const startFirst = ['test/pipeline/outage.test.ts'];
const rank = (file) => {
  const i = startFirst.findIndex((f) => file.endsWith(f));
  return i === -1 ? startFirst.length : i;
};

export default {
  files: ['test/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  timeout: '1m',
  concurrency: 4,
  workerThreads: false,
  sortTestFiles: (a, b) => rank(a) - rank(b) || a.localeCompare(b),
};
