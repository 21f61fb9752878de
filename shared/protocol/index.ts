export * from './schema.ts';
export * from './graph.ts';
export * from './codec.ts';
export * from './history.ts';
export * from './graph-history.ts';
export * from './server-text.ts';
