/**
 * The first-run paths (the Library's next step): official weights, official weights then a fine-tune,
 * or training from scratch, as an outcome of the Training panel (services/outcomes.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Outcome, ReachableDTO } from '../../../src-shared/api';
import { countByStatus } from '../../db/repos/images';
import { findOfficial, officialUrl, type OfficialCheckpoint } from '../../dino/weights/official';
import { probeReachable } from '../../dino/weights/reachable';
import type { Catalog } from '../catalog/catalog';
import { backendKind, outcomePlan } from './outcome-plans';
import type { TrainOptions } from './training-run';

/** The official weights the app recommends: DINO ViT-S/16 (ImageNet k-NN 74.5 %, 82 MB). */
export const RECOMMENDED_WEIGHTS = 'dino_vits16';

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

/** Whether an official checkpoint is in the models folder, and how much of an interrupted download is. */
export function officialFileState(modelsDir: string, c: OfficialCheckpoint): { size: number | null; downloaded: boolean; partialBytes: number } {
  const file = join(modelsDir, c.file);
  const part = `${file}.part`;
  return { size: c.size ?? null, downloaded: existsSync(file), partialBytes: existsSync(part) ? statSync(part).size : 0 };
}

/** Asks the download host of an official checkpoint whether it answers (a few seconds at most). */
export async function officialReachable(name = RECOMMENDED_WEIGHTS): Promise<ReachableDTO> {
  const c = findOfficial(name);
  if (!c) throw new Error(`unknown official checkpoint "${name}"`);
  const r = await probeReachable(officialUrl(c), { timeoutMs: 4000 });
  return { reachable: r.reachable, host: r.host, reason: r.reason };
}
