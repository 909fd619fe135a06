/**
 * What the routes share (the verifier, the store's commit counts, the metrics, the admin check), in a file of
 * its own so that the routes and service/app.ts, which builds it, do not import each other.
 */
import type { LoginHost } from '../host/index.ts';
import type { StoreStats } from '../host/store.ts';
import type { Metrics } from './metrics.ts';

/** What routes share. */
export interface ServiceContext {
  readonly host: LoginHost;
  readonly storeStats: () => StoreStats | undefined;
  readonly metrics: Metrics;
  readonly isAdmin: (authorization: string | undefined) => boolean;
}
