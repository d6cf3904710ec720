import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { type ChatPage, startChatPage } from '../../../offline/gateways/websocket/chat-page.ts';
import { signToken } from '../../../offline/services/issuer.ts';
import { launchChromium } from '../../support/chromium.ts';

const cloud = inject('offlineCloud');
let page: ChatPage;
let browser: Browser;

beforeAll(async () => {
  page = await startChatPage({
    webSocketUrl: cloud.webSocketUrl,
    mintToken: (sub) => signToken(cloud.signingKey, { issuer: cloud.issuer, clientId: cloud.audience, sub }),
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await page?.stop();
});

async function signInAndJoin(user: string, room: string): Promise<Page> {
  const tab = await (await browser.newContext()).newPage();
  await tab.goto(page.url);
  await tab.fill('#user', user);
  await tab.click('#sign-in button');
  await expect.poll(() => tab.textContent('#status')).toBe(`Connected as ${user}.`);
  await tab.fill('#room', room);
  await tab.click('#join button');
  await tab.waitForSelector(`#messages li.notice:has-text("You joined #${room}.")`);
  return tab;
}

async function say(tab: Page, text: string): Promise<void> {
  await tab.fill('#text', text);
  await tab.click('#send button');
}

const messagesOf = (tab: Page) =>
  tab.$$eval('#messages li:not(.notice)', (items) => items.map((item) => item.textContent));

test('two browser tabs chat through the offline WebSocket API', async () => {
  const room = `browser-${randomUUID().slice(0, 8)}`;
  const alice = await signInAndJoin('alice', room);
  const bob = await signInAndJoin('bob', room);

  await say(alice, 'Hello Bob, is my order on its way?');
  await expect.poll(() => messagesOf(bob)).toEqual(['aliceHello Bob, is my order on its way?']);
  await say(bob, 'Yes, it left this morning.');
  await expect
    .poll(() => messagesOf(alice))
    .toEqual(['aliceHello Bob, is my order on its way?', 'bobYes, it left this morning.']);

  const eve = await signInAndJoin('eve', `${room}-other`);
  await say(alice, 'Only for this room');
  await expect.poll(() => messagesOf(bob)).toHaveLength(3);
  expect(await messagesOf(eve)).toEqual([]);
});
