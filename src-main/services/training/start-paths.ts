/**
 * The first-run paths (the Library's next step): official weights, official weights then a fine-tune,
 * or training from scratch, as an outcome of the Training panel (outcome-plans.ts).
 */
import type { Outcome } from '../../../src-shared/api';
import { countByStatus } from '../../db/repos/images';
import type { Catalog } from '../catalog/catalog';
import { RECOMMENDED_WEIGHTS } from '../models/official-weights';
import { backendKind, outcomePlan } from './outcome-plans';
import type { TrainOptions } from './training-config';

/** Adds an outcome's preset, epochs and start to training options; what the caller set explicitly wins. */
export async function withOutcome(catalog: Catalog, outcome: Outcome, opts: TrainOptions): Promise<TrainOptions> {
  const plan = outcomePlan(outcome, countByStatus(catalog.db).ok, await backendKind());
  return {
    ...opts,
    preset: opts.preset ?? plan.preset,
    // a fine-tune keeps its preset's epochs (the step budget is for training from scratch)
    epochs: opts.epochs ?? plan.epochs,
    ...(plan.fromWeights ? { from: opts.from ?? RECOMMENDED_WEIGHTS } : {}),
  };
}
