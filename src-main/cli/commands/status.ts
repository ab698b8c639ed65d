import type { StatusDTO } from '../../../src-shared/api';
import { libraryApi } from '../../api/library';
import type { Command } from '../command';

export const command: Command = {
  name: 'status',
  summary: 'what the catalog holds: photos, failures, models, and the compute backend',
  usage: 'status [--catalog DIR] [--json]',
  readOnly: true,
  async run(ctx) {
    // The same handler the app's status bar calls, so the two never disagree.
    const route = libraryApi(ctx.catalog(), { kind: 'cli' })['app:status']!;
    const s = await route.handle({});
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
