import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger, metrics } from '../lib/powertools.ts';
import { broadcast } from './broadcast.ts';
import { isMember, removeConnection, roomMembers } from './connections.ts';
import { encodeFrame, reply, sender } from './management.ts';
import { notInRoom, parseClientMessage, SendMessageMessage } from './protocol.ts';
import { connectionCallerOf, ok, webSocketRoute } from './websocket-route.ts';

/**
 * sendmessage: `{"action":"sendmessage","roomId","text","clientMessageId"?}`. Only a member of the room may
 * send; the message goes to every member (sender included), connections that have gone are removed, and the
 * sender gets a `delivered` receipt with the counts.
 */
export const handler = webSocketRoute(async (event) => {
  const { roomId, text, clientMessageId } = parseClientMessage(event, SendMessageMessage);
  const caller = connectionCallerOf(event);
  const { connectionId } = event.requestContext;
  if (!(await isMember(connectionId, roomId))) throw notInRoom(roomId);

  const messageId = randomUUID();
  const frame = encodeFrame({
    type: 'message',
    roomId,
    messageId,
    from: { userId: caller.userId, username: caller.username },
    text,
    sentAt: new Date().toISOString(),
    ...(clientMessageId === undefined ? {} : { clientMessageId }),
  });
  // The sender is a member (read consistently above) even if the index has not caught up with its join yet.
  const recipients = [connectionId, ...(await roomMembers(roomId))];
  const report = await broadcast(recipients, frame, {
    send: sender(event.requestContext),
    remove: removeConnection,
  });

  metrics.addMetric('MessagesBroadcast', MetricUnit.Count, 1);
  metrics.addMetric('MessagesDelivered', MetricUnit.Count, report.delivered.length);
  metrics.addMetric('StaleConnectionsRemoved', MetricUnit.Count, report.removed.length);
  if (report.failed.length > 0) {
    metrics.addMetric('DeliveryFailures', MetricUnit.Count, report.failed.length);
    for (const { connectionId: recipient, during, error } of report.failed) {
      logger.warn('Broadcast failure', { recipient, during, error: error as Error });
    }
  }
  logger.info('Message broadcast', {
    roomId,
    messageId,
    delivered: report.delivered.length,
    removed: report.removed.length,
    failed: report.failed.length,
  });

  await reply(event.requestContext, {
    type: 'delivered',
    roomId,
    messageId,
    recipients: report.delivered.length,
    removed: report.removed.length,
    ...(clientMessageId === undefined ? {} : { clientMessageId }),
  });
  return ok();
});
