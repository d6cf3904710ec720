import { randomUUID } from 'node:crypto';
import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { OfflineCloud } from '../cloud.ts';
import { sqsEventsOf } from '../runtime/event-sources.ts';
import type { FaultCounts } from '../runtime/faults.ts';
import { type JsonObject, loadTemplate, type Template } from '../template/template.ts';
import { inParallel, request, seededProduct, sleep, sortedKeys, type TestCloud } from './load-and-faults.ts';

// ------------------------------------------------------------------------------ partner orders, exactly once

/** The template's SQS consumer: its function, queue and the redrive policy's maxReceiveCount. */
export function orderConsumerOf(template: Template = loadTemplate()): {
  functionName: string;
  queue: string;
  maxReceiveCount: number;
} {
  const events = sqsEventsOf(template);
  const [event] = events;
  if (!event || events.length !== 1) throw new Error('Expected exactly one SQS event source in the template');
  const queueArn = (event.properties as JsonObject).Queue as JsonObject;
  const [queue] = (queueArn['Fn::GetAtt'] ?? []) as string[];
  const redrive = template.Resources[String(queue)]?.Properties?.RedrivePolicy as JsonObject | undefined;
  if (!queue || !redrive) throw new Error('The consumer queue must be a template queue with a RedrivePolicy');
  return { functionName: event.functionName, queue, maxReceiveCount: Number(redrive.maxReceiveCount) };
}

export interface PartnerOrdersOptions {
  /** Orders submitted through the partner REST API's POST /orders (429s retried, as a partner would). */
  viaRestApi: number;
  /** Orders put on the queue directly, in the very form the REST integration sends. */
  viaQueue: number;
  /** Partner clients submitting at once. */
  concurrency: number;
  /**
   * The local queue's visibility timeout: how soon a failed batch comes back. Longer than the mapping's batching
   * window, or a message waiting in the window is received again, spending its receives (as in AWS).
   */
  visibilityTimeoutSeconds: number;
  /** How long the queue may take to drain once everything is submitted. */
  drainTimeoutMs: number;
}

export interface PartnerOrdersReport {
  /** REST requests sent, 429s included. */
  requestsTried: number;
  throttled: number;
  /** REST answers other than 202 and 429 (there should be none). */
  refused: { status: number; body: unknown }[];
  /** Orders acknowledged (202 from the REST API, or sent to the queue). */
  accepted: number;
  faults: FaultCounts;
  /** Records delivered to the consumer beyond the first delivery of each message. */
  redeliveries: number;
  drained: boolean;
  /** Accepted orders missing from the Orders table. */
  lost: string[];
  /** Orders of this partner in the table that nobody submitted. */
  unexpected: string[];
  /** Orders written more than once (the consumer logged them as placed twice). */
  duplicates: string[];
  /** Orders whose stored content differs from what was submitted. */
  wrongContent: string[];
  deadLettered: number;
  seconds: number;
}

/**
 * Partner orders through POST /orders (and straight onto OrdersQueue) → the consumer, while the cloud's `faults` option
 * fails the consumer at random: every accepted order must land in the Orders table exactly once, with the
 * submitted content. "Placed" is read from the consumer's own log line (its conditional write succeeded),
 * the only place a second write of the same item would show.
 */
