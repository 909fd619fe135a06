/**
 * The service's counters in the Prometheus text format (version 0.0.4), formatted by hand: outcomes of
 * verifications by reason, a request latency histogram, locks, refused admin tokens and the group commits.
 * Label values come from fixed sets (reasons, route patterns), so the series count is bounded.
 */
import type { StoreStats } from '../host/store.ts';

/** Upper bounds of the latency histogram's buckets, in seconds (Prometheus's convention). */
export const latencyBucketsSeconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;
/** Distinct label sets per counter at most; further ones are counted under `other` (bounds memory). */
export const labelSetsMax = 64;

class Counter {
  readonly #values = new Map<string, number>();
  inc(labels: string, by = 1): void {
    const key = this.#values.has(labels) || this.#values.size < labelSetsMax ? labels : 'other="true"';
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }
  lines(name: string): string[] {
    return [...this.#values].map(([labels, value]) => `${name}{${labels}} ${value}`);
  }
}

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class Metrics {
  readonly #verifications = new Counter();
  readonly #requests = new Counter();
  readonly #bucketCounts = new Array<number>(latencyBucketsSeconds.length).fill(0);
  #latencyCount = 0;
  #latencySumSeconds = 0;
  #locks = 0;
  #adminRefusals = 0;
  readonly #unavailable = new Counter();

  /** A verification's outcome: `ok`, or the refusal's reason (`wrong response`, `expired`, …). */
  verification(purpose: string, reason: string | null): void {
    this.#verifications.inc(`purpose="${label(purpose)}",outcome="${reason === null ? 'ok' : 'refused'}",reason="${label(reason ?? 'ok')}"`);
  }

  /** A verification that locked its device. */
  lock(): void {
    this.#locks++;
  }

  /** A request answered 503 without being run: `busy` (a bound was full, or a transaction ran out of time) or `shutting down`. */
  unavailable(reason: string): void {
    this.#unavailable.inc(`reason="${label(reason)}"`);
  }

  adminRefused(): void {
    this.#adminRefusals++;
  }

  request(route: string, status: number, seconds: number): void {
    this.#requests.inc(`route="${label(route)}",status="${status}"`);
    this.#latencyCount++;
    this.#latencySumSeconds += seconds;
    for (let i = 0; i < latencyBucketsSeconds.length; i++) if (seconds <= latencyBucketsSeconds[i]!) this.#bucketCounts[i]!++;
  }

  render(commits: StoreStats | undefined): string {
    const out: string[] = [
      '# HELP dsc_verifications_total Verifications by purpose, outcome and reason.',
      '# TYPE dsc_verifications_total counter',
      ...this.#verifications.lines('dsc_verifications_total'),
      '# HELP dsc_device_locks_total Verifications that locked their device.',
      '# TYPE dsc_device_locks_total counter',
      `dsc_device_locks_total ${this.#locks}`,
      '# HELP dsc_admin_auth_failures_total Admin calls refused for a missing or wrong token.',
      '# TYPE dsc_admin_auth_failures_total counter',
      `dsc_admin_auth_failures_total ${this.#adminRefusals}`,
      '# HELP dsc_unavailable_total Requests answered 503 with Retry-After, nothing written: busy (a bound full, a transaction out of time) or shutting down.',
      '# TYPE dsc_unavailable_total counter',
      ...this.#unavailable.lines('dsc_unavailable_total'),
      '# HELP dsc_http_requests_total Requests by route and status.',
      '# TYPE dsc_http_requests_total counter',
      ...this.#requests.lines('dsc_http_requests_total'),
      '# HELP dsc_http_request_duration_seconds Time from request to reply.',
      '# TYPE dsc_http_request_duration_seconds histogram',
      ...latencyBucketsSeconds.map((le, i) => `dsc_http_request_duration_seconds_bucket{le="${le}"} ${this.#bucketCounts[i]}`),
      `dsc_http_request_duration_seconds_bucket{le="+Inf"} ${this.#latencyCount}`,
      `dsc_http_request_duration_seconds_sum ${this.#latencySumSeconds}`,
      `dsc_http_request_duration_seconds_count ${this.#latencyCount}`,
    ];
    if (commits) {
      out.push(
        '# HELP dsc_commits_total Store transactions committed by the group commit (one fsync each when durable).',
        '# TYPE dsc_commits_total counter',
        `dsc_commits_total ${commits.commits}`,
        '# HELP dsc_committed_calls_total Verifier calls carried by those transactions.',
        '# TYPE dsc_committed_calls_total counter',
        `dsc_committed_calls_total ${commits.calls}`,
        '# HELP dsc_commit_queue_calls Calls waiting for the next commit.',
        '# TYPE dsc_commit_queue_calls gauge',
        `dsc_commit_queue_calls ${commits.queued}`,
      );
      if (commits.retries !== undefined) {
        out.push(
          '# HELP dsc_store_retries_total Transactions run again after a serialization failure or deadlock (PostgreSQL).',
          '# TYPE dsc_store_retries_total counter',
          `dsc_store_retries_total ${commits.retries}`,
        );
      }
    }
    return `${out.join('\n')}\n`;
  }
}
