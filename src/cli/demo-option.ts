// `margay up --demo [auto|live|recorded]`: registered on the `up` command from here (as the audit
// options are), passed to up() through setExtraUpOptions. The demo itself is src/demo.
import type { Command } from 'commander';
import { UserError } from '../errors/index.js';

export function registerDemoOption(program: Command): void {
  program.commands
    .find((c) => c.name() === 'up')
    ?.option('--demo [mode]', 'run the demo: a live lab with traffic when root and nftables allow (auto), else recorded flows; or force live|recorded')
    .hook('preAction', async (cmd) => {
      const v = cmd.opts<{ demo?: string | boolean }>().demo;
      if (v === undefined || v === false) return;
      const mode = v === true ? 'auto' : v;
      if (mode !== 'auto' && mode !== 'live' && mode !== 'recorded') throw new UserError({ path: '--demo', message: `expected auto, live or recorded, got ${JSON.stringify(mode)}` });
      (await import('./up.js')).setExtraUpOptions({ demo: mode });
    });
}
