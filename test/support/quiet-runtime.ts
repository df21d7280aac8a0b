/** vitest setupFile: keep the Temporal runtime's INFO chatter out of test output. */
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
