// @ts-check
/**
 * The floors of the house (README "Architecture"): each folder may import only from its own floor
 * and the floors below it, and no import circle may form anywhere. `npm run lint` runs this with
 * dependency-cruiser; test/floors.test.ts proves the rules fire on probe files.
 * Type-only imports count too (`tsPreCompilationDeps`): a type that runs up a floor ties the floors
 * together as much as a value does.
 */
const FLOORS = [
  ['contract', ['^src/contract/']],
  ['core', ['^src/core/', '^src/codec/', '^src/temporal/', '^src/nexus/']],
  ['products', ['^src/vcenter/', '^src/sddc-manager/', '^src/vcda/', '^src/nsx-manager/']],
  ['simulator', ['^src/simulator/']],
  ['activities', ['^activities/']],
  ['workflows', ['^workflows/']],
  ['client', ['^src/client/']],
  ['top', ['^src/cli/', '^src/rehearsal/', '^src/index\\.ts$', '^worker/', '^bench/']],
];

const PRODUCTS = ['vcenter', 'sddc-manager', 'vcda', 'nsx-manager'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle: two modules that need each other belong in one, or share a lower one.',
      from: {},
      to: { circular: true },
    },
    ...FLOORS.slice(0, -1).map(([name, paths], i) => ({
      name: `floor-${name}`,
      severity: /** @type {const} */ ('error'),
      comment:
        `The ${name} floor imports only from itself and the floors below it ` +
        `(${
          FLOORS.slice(0, i)
            .map(([n]) => n)
            .join(', ') || 'none'
        }): move the shared code down, or the importer up.`,
      from: { path: paths },
      to: { path: FLOORS.slice(i + 1).flatMap(([, p]) => p) },
    })),
    ...PRODUCTS.map((product) => ({
      name: `product-${product}-alone`,
      severity: /** @type {const} */ ('error'),
      comment: 'A product knows no other product: what two share belongs in the core or contract floor.',
      from: { path: `^src/(simulator/)?${product}[/.]` },
      to: { path: PRODUCTS.filter((p) => p !== product).map((p) => `^src/(simulator/)?${p}[/.]`) },
    })),
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^dist/', '^test/', '^node_modules/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
