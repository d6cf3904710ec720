import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';
import { type JsonObject, LOCAL_CREDENTIALS, type Resolver } from './template.ts';

export interface LocalSqs {
  endpoint: string;
  client: SQSClient;
  stop(): Promise<void>;
}

/** fauxqs, embedded and bound to loopback only; it speaks the SQS JSON protocol the AWS SDK v3 uses. */
export async function startSqs(port = 0, region = 'us-east-1'): Promise<LocalSqs> {
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