export async function partnerOrdersExactlyOnce(
  test: TestCloud,
  options: PartnerOrdersOptions,
): Promise<PartnerOrdersReport> {
  const { cloud } = test;
  const started = performance.now();
  const consumer = orderConsumerOf(cloud.resolver.template);
  const queueUrl = cloud.queues[consumer.queue] as string;
  const mapping = cloud.info().eventSources.find((source) => source.functionName === consumer.functionName);
  if (options.visibilityTimeoutSeconds <= (mapping?.maximumBatchingWindowInSeconds ?? 0) + 1) {
    throw new Error('The visibility timeout must exceed the batching window by more than a second');
  }
  const { Attributes = {} } = await cloud.sqs.client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
  );
  const deadLetterArn = String(JSON.parse(String(Attributes.RedrivePolicy)).deadLetterTargetArn);
  const deadLetterUrl = Object.values(cloud.queues).find((url) =>
    url.endsWith(`/${deadLetterArn.split(':').at(-1)}`),
  );
  if (!deadLetterUrl) throw new Error(`No local queue for ${deadLetterArn}`);
  // The template's visibility timeout (6 × the function's) would space retries minutes apart: shortened on the
  // local queue, as an operator could with SetQueueAttributes in AWS; the mapping stays as the template says.
  await cloud.sqs.client.send(
    new SetQueueAttributesCommand({
      QueueUrl: queueUrl,
      Attributes: { VisibilityTimeout: String(options.visibilityTimeoutSeconds) },
    }),
  );

  const placed = new Map<string, number>();
  const unsubscribe = test.onLog((functionName, line) => {
    if (functionName !== consumer.functionName || !line.includes('"Partner order placed"')) return;
    const { orderId } = JSON.parse(line) as { orderId: string };
    placed.set(orderId, (placed.get(orderId) ?? 0) + 1);
  });

  const product = await seededProduct();
  const partner = unlimitedPartnerKey(cloud);
  const runId = randomUUID().slice(0, 8);
  const submitted = new Map<string, { quantity: number; note: string }>();
  const orderOf = (index: number) => ({ quantity: 1 + (index % 5), note: `load ${runId} #${index}` });
  let requestsTried = 0;
  let throttled = 0;
  const refused: { status: number; body: unknown }[] = [];

  let nextRest = 0;
  const viaRestApi = inParallel(options.concurrency, async () => {
    while (nextRest < options.viaRestApi) {
      const order = orderOf(nextRest++);
      for (;;) {
        requestsTried++;
        const answer = await request(`${partner.url}/orders`, {
          method: 'POST',
          headers: { 'x-api-key': partner.value },
          body: { items: [{ productId: product.productId, quantity: order.quantity }], note: order.note },
          timeoutMs: 30_000,
        });
        if (answer.status === 202) {
          submitted.set(answer.body.orderId, order);
          break;
        }
        if (answer.status !== 429) {
          refused.push({ status: answer.status, body: answer.body ?? answer.transportError });
          break;
        }
        throttled++;
        // A partner backing off after a 429, as a client of a throttled API should.
        await sleep(200 + Math.random() * 200);
      }
    }
  });
  let nextQueued = options.viaRestApi;
  const total = options.viaRestApi + options.viaQueue;
  const viaQueue = inParallel(Math.min(4, options.concurrency), async () => {
    while (nextQueued < total) {
      const batch = Array.from({ length: Math.min(10, total - nextQueued) }, () => orderOf(nextQueued++));
      const receivedAt = String(Date.now());
      // In the form the integration sends: the envelope as attributes, the order's id the MessageId SQS answers.
      const { Successful = [], Failed = [] } = await cloud.sqs.client.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((order, index) => ({
            Id: String(index),
            MessageBody: JSON.stringify({
              items: [{ productId: product.productId, quantity: order.quantity }],
              note: order.note,
            }),
            MessageAttributes: {
              partnerId: { DataType: 'String', StringValue: partner.keyId },
              receivedAt: { DataType: 'Number', StringValue: receivedAt },
            },
          })),
        }),
      );
      if (Failed.length > 0) throw new Error(`SendMessageBatch failed: ${JSON.stringify(Failed)}`);
      for (const { Id, MessageId } of Successful) {
        const order = batch[Number(Id)];
        if (order && MessageId) submitted.set(MessageId, order);
      }
    }
  });
  await Promise.all([viaRestApi, viaQueue]);

  const counts = async (url: string) => {
    const { Attributes: attributes = {} } = await cloud.sqs.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(attributes.ApproximateNumberOfMessages) +
      Number(attributes.ApproximateNumberOfMessagesNotVisible)
    );
  };
  const drainDeadline = Date.now() + options.drainTimeoutMs;
  let drained = false;
  while (!drained && Date.now() < drainDeadline) {
    drained = (await counts(queueUrl)) === 0;
    if (!drained) await sleep(250);
  }
  // A worker's log lines reach the cloud a moment after its result: a late "placed" must still be counted.
  await sleep(500);
  unsubscribe();

  const stored = new Map<string, Record<string, unknown>>();
  const customerId = `partner#${partner.keyId}`;
  for await (const page of paginateQuery(
    { client: test.documents },
    {
      TableName: cloud.tables.OrdersTable,
      IndexName: 'byCustomer',
      KeyConditionExpression: 'customerId = :customer',
      ExpressionAttributeValues: { ':customer': customerId },
    },
  )) {
    for (const item of page.Items ?? []) stored.set(String(item.orderId), item);
  }
  const wrongContent: string[] = [];
  for (const [orderId, order] of submitted) {
    const item = stored.get(orderId);
    if (!item) continue;
    const expected = {
      orderId,
      customerId,
      status: 'PLACED',
      items: [
        {
          productId: product.productId,
          name: product.name,
          quantity: order.quantity,
          unitPrice: product.price,
        },
      ],
      total: { amount: product.price.amount * order.quantity, currency: product.price.currency },
      note: order.note,
      source: 'partner',
    };
    const { createdAt, ...rest } = item;
    if (
      JSON.stringify(sortedKeys(rest)) !== JSON.stringify(sortedKeys(expected)) ||
      Number.isNaN(Date.parse(String(createdAt)))
    )
      wrongContent.push(orderId);
  }
  const faults = cloud.faults?.counts(consumer.functionName) ?? {
    invocations: 0,
    records: 0,
    beforeHandler: 0,
    afterHandler: 0,
    spared: 0,
  };
  return {
    requestsTried,
    throttled,
    refused,
    accepted: submitted.size,
    faults: { ...faults },
    redeliveries: faults.records - submitted.size,
    drained,
    lost: [...submitted.keys()].filter((orderId) => !stored.has(orderId)),
    unexpected: [...stored.keys()].filter((orderId) => !submitted.has(orderId)),
    duplicates: [...placed].filter(([, times]) => times > 1).map(([orderId]) => orderId),
    wrongContent,
    deadLettered: await counts(deadLetterUrl),
    seconds: (performance.now() - started) / 1000,
  };
}

/** The REST API's URL and the key of a usage plan without limits of its own (the template's top tier). */
function unlimitedPartnerKey(cloud: OfflineCloud): { url: string; keyId: string; value: string } {
  for (const { api, url } of cloud.restApis.values()) {
    const plan = api.config.usagePlans.find(
      (candidate) =>
        !candidate.throttle && !candidate.quota && Object.keys(candidate.methodThrottle).length === 0,
    );
    const key = api.config.apiKeys.find((candidate) => candidate.id === plan?.keyIds[0]);
    if (key) return { url, keyId: key.id, value: key.value };
  }
  throw new Error('The template has no usage plan without limits');
}
