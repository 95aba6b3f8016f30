// The one price table of the capacity model: published on-demand list prices, us-east-1, in USD.
// Nothing else in lib/capacity holds a price. Free tiers are ignored (a payments backbone at scale
// is far beyond them), and so are CloudWatch (logs, EMF metrics, alarms) and data transfer.
//
// Taken 2026-11 from the issue that asked for this model, which quotes these AWS pricing pages:
//   https://aws.amazon.com/api-gateway/pricing/   https://aws.amazon.com/lambda/pricing/
//   https://aws.amazon.com/sqs/pricing/           https://aws.amazon.com/sns/pricing/
//   https://aws.amazon.com/dynamodb/pricing/on-demand/   https://aws.amazon.com/kms/pricing/
// The DynamoDB on-demand prices are those in effect since the 2024-11-01 cut (-50 % on throughput).
// Lines the issue did not give (SNS FIFO deliveries, SNS standard publishes and e-mail, SQS
// standard) are the same pages' figures as known to the author, not re-checked: check them before
// quoting the model; next to the lines above they are rounding errors. Nothing is fetched at run time.

export const PRICES_AS_OF = '2026-11 (DynamoDB on-demand after the 2024-11 price cut)';
export const PRICES_REGION = 'us-east-1';

export const PRICES = {
  apiGateway: {
    /** REST API, per million requests (first 333 million a month). api-gateway/pricing */
    restPerMillionRequests: 3.5,
  },
  lambda: {
    /** Per million invocations, any architecture. lambda/pricing */
    perMillionRequests: 0.2,
    /** arm64 (Graviton), per GB-second, first 7.5 billion GB-s a month. lambda/pricing */
    arm64PerGbSecond: 0.0000133334,
  },
  sqs: {
    /** FIFO queues, per million requests; every 64 KB chunk of a payload is one request. sqs/pricing */
    fifoPerMillionRequests: 0.5,
    /** Standard queues (none on the money path; kept for completeness). sqs/pricing */
    standardPerMillionRequests: 0.4,
    requestChunkBytes: 64 * 1024,
  },
  sns: {
    /** FIFO topics: publish (and publish-batch) requests, per million, per 64 KB chunk. sns/pricing */
    fifoPublishPerMillion: 0.3,
    /** FIFO topics: payload data published, per GB. sns/pricing */
    fifoPublishPayloadPerGb: 0.017,
    /** FIFO topics: subscription messages delivered to SQS FIFO, per million. sns/pricing (see the note above) */
    fifoDeliveryPerMillion: 0.01,
    /** FIFO topics: payload data delivered, per GB. sns/pricing (see the note above) */
    fifoDeliveryPayloadPerGb: 0.001,
    /** Standard topics (the operations notifications), per million publishes. sns/pricing */
    standardPublishPerMillion: 0.5,
    /** E-mail notifications from a standard topic, per 100,000. sns/pricing */
    emailPer100k: 2.0,
    publishChunkBytes: 64 * 1024,
  },
  dynamodb: {
    /** On-demand write request units, per million (after the Nov-2024 cut). dynamodb/pricing/on-demand */
    perMillionWriteRequestUnits: 0.625,
    /** On-demand read request units, per million (after the Nov-2024 cut). dynamodb/pricing/on-demand */
    perMillionReadRequestUnits: 0.125,
  },
  kms: {
    /** Symmetric key API requests, per 10,000. kms/pricing */
    per10kRequests: 0.03,
  },
} as const;
