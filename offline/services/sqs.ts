import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';
import type { JsonObject, Resolver } from '../template/template.ts';
import { LOCAL_CREDENTIALS } from './credentials.ts';

export interface LocalSqs {
  endpoint: string;
  client: SQSClient;
  stop(): Promise<void>;
}

/** fauxqs, embedded and bound to loopback only; it speaks the SQS JSON protocol the AWS SDK v3 uses. */
export async function startSqs(port = 0, region = 'us-east-1'): Promise<LocalSqs> {
  await acceptTheCharactersSqsAccepts();
  const app = buildApp({ logger: false, defaultRegion: region });
  const address = await app.listen({ port, host: '127.0.0.1' });
  const endpoint = address.replace('localhost', '127.0.0.1');
  const client = new SQSClient({ endpoint, region, credentials: LOCAL_CREDENTIALS });
  return {
    endpoint,
    client,
    stop: async () => {
      client.destroy();
      await app.close();
    },
  };
}

/**
 * What SQS refuses in a message body with InvalidMessageContents (SendMessage API reference: only #x9 | #xA |
 * #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF are allowed). With the `u` flag a character beyond the
 * BMP is one code point, and a lone surrogate is a code point of its own, in none of the ranges.
 */
const CHARACTERS_SQS_REFUSES = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * fauxqs 2.4.1 checks bodies with the same ranges but without #x10000–#x10FFFF and without the `u` flag, so each
 * half of a surrogate pair fails on its own and every emoji is refused (an order with an emoji note got 503).
 * Its one expression (dist/sqs/sqsTypes.js, behind SendMessage, SendMessageBatch and its programmatic
 * sendMessage) is recompiled in place with SQS's rule. The module is reached by file URL because the package's
 * `exports` do not list it; fauxqs imports it by the same URL, so both see the one RegExp object.
 */
async function acceptTheCharactersSqsAccepts(): Promise<void> {
  const module = fauxqsModule('dist/sqs/sqsTypes.js');
  const { INVALID_MESSAGE_BODY_CHAR: check } = (await import(pathToFileURL(module).href)) as Record<
    string,
    unknown
  >;
  if (!(check instanceof RegExp))
    throw new Error(
      `${module} no longer exports INVALID_MESSAGE_BODY_CHAR: the installed fauxqs checks message bodies elsewhere; update acceptTheCharactersSqsAccepts in offline/services/sqs.ts`,
    );
  // compile() is the one way to change an existing RegExp (ECMAScript Annex B, in every engine).
  check.compile(CHARACTERS_SQS_REFUSES.source, CHARACTERS_SQS_REFUSES.flags);
}

/**
 * A file of the installed fauxqs, found where Node would look for the package (its `exports` keep
 * require.resolve out, and import.meta.resolve is missing under Vitest's module runner).
 */
function fauxqsModule(file: string): string {
  const packages = createRequire(import.meta.url).resolve.paths('fauxqs') ?? [];
  const directory = packages.map((path) => join(path, 'fauxqs')).find((path) => existsSync(join(path, file)));
  if (!directory) throw new Error(`fauxqs is not installed (looked for ${file} in ${packages.join(', ')})`);
  return join(directory, file);
}

/** SQS attributes the template sets, as CreateQueue takes them (all strings). */
const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'FifoQueue',
  'ContentBasedDeduplication',
];

/**
 * Creates every AWS::SQS::Queue of the template (dead-letter queues first, so redrive policies can name them)
 * and binds each queue's Ref (its URL) and Arn/QueueName/QueueUrl attributes in the resolver.
 */
export async function createQueues(sqs: LocalSqs, resolver: Resolver): Promise<Record<string, string>> {
  const queues = Object.entries(resolver.template.Resources).filter(
    ([logicalId, resource]) => resource.Type === 'AWS::SQS::Queue' && resolver.exists(logicalId),
  );
  const urls: Record<string, string> = {};
  const pending = new Map(queues);
  while (pending.size > 0) {
    let progressed = false;
    for (const [logicalId, resource] of pending) {
      let properties: JsonObject;
      try {
        properties = resolver.resolve(
          resource.Properties ?? {},
          `Resources.${logicalId}.Properties`,
        ) as JsonObject;
      } catch (error) {
        // A redrive policy naming a queue that is not created yet resolves on a later pass.
        if (queues.some(([other]) => other !== logicalId && pending.has(other))) continue;
        throw error;
      }
      const fifo = properties.FifoQueue === true || properties.FifoQueue === 'true';
      const name = String(properties.QueueName ?? `${logicalId}${fifo ? '.fifo' : ''}`);
      const attributes: Record<string, string> = {};
      for (const attribute of QUEUE_ATTRIBUTES) {
        if (properties[attribute] !== undefined && properties[attribute] !== null)
          attributes[attribute] = String(properties[attribute]);
      }
      if (properties.RedrivePolicy) attributes.RedrivePolicy = JSON.stringify(properties.RedrivePolicy);
      const { QueueUrl } = await sqs.client.send(
        new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
      );
      const url = String(QueueUrl);
      const { Attributes } = await sqs.client.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
      );
      resolver.bind(logicalId, {
        ref: url,
        attributes: { Arn: String(Attributes?.QueueArn), QueueName: name, QueueUrl: url },
      });
      urls[logicalId] = url;
      pending.delete(logicalId);
      progressed = true;
    }
    if (!progressed)
      throw new Error(`Queues ${[...pending.keys()].join(', ')} reference each other in a cycle`);
  }
  return urls;
}
