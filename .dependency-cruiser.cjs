// The layers of the tree, checked by `npm run deps` (part of `npm test`). Each rule says why it
// exists; a violation fails the run. Type-only imports count too: they couple layers all the same.
const ROLES = '(aggregator|provider|custodian|feeder|broker)';
/** Plain ES5 put in front of the Espruino bundle: its require() calls are Espruino's own modules (Storage, MQTT...). */
const ESPRUINO_PRELUDE = '^firmware/platform/espruino/prelude\\.js$';

module.exports = {
  forbidden: [
    {
      name: 'firmware-is-portable',
      comment:
        'firmware/ is the portable core that runs on the meter (XS on the ESP32) and that the host may import: ' +
        'it uses no Node API and nothing of host/, tools/ or test/. The only packages it may use are the ' +
        '@noble ones, which are pure ECMAScript and bundled for XS (manifests/bundle.ts).',
      severity: 'error',
      from: { path: '^firmware/', pathNot: ['^firmware/platform/moddable/', ESPRUINO_PRELUDE] },
      to: { pathNot: ['^firmware/', '^node_modules/@noble/(hashes|ed25519)/'] },
    },
    {
      name: 'moddable-adapter-uses-the-sdk-only',
      comment:
        'The Moddable adapter may also import the Moddable SDK modules (timer, preference, mqtt, embedded:*...), ' +
        'which only the Moddable build resolves (manifests/, typed by manifests/types/): here they do not resolve, ' +
        'except `mqtt` and `debug`, which Node resolution mistakes for the npm packages of those names. Anything else that ' +
        'resolves outside firmware/ would not exist on the meter.',
      severity: 'error',
      from: { path: '^firmware/platform/moddable/' },
      to: { couldNotResolve: false, pathNot: ['^firmware/', '^node_modules/@noble/(hashes|ed25519)/', '^node_modules/(mqtt|debug)/'] },
    },
    {
      name: 'no-unresolvable-import',
      comment:
        'An import that does not resolve is a typo or a missing package (the SDK modules of the Moddable adapter aside, ' +
        'and the Espruino modules the Espruino prelude requires by name, which only a board has).',
      severity: 'error',
      from: { pathNot: ['^firmware/platform/moddable/', ESPRUINO_PRELUDE] },
      to: { couldNotResolve: true },
    },
    {
      name: 'product-imports-no-tools-or-tests',
      comment:
        'What `npm start`, the CLI and the meter run must not depend on benchmarks, generators or tests: ' +
        'an install without dev dependencies has to run, and a test helper must never change the product.',
      severity: 'error',
      from: { path: '^(firmware|host|bin)/' },
      to: { path: '^(tools|test)/' },
    },
    {
      name: 'tools-import-no-tests',
      comment: 'The benchmark and generators are not tests: what both need lives under tools/ (tools/pipeline/), which tests may import.',
      severity: 'error',
      from: { path: '^tools/' },
      to: { path: '^test/' },
    },
    {
      name: 'roles-are-independent',
      comment:
        'The aggregator, provider, custodian, feeder and broker are separate parties (a custodian is ' +
        'independent of the provider it checks) and each runs on its own: what two roles share ' +
        '(the decryption policy, the aggregate codec and hash, the threshold decryption messages, the MQTT ' +
        'connection) lives in a shared module (host/policy/, host/protocol/, host/decryption/, host/mqtt/).',
      severity: 'error',
      from: { path: `^host/${ROLES}/` },
      to: { path: `^host/${ROLES}/`, pathNot: '^host/$1/' },
    },
    {
      name: 'shared-modules-import-no-role',
      comment:
        'Config, protocol, policy and the libraries are what roles build on; importing a role from them would ' +
        'bring that role into every other one.',
      severity: 'error',
      from: { path: '^host/(config|protocol|policy|decryption|mqtt|reasons|threshold|paillier|keys|store|xs|metrics|net|log)/' },
      to: { path: `^host/${ROLES}/` },
    },
    {
      name: 'runtime-needs-no-dev-dependency',
      comment:
        '`npm ci --omit=dev` must give a working `meterveil start` and `simulate`. Type-only imports vanish at ' +
        'run time. (The XS engine, @agoric/xsnap, is run as a binary by host/xs/harness.ts, not imported: ' +
        'package.json keeps it among the dependencies.)',
      severity: 'error',
      from: { path: '^(firmware|host|bin)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'packages-are-declared',
      comment:
        'A package used but not in package.json works only by accident of what else is installed. (The Moddable ' +
        'adapter’s SDK module `debug` resolves to an npm package here; the rule above holds the adapter.)',
      severity: 'error',
      from: { pathNot: '^firmware/platform/moddable/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'no-circular',
      comment: 'There are no import cycles; a cycle would blur which module is built on which.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    // The code imports `.ts` files by name (allowImportingTsExtensions); tsconfig.json tells the
    // resolver so.
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    // Packages are reported as node_modules/<name> even when node_modules is a symbolic link.
    preserveSymlinks: true,
    // Packages such as aedes and tsx are found through their `exports` conditions.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
