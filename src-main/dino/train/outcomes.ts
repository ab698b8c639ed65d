/**
 * Training choices for people: what a run is for, not how it is built. Each outcome maps, per kind of
 * backend, to an engineering preset (presets.ts) and a step budget; a backend kind added later (a GPU
 * through WebGPU, say) adds a column here and nothing else changes. The budgets are steps, not epochs,
 * because what a run learns was measured per step (src-main/dino/README.md: cpu-patch8 is clearly
 * above random init after 1200 steps on caltech10, and its 1800-2500-step schedules end a little higher).
 */
export type Outcome = 'quick' | 'thorough' | 'finetune';
export type BackendKind = 'cpu' | 'gpu';

export interface OutcomeRecipe {
  outcome: Outcome;
  title: string;
  description: string;
  preset: string;
  /** optimizer steps the run aims at; null: the preset's own epochs */
  steps: number | null;
  /** starts from pretrained weights (official ViT-S/16 unless the user names others) */
  fromWeights: boolean;
}

type Column = { preset: string; steps: number | null };

const TABLE: Record<Outcome, { title: string; description: string; fromWeights: boolean } & Record<BackendKind, Column>> = {
  quick: {
    title: 'Quick look',
    description: 'A small model trained from scratch on your photos: enough to see first groups. Works offline.',
    fromWeights: false,
    cpu: { preset: 'cpu-patch8', steps: 1200 },
    gpu: { preset: 'gpu-tiny', steps: 2000 },
  },
  thorough: {
    title: 'Thorough',
    description: 'The same from scratch, three times longer (on a GPU, the official ViT-S/16 recipe): better groups, still offline.',
    fromWeights: false,
    cpu: { preset: 'cpu-patch8', steps: 3600 },
    gpu: { preset: 'gpu-small', steps: null },
  },
  finetune: {
    title: 'Fine-tune official weights',
    description:
      'Start from DINO ViT-S/16 (trained on ImageNet by its authors) and adapt it to your photos; the better of the start and the result is kept.',
    fromWeights: true,
    cpu: { preset: 'finetune-cpu', steps: null },
    gpu: { preset: 'finetune-gpu', steps: null },
  },
};

export const OUTCOMES: readonly Outcome[] = ['quick', 'thorough', 'finetune'];

export function outcomeRecipe(outcome: Outcome, kind: BackendKind): OutcomeRecipe {
  const row = TABLE[outcome];
  return { outcome, title: row.title, description: row.description, fromWeights: row.fromWeights, ...row[kind] };
}

/** The epochs that give a recipe its step budget on `numImages` photos (the loader drops a last partial batch). */
export function outcomeEpochs(recipe: OutcomeRecipe, presetEpochs: number, numImages: number, batchSize: number): number {
  if (recipe.steps === null) return presetEpochs;
  const perEpoch = Math.max(1, Math.floor(numImages / batchSize));
  return Math.max(1, Math.round(recipe.steps / perEpoch));
}
