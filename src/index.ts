// The public library surface of the `margay` package.
export { UserError, BugError, isUserError, formatProblem, fieldPath } from './errors/index.js';
export type { Problem } from './errors/index.js';
