import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger, metrics } from '../lib/powertools.ts';
import { removeConnection } from './connections.ts';
import { ok, webSocketRoute } from './websocket-route.ts';

/** $disconnect: deletes the connection and every room membership it had (best effort: TTL catches the rest). */
export const handler = webSocketRoute(
  async (event) => {
    const { connectionId } = event.requestContext;

    const removed = await removeConnection(connectionId);
    metrics.addMetric('ConnectionsClosed', MetricUnit.Count, 1);
    logger.info('Connection closed', {
      itemsRemoved: removed,
      disconnectStatusCode: event.disconnectStatusCode,
      disconnectReason: event.disconnectReason,
    });
    return ok();
  },
  { replies: false },
);
