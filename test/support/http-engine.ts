/**
 * The HTTP engine the gateway suites run against: `MCPR_TEST_HTTP_ENGINE=uws|node` (CI runs the suites
 * once per engine, see .ci/run), else `auto` as a user gets it. A forced engine that cannot run here
 * fails the suites with the gateway's own error; nothing is skipped.
 */
export const TEST_HTTP_ENGINE = (process.env.MCPR_TEST_HTTP_ENGINE ?? 'auto') as 'auto' | 'uws' | 'node';
