import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { WebSocket } from 'ws';

// biome-ignore lint/suspicious/noExplicitAny: frames are asserted field by field
export type Frame = any;

/** A chat user's open connection: every frame it receives, and ways to wait for one. */
export class ChatClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The close code, once the connection is closed. */
  closeCode: number | undefined;
  readonly socket: WebSocket;
  readonly userId: string;
  /** The connection's id, once a test has looked it up in the connections table. */
  connectionId = '';
  readonly #waiting: { predicate: (frame: Frame) => boolean; resolve: (frame: Frame) => void }[] = [];

  constructor(socket: WebSocket, userId: string) {
    this.socket = socket;
    this.userId = userId;
    socket.on('message', (data) => {
      let frame: Frame;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        frame = { unparsable: data.toString() };
      }
      this.frames.push(frame);
      const index = this.#waiting.findIndex((wait) => wait.predicate(frame));
      if (index >= 0) this.#waiting.splice(index, 1)[0]?.resolve(frame);
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        this.closeCode = code;
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  /** The first frame from index `from` on (already received or still to come) that matches. */
  next(predicate: (frame: Frame) => boolean, { from = 0, timeoutMs = 10_000 } = {}): Promise<Frame> {
    const seen = this.frames.slice(from).find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.userId}: no matching frame in ${JSON.stringify(this.frames)}`)),
        timeoutMs,
      );
      this.#waiting.push({
        predicate: (frame) => this.frames.indexOf(frame) >= from && predicate(frame),
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      });
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Sends a frame and answers the error frame it gets back. */
  refused(message: unknown): Promise<Frame> {
    const from = this.frames.length;
    this.send(message);
    return this.next((frame) => frame.type === 'error', { from });
  }

  async join(roomId: string): Promise<void> {
    const from = this.frames.length;
    this.send({ action: 'joinroom', roomId });
    await this.next((frame) => frame.type === 'joined' && frame.roomId === roomId, { from });
  }

  /** Sends a message and waits for the report of its delivery. */
  say(roomId: string, text: string): Promise<Frame> {
    const clientMessageId = randomUUID();
    this.send({ action: 'sendmessage', roomId, text, clientMessageId });
    return this.next((frame) => frame.type === 'delivered' && frame.clientMessageId === clientMessageId);
  }

  messages(roomId?: string): Frame[] {
    return this.frames.filter((frame) => frame.type === 'message' && (!roomId || frame.roomId === roomId));
  }
}

/** A connection's items in the connections table (the connection and its memberships), read consistently. */
export async function connectionItems(dynamo: DynamoDBDocumentClient, table: string, connectionId: string) {
  const { Items = [] } = await dynamo.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'connectionId = :id',
      ExpressionAttributeValues: { ':id': connectionId },
      ConsistentRead: true,
    }),
  );
  return Items;
}
