// The console's pure model (graph grouping and layout, the policy board and impact preview, YAML
// field lines), for tests and benches in the root build. The app itself is console/src.
export * from './src/lib/graph-model.js';
export * from './src/lib/cluster.js';
export * from './src/lib/yaml-fields.js';
