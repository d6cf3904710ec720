import { describe, expect, inject, test } from 'vitest';
import { WebSocket } from 'ws';
import { token } from '../../support/client.ts';
import { forgedTokens, idToken, tokenOfSize } from '../../support/forged-tokens.ts';

/**
 * The authentication attack suite (issue #7) on the chat: every attack on its `$connect` REQUEST authoriser fails
 * the handshake with the status API Gateway gives (README "Wire behaviour"), through the offline cloud with real
 * `ws` clients and tokens signed with real keys. The HTTP and REST APIs' attacks: test/api/e2e/auth-attacks.test.ts.
 */
const cloud = inject('offlineCloud');
const forged = forgedTokens();

describe('WebSocket $connect: the handshake fails with the authoriser’s 401, or 414 for an oversized URL', () => {
  /** API Gateway's quota on a WebSocket URL, in characters. */
  const URL_QUOTA = 4_096;

  /** The handshake's outcome: the HTTP status that refused it, or 101 when it opened (the socket is closed at once). */
  function handshake(query: string, headers: Record<string, string> = {}): Promise<number> {
    const socket = new WebSocket(`${cloud.webSocketUrl}${query}`, { headers });
    return new Promise((resolve, reject) => {
      socket.once('open', () => {
        socket.terminate();
        resolve(101);
      });
      socket.once('unexpected-response', (_request, response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      socket.once('error', (error) => {
        if (!error.message.startsWith('Unexpected server response')) reject(error);
      });
    });
  }

  const inQuery = (make: () => Promise<string>) => async () => ({
    query: `?token=${encodeURIComponent(await make())}`,
  });
  type WebSocketAttack = [
    attack: string,
    status: 401 | 414,
    request: () => Promise<{ query: string; headers?: Record<string, string> }>,
  ];
  const attacks: WebSocketAttack[] = [
    ['no token parameter', 401, async () => ({ query: '' })],
    ['an empty token parameter', 401, async () => ({ query: '?token=' })],
    [
      'a valid token in the Authorization header instead of ?token=',
      401,
      async () => ({ query: '', headers: { authorization: `Bearer ${await token()}` } }),
    ],
    ...forged.map(([attack, make]): WebSocketAttack => [`a token ${attack}`, 401, inQuery(make)]),
    ['an ID token instead of an access token', 401, inQuery(() => idToken())],
    [
      'a token that makes the URL longer than 4,096 characters',
      414,
      inQuery(() => tokenOfSize(URL_QUOTA + 500)),
    ],
  ];

  test.each(attacks)('%s → %i', async (_attack, status, request) => {
    const { query, headers } = await request();
    expect(await handshake(query, headers)).toBe(status);
  });

  test('control: a large token within the URL quota connects', async () => {
    const large = await tokenOfSize(URL_QUOTA - 600);
    expect(await handshake(`?token=${encodeURIComponent(large)}`)).toBe(101);
  });
});
