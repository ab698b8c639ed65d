import type { Command } from './command';

type CommandModule = Promise<{ command: Command }>;

/**
 * Every CLI command by name, each loaded only when run: a static list so the build emits each as a
 * chunk of its own (a command that trains does not slow `serve` down). A new file in ./commands
 * needs its line here; command-list.test.ts fails until it has one.
 */
export const COMMANDS: Record<string, () => CommandModule> = {
  bench: () => import('./commands/bench'),
  cluster: () => import('./commands/cluster'),
  duplicates: () => import('./commands/duplicates'),
  embed: () => import('./commands/embed'),
  eval: () => import('./commands/eval'),
  export: () => import('./commands/export'),
  'export-training': () => import('./commands/export-training'),
  'export-weights': () => import('./commands/export-weights'),
  features: () => import('./commands/features'),
  import: () => import('./commands/import'),
  models: () => import('./commands/models'),
  outliers: () => import('./commands/outliers'),
  search: () => import('./commands/search'),
  serve: () => import('./commands/serve'),
  status: () => import('./commands/status'),
  train: () => import('./commands/train'),
  'train-eval': () => import('./commands/train-eval'),
};
