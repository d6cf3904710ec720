import { randomUUID } from 'node:crypto';
import {
  type MessageAttributeValue,
  SendMessageCommand,
  type SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';

/** What an AWS service answered an integration request: the input of integration response selection. */
export interface IntegrationResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const SEND_MESSAGE_PARAMETERS =
  /^(Action|Version|MessageBody|DelaySeconds|MessageGroupId|MessageDeduplicationId|MessageAttribute\.\d+\.(Name|Value\.DataType|Value\.StringValue|Value\.BinaryValue))$/;

/**
 * SQS's query protocol, which API Gateway speaks (`Action=SendMessage&…`, form-encoded), turned into the JSON
 * protocol call fauxqs understands, with the answer in the JSON form of the query protocol that a response
 * template reads (`SendMessageResponse.SendMessageResult.MessageId`). Anything but one well-formed
 * SendMessage is refused as SQS would refuse it, before a message exists.
 */
export async function sqsSendMessage(
  client: SQSClient,
  queueUrl: string | undefined,
  formBody: string,
): Promise<IntegrationResult> {
  const requestId = randomUUID();
  const form = new URLSearchParams(formBody);
  const names = [...form.keys()];
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  const unknown = names.find((name) => !SEND_MESSAGE_PARAMETERS.test(name));
  if (form.get('Action') !== 'SendMessage') {
    return sqsError(
      400,
      'InvalidAction',
      `The action ${form.get('Action') ?? ''} is not valid for this endpoint.`,
      requestId,
    );
  }
  if (repeated || unknown) {
    return sqsError(
      400,
      'InvalidParameterValue',
      `The parameter ${repeated ?? unknown} is not valid here.`,
      requestId,
    );
  }
  if (!queueUrl)
    return sqsError(
      400,
      'AWS.SimpleQueueService.NonExistentQueue',
      'The specified queue does not exist.',
      requestId,
    );

  const attributes: Record<string, MessageAttributeValue> = {};
  for (const name of names) {
    const index = /^MessageAttribute\.(\d+)\.Name$/.exec(name)?.[1];
    if (index === undefined) continue;
    const prefix = `MessageAttribute.${index}.Value`;
    attributes[form.get(name) ?? ''] = {
      DataType: form.get(`${prefix}.DataType`) ?? undefined,
      ...(form.has(`${prefix}.StringValue`) ? { StringValue: form.get(`${prefix}.StringValue`) ?? '' } : {}),
      ...(form.has(`${prefix}.BinaryValue`)
        ? { BinaryValue: Buffer.from(form.get(`${prefix}.BinaryValue`) ?? '', 'base64') }
        : {}),
    };
  }
  try {
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: form.get('MessageBody') ?? undefined,
        ...(form.has('DelaySeconds') ? { DelaySeconds: Number(form.get('DelaySeconds')) } : {}),
        ...(form.has('MessageGroupId') ? { MessageGroupId: form.get('MessageGroupId') ?? '' } : {}),
        ...(form.has('MessageDeduplicationId')
          ? { MessageDeduplicationId: form.get('MessageDeduplicationId') ?? '' }
          : {}),
        ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
      }),
    );
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId },
      body: JSON.stringify({
        SendMessageResponse: {
          ResponseMetadata: { RequestId: requestId },
          SendMessageResult: {
            MD5OfMessageAttributes: sent.MD5OfMessageAttributes ?? null,
            MD5OfMessageBody: sent.MD5OfMessageBody ?? null,
            MD5OfMessageSystemAttributes: null,
            MessageId: sent.MessageId ?? null,
            SequenceNumber: sent.SequenceNumber ?? null,
          },
        },
      }),
    };
  } catch (error) {
    if (!(error instanceof SQSServiceException)) {
      return sqsError(500, 'InternalFailure', 'The request processing has failed.', requestId);
    }
    const code = error.name.replace(/Exception$/, '');
    return sqsError(error.$metadata.httpStatusCode ?? 400, code, error.message, requestId);
  }
}

function sqsError(statusCode: number, code: string, message: string, requestId: string): IntegrationResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId },
    body: JSON.stringify({
      Error: { Code: code, Message: message, Type: statusCode < 500 ? 'Sender' : 'Receiver' },
      RequestId: requestId,
    }),
  };
}

/**
 * A DynamoDB action with the rendered template as its body, sent as it is: whatever the template produced
 * is what DynamoDB Local judges, exactly as DynamoDB would (a broken body is DynamoDB's 400, not ours).
 */
export async function dynamodbAction(
  endpoint: string,
  region: string,
  action: string,
  body: string,
): Promise<IntegrationResult> {
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${action}`,
      'x-amz-date': date,
      // DynamoDB Local reads the credential scope but does not check the signature.
      authorization: `AWS4-HMAC-SHA256 Credential=local/${date.slice(0, 8)}/${region}/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${'0'.repeat(64)}`,
    },
    body,
  });
  return {
    statusCode: response.status,
    headers: { 'content-type': response.headers.get('content-type') ?? 'application/x-amz-json-1.0' },
    body: await response.text(),
  };
}
