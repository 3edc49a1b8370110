// Pins "validated once, then frozen" (STYLE.md, fastify) for component options: after
// resolvePipeline checks them, they are frozen all the way down (the decrypt sink's
// `keys` array too), with the same deepFreeze the config uses (src/config/freeze.ts),
// so no component can change what was checked.

import t from 'tap';
import { resolvePipeline } from '../src/pipeline/loader.js';
import { configWith } from '../src/config/defaults.js';

t.test('component options are deep-frozen after their check', async (t) => {
  const steps = await resolvePipeline(
    {
      path: 'inline.json',
      file: {
        name: 'inline',
        description: 'decrypt sink with two keys',
        source: { use: 'backup-dir' },
        sinks: [{ use: 'decrypt', with: { keys: ['a.pem', 'b.pem'] } }],
      },
    },
    configWith({ targetDir: '/data/backup' }),
    {},
  );
  const decrypt = steps.find((s) => s.component.name === 'decrypt')!;
  t.ok(Object.isFrozen(decrypt.options), 'the options object');
  t.ok(Object.isFrozen(decrypt.options.keys), 'the keys array inside it');
  t.throws(() => (decrypt.options.keys as string[]).push('c.pem'), TypeError);
});
