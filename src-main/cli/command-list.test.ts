import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from './command-list';

describe('the command list', () => {
  it('names every file in ./commands, each under the name its command answers to', async () => {
    const files = readdirSync(new URL('./commands', import.meta.url))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    expect(Object.keys(COMMANDS).sort()).toEqual(files);
    for (const [name, load] of Object.entries(COMMANDS)) expect((await load()).command.name).toBe(name);
  });
});
