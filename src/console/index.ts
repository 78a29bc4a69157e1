// The console's server side: the built web app at /console/, mounted by `margay up` as an API
// extension. The app reads everything else through the public APIs (flows, audit, resources).
import type { ApiExtension } from '../api/index.js';
import { mountConsole, CONSOLE_DIST } from './static.js';

export { CONSOLE_DIST, mountConsole } from './static.js';

export function consoleExtension(o: { dist?: string } = {}): ApiExtension {
  return (app) => mountConsole(app, o.dist ?? CONSOLE_DIST);
}
