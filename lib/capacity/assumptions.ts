// The capacity model's assumptions that are not prices: DynamoDB's per-partition limits, how a
// hot item behaves under concurrent transactions, the service latencies that make up a Lambda's
// billed duration, the rate that time-based costs are spread over, and the KMS request model.
// Each one is a judgement, stated here once so the report can be argued with line by line.

/** DynamoDB serves at most this many write units per second on one partition key (one item). */
export const PARTITION_WCU_PER_SECOND = 1_000;
/** ... and this many read units per second (strongly consistent reads cost 1 per 4 KB). */
export const PARTITION_RCU_PER_SECOND = 3_000;

/**
 * The conservative ceiling. DynamoDB does not queue transactions on an item: while one
 * TransactWriteItems holds an item (prepare to commit) another that touches it is cancelled with
 * TransactionConflict and must be retried. Model: an item completes at most
 * ITEM_TRANSACTIONS_PER_SECOND transactions one after the other (the design brief's "about 500
 * transactional writes/s", i.e. each holds the item ~2 ms); transactions arrive at random
 * (Poisson), so one finds the item held with probability rho = rate / ITEM_TRANSACTIONS_PER_SECOND.
 * We call an item saturated once CONFLICT_SHARE_MAX of the attempts on it conflict: at 0.5 every
 * transfer takes two attempts on average and the store's 7 attempts fail about 1 in 128 times, so
 * messages start going back to SQS. Per item that is 0.5 x 500 = 250 transactions/s.
 */
export const ITEM_TRANSACTIONS_PER_SECOND = 500;
export const CONFLICT_SHARE_MAX = 0.5;

/**
 * Time-based costs (the hourly window close and settlement, the 5-minute recovery sweep, KMS
 * data-key refreshes) are spread over the transfers of this steady rate: the design brief's
 * target throughput.
 */
export const REFERENCE_TRANSFERS_PER_SECOND = 1_000;

/**
 * Typical in-region latency of one request as seen from a Lambda function (ms, p50-ish). Not
 * measured here: the in-memory services answer in microseconds. A handler's billed duration is its
 * measured in-process CPU time plus these latencies along its critical path (requests it makes
 * concurrently overlap; requests it makes one after another add up).
 */
export const SERVICE_LATENCY_MS: Readonly<Record<string, number>> = {
  'DynamoDB GetItem': 4,
  'DynamoDB BatchGetItem': 6,
  'DynamoDB Query': 6,
  'DynamoDB Scan': 10,
  'DynamoDB PutItem': 6,
  'DynamoDB UpdateItem': 6,
  'DynamoDB DeleteItem': 6,
  'DynamoDB BatchWriteItem': 10,
  'DynamoDB TransactWriteItems': 15,
  'DynamoDB TransactGetItems': 10,
  'SNS Publish': 20,
  'SQS SendMessage': 10,
  'SQS SendMessageBatch': 12,
};
export const DEFAULT_SERVICE_LATENCY_MS = 10;

/**
 * KMS: SQS and SNS reuse a data key for KmsDataKeyReusePeriodSeconds (300 s by default) per
 * principal and resource, and DynamoDB caches a table key for a few minutes per caller; so the
 * stack makes about one KMS request per (principal, encrypted resource) pair per 5 minutes, not
 * one per message. Pairs are counted from contract/topology.ts (each handler's tables, topics and
 * queues, plus SNS delivering into each queue), times this many concurrent execution environments
 * per function, each caching its own keys (a deliberately high figure for 1,000 transfers/s).
 */
export const KMS_DATA_KEY_REUSE_SECONDS = 300;
export const KMS_ENVIRONMENTS_PER_FUNCTION = 20;

/** Operations notifications (HIGH and CRITICAL alerts) go to this many e-mail subscribers. */
export const OPS_EMAIL_SUBSCRIBERS = 1;
