import { exportModelWeights } from '../../services/models/model-export';
import { intOpt, stringOpt, UsageError, type Command } from '../command';

export const command: Command = {
  name: 'export-weights',
  summary: "write a model's teacher backbone (and head) under the official names, for PyTorch",
  usage: 'export-weights --model ID --format safetensors|pth --out FILE [--with-head]',
  readOnly: true,
  options: { model: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, 'with-head': { type: 'boolean' } },
  async run(ctx) {
    const model = intOpt(ctx, 'model', 1);
    const format = stringOpt(ctx, 'format');
    const out = stringOpt(ctx, 'out');
    if (model === undefined || !out) throw new UsageError('--model and --out are required');
    if (format !== 'safetensors' && format !== 'pth') throw new UsageError('--format must be safetensors or pth');
    return exportModelWeights(ctx.catalog(), model, out, format, Boolean(ctx.values['with-head']));
  },
};
