import type { StatusDTO } from '../../../src-shared/api';
import { appStatus } from '../../services/catalog/app-status';
import type { Command } from '../command';

export const command: Command = {
  name: 'status',
  summary: 'what the catalog holds: photos, failures, models, and the compute backend',
  usage: 'status [--catalog DIR] [--json]',
  readOnly: true,
  async run(ctx) {
    // what the app's status bar shows, so the two never disagree
    const s = await appStatus(ctx.catalog());
    return {
      ...s,
      models: s.models.map((m) => ({ id: m.id, name: m.name, arch: m.arch, source: m.source, patchSize: m.patchSize, dim: m.dim, embedded: m.embedded })),
    };
  },
  human(result) {
    const s = result as StatusDTO;
    const lines = [
      `catalog: ${s.catalog}`,
      `photos: ${s.images} (failed ${s.failed}, gone ${s.gone})`,
      `backend: ${s.backend}`,
      ...s.backendFallbacks.map((f) => `  not used: ${f}`),
      ...(s.backendHint ? [`  ${s.backendHint}`] : []),
      `models: ${s.models.length === 0 ? 'none yet (train one, or add official weights)' : ''}`,
      ...s.models.map((m) => `  ${m.id === s.activeModel ? '*' : ' '} #${m.id} ${m.name} (${m.arch}, ${m.source}, ${m.embedded} embedded)`),
      `version: ${s.version}`,
    ];
    return lines.join('\n');
  },
};
