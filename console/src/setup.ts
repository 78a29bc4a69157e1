// Runs before anything else: the policy core validates with zod, whose JIT probes `new Function`;
// the console's Content-Security-Policy forbids eval, so the probe would log a violation.
import { config } from 'zod';

config({ jitless: true });
