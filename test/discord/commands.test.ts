import { REST } from 'discord.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { COMMANDS, registerCommands } from '../../adapters/discord/commands.js';
import { FakeDiscord } from '../fakes/discord-server.js';

let fake: FakeDiscord;
beforeAll(async () => {
  fake = await FakeDiscord.start({ token: 't0ken', applicationId: '1001', guildId: '2001', channelIds: ['3001'] });
});
afterAll(async () => {
  await fake?.close();
});

it('registers globally without a guild id, per guild with one, and re-registering overwrites', async () => {
  const rest = new REST({ api: fake.apiUrl, retries: 0 }).setToken('t0ken');
  await registerCommands(rest, '1001');
  expect(fake.callsTo('PUT', /^\/applications\/1001\/commands$/).map((c) => c.status)).toEqual([200]);
  expect(fake.commands.get('global')!.map((c) => c.name)).toEqual(['ps', 'icm', 'job']);
  await registerCommands(rest, '1001', '2001');
  await registerCommands(rest, '1001', '2001');
  const puts = fake.callsTo('PUT', /^\/applications\/1001\/guilds\/2001\/commands$/);
  expect(puts.map((c) => c.status)).toEqual([200, 200]);
  expect(puts[1]!.body).toEqual(COMMANDS);
  expect(fake.commands.get('2001')).toHaveLength(3);
});

it('registers every command for server admins only until a server admin grants it, in servers only', async () => {
  const rest = new REST({ api: fake.apiUrl, retries: 0 }).setToken('t0ken');
  await registerCommands(rest, '1001', '2001');
  const put = fake.callsTo('PUT', /^\/applications\/1001\/guilds\/2001\/commands$/).at(-1)!;
  expect(put.status).toBe(200);
  // "0": no permission is enough, so only Administrator (which bypasses) sees them by default.
  expect(
    put.body.map((c: { name: string; default_member_permissions: unknown; contexts: unknown }) => [
      c.name,
      c.default_member_permissions,
      c.contexts,
    ]),
  ).toEqual([
    ['ps', '0', [0]],
    ['icm', '0', [0]],
    ['job', '0', [0]],
  ]);
  // Discord takes the bit set as a string; a number is refused.
  const bad = COMMANDS.map((c) => ({ ...c, default_member_permissions: 0 }));
  await expect(rest.put('/applications/1001/guilds/2001/commands', { body: bad })).rejects.toThrow(/default_member_permissions/);
});
