/**
 * The hyperparameters the training form offers, by their config names (the same names `train --set`
 * and the run's stored config use), grouped as the paper presents them. The server checks the values.
 */
export interface HyperField {
  key: string;
  label: string;
  hint: string;
  int?: boolean;
}

export const HYPER_GROUPS: { title: string; fields: HyperField[] }[] = [
  {
    title: 'Optimisation',
    fields: [
      { key: 'lr', label: 'Base lr', hint: 'learning rate for a batch of 256; the run uses lr × batch / 256' },
      { key: 'minLr', label: 'Final lr', hint: 'where the cosine schedule ends' },
      { key: 'warmupEpochs', label: 'Warm-up epochs', hint: 'linear lr warm-up', int: true },
      { key: 'batchSize', label: 'Batch', hint: 'photos per optimizer step', int: true },
      { key: 'accumSteps', label: 'Micro-batches', hint: 'split each batch to save memory; must divide the batch', int: true },
      { key: 'weightDecay', label: 'Weight decay', hint: 'start of the cosine schedule' },
      { key: 'weightDecayEnd', label: 'Final weight decay', hint: 'end of the cosine schedule' },
      { key: 'clipGrad', label: 'Gradient clip', hint: 'per-parameter norm; 0 turns clipping off' },
    ],
  },
  {
    title: 'Teacher and loss',
    fields: [
      { key: 'momentumTeacher', label: 'Teacher momentum', hint: 'EMA start value; rises to 1 on a cosine' },
      { key: 'teacherTemp', label: 'Teacher temperature', hint: 'sharpening: lower is sharper' },
      { key: 'warmupTeacherTemp', label: 'Warm-up teacher temp.', hint: 'teacher temperature at step 0' },
      { key: 'warmupTeacherTempEpochs', label: 'Teacher temp. epochs', hint: 'epochs of the teacher temperature warm-up', int: true },
      { key: 'studentTemp', label: 'Student temperature', hint: '' },
      { key: 'centerMomentum', label: 'Centre momentum', hint: 'EMA of the centre subtracted from teacher outputs' },
      { key: 'outDim', label: 'Prototypes (K)', hint: 'head output size', int: true },
      { key: 'freezeLastLayer', label: 'Frozen last layer', hint: 'epochs the head’s last layer stays fixed', int: true },
      { key: 'freezeBlocks', label: 'Frozen blocks', hint: 'fine-tuning: the first N blocks stay as loaded', int: true },
    ],
  },
  {
    title: 'Multi-crop',
    fields: [
      { key: 'globalSize', label: 'Global crop px', hint: '2 global crops', int: true },
      { key: 'localSize', label: 'Local crop px', hint: '', int: true },
      { key: 'nLocal', label: 'Local crops', hint: 'per photo', int: true },
      { key: 'globalScaleMin', label: 'Global min scale', hint: 'smallest share of the photo a global crop covers' },
      { key: 'localScaleMax', label: 'Local max scale', hint: 'largest share of the photo a local crop covers' },
      { key: 'colorJitterProb', label: 'Colour jitter p', hint: 'per view; lower keeps colour cues' },
      { key: 'grayscaleProb', label: 'Grayscale p', hint: 'per view' },
      { key: 'blurAmount', label: 'Blur amount', hint: '1 = the paper’s per-view blur, 0 = none' },
      { key: 'solarizeProb', label: 'Solarise p', hint: 'second global view' },
      { key: 'seed', label: 'Seed', hint: 'initialisation and crops', int: true },
    ],
  },
];

/** The typed values that differ from the preset, or the first field that is not a number. */
export function parseOverrides(
  text: Record<string, string>,
  preset: Record<string, number | string | boolean>,
): { overrides: Record<string, number>; invalid: HyperField | null } {
  const overrides: Record<string, number> = {};
  for (const f of HYPER_GROUPS.flatMap((g) => g.fields)) {
    const raw = (text[f.key] ?? '').trim();
    if (raw === '') continue;
    const x = Number(raw);
    if (!Number.isFinite(x) || (f.int && !Number.isInteger(x))) return { overrides: {}, invalid: f };
    if (x !== preset[f.key]) overrides[f.key] = x;
  }
  return { overrides, invalid: null };
}
