import { describe, expect, it } from 'vitest';
import { useTestSandbox } from './support/sandbox-harness';
import { expectSessionNotValid } from './support/forbidden';

interface Card {
  label: string;
  token: string;
  valid: boolean;
  user: { identifier: string; firstName: string; lastName: string; middleName: string | null };
  permissions: { businessFunction: string; orgIdentifier: string; orgName: string }[];
}
interface SessionView {
  sessionKey: string;
  userIdentifier: string;
  cardLabel: string;
  state: string;
  endedAt: string | null;
}

describe('sandbox controls', () => {
  const sandbox = useTestSandbox();

  describe('GET /_sandbox/cards', () => {
    it('lists the documented cards, including the invalid one and the one without roles', async () => {
      const cards = await sandbox.control<Card[]>('GET', '/cards');
      expect(cards.map((c) => [c.label, c.valid, c.permissions.length])).toEqual([
        ['referrer-two-roles', true, 2],
        ['provider-three-roles', true, 3],
        ['two-organisations', true, 3],
        ['no-roles', true, 0],
        ['invalid-card', false, 0],
      ]);
      for (const card of cards) {
        expect(Object.keys(card)).toEqual(['label', 'token', 'valid', 'user', 'permissions']);
        expect(card.token).toMatch(/^[A-Za-z0-9+/=]+@[A-Za-z0-9+/=]+#$/);
        expect(card.user.identifier).toMatch(/^\d{12}$/);
      }
      expect(new Set(cards.map((c) => c.token)).size).toBe(cards.length);
      expect(cards[0]?.permissions[0]).toEqual({ businessFunction: 'REFERRING_CLINICIAN', orgIdentifier: 'A81001', orgName: ' THE DENSHAM SURGERY' });
      expect(cards[1]?.permissions.map((p) => p.businessFunction)).toEqual([
        'SERVICE_PROVIDER_CLINICIAN',
        'SERVICE_PROVIDER_ADMIN',
        'SERVICE_PROVIDER_CLINICIAN_ADMIN',
      ]);
      expect(new Set(cards[2]?.permissions.map((p) => p.orgIdentifier)).size).toBeGreaterThanOrEqual(2);
    });
  });

  describe('identity agent and card removal', () => {
    it('insert hands over the card’s token, by label or index', async () => {
      const cards = await sandbox.control<Card[]>('GET', '/cards');
      expect(await sandbox.control('POST', '/identity-agent/insert', { label: 'provider-three-roles' })).toEqual({
        label: 'provider-three-roles',
        token: cards[1]?.token,
      });
      expect(await sandbox.control('POST', '/identity-agent/insert', { index: 0 })).toEqual({
        label: 'referrer-two-roles',
        token: cards[0]?.token,
      });
      const unknown = await sandbox.call('POST', '/_sandbox/identity-agent/insert', {
        headers: [['Content-Type', 'application/json']],
        body: JSON.stringify({ label: 'nobody' }),
      });
      expect(unknown.status).toBe(404);
    });

    it('removal kills every live session of the token (403 session not valid after) and A001 refuses it until re-inserted', async () => {
      const first = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN');
      const second = await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_ADMIN');
      const other = await sandbox.session('referrer-two-roles', 'REFERRING_CLINICIAN');

      expect(await sandbox.control('POST', '/identity-agent/remove', { token: first.card.token })).toEqual({
        label: 'provider-three-roles',
        endedSessions: 2,
      });
      for (const key of [first.key, second.key]) {
        expectSessionNotValid(await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key }));
      }
      expect((await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: other.key })).status).toBe(200);
      const refused = await sandbox.a001(first.card.token);
      expect(refused.status).toBe(403);
      expect(refused.text).toBe('');

      const live = await sandbox.control<SessionView[]>('GET', '/sessions?state=live');
      expect(live.map((s) => s.sessionKey)).toEqual([other.key]);
      const expired = await sandbox.control<SessionView[]>('GET', '/sessions?state=expired');
      expect(expired.map((s) => s.sessionKey).sort()).toEqual([first.key, second.key].sort());

      await sandbox.control('POST', '/identity-agent/insert', { label: 'provider-three-roles' });
      expect((await sandbox.a001(first.card.token)).status).toBe(201);
      // The old sessions stay dead.
      expect((await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: first.key })).status).toBe(403);
    });

    it('reset makes a removed card valid again', async () => {
      const card = (await sandbox.control<Card[]>('GET', '/cards'))[0];
      await sandbox.control('POST', '/identity-agent/remove', { token: card?.token });
      expect((await sandbox.a001(card?.token ?? '')).status).toBe(403);
      await sandbox.control('POST', '/reset');
      expect((await sandbox.a001(card?.token ?? '')).status).toBe(201);
    });
  });

  describe('sessions', () => {
    it('lists sessions without tokens, and expire kills one silently', async () => {
      const { key, card } = await sandbox.session('two-organisations', 'SERVICE_PROVIDER_CLINICIAN', 'R02');
      const [view] = await sandbox.control<SessionView[]>('GET', '/sessions');
      expect(view).toMatchObject({
        sessionKey: key,
        userIdentifier: '555020964103',
        cardLabel: 'two-organisations',
        state: 'active',
        role: { businessFunction: 'SERVICE_PROVIDER_CLINICIAN', orgIdentifier: 'R02' },
        endedAt: null,
      });
      expect(JSON.stringify(view)).not.toContain(card.token);

      const expired = await sandbox.control<SessionView>('POST', `/sessions/${encodeURIComponent(key)}/expire`);
      expect(expired.state).toBe('expired');
      expect(expired.endedAt).not.toBeNull();
      expectSessionNotValid(await sandbox.ers('GET', '/STU3/v1/CodeSystem/SPECIALTY', { sessionKey: key }));
      expect((await sandbox.a003(key)).status).toBe(403);
      expect(await sandbox.control<SessionView[]>('GET', '/sessions?state=live')).toEqual([]);
    });

    it('answers unknown sessions 404 and bad filters 400', async () => {
      expect((await sandbox.call('GET', '/_sandbox/sessions/nope')).status).toBe(404);
      expect((await sandbox.call('POST', '/_sandbox/sessions/nope/expire')).status).toBe(404);
      expect((await sandbox.call('GET', '/_sandbox/sessions?state=zombie')).status).toBe(400);
    });
  });

  describe('CORS on /_sandbox', () => {
    it('answers the preflight and allows any origin without credentials', async () => {
      const preflight = await sandbox.call('OPTIONS', '/_sandbox/identity-agent/insert', {
        headers: [
          ['Origin', 'http://localhost:5173'],
          ['Access-Control-Request-Method', 'POST'],
          ['Access-Control-Request-Headers', 'content-type'],
        ],
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('*');
      expect(String(preflight.headers['access-control-allow-methods'])).toContain('POST');
      expect(preflight.headers['access-control-allow-headers']).toBe('content-type');
      expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();

      const actual = await sandbox.call('GET', '/_sandbox/cards', { headers: [['Origin', 'http://localhost:5173']] });
      expect(actual.status).toBe(200);
      expect(actual.headers['access-control-allow-origin']).toBe('*');
      const error = await sandbox.call('GET', '/_sandbox/nothing', { headers: [['Origin', 'http://localhost:5173']] });
      expect(error.status).toBe(404);
      expect(error.headers['access-control-allow-origin']).toBe('*');
    });

    it('gives e-RS paths no CORS headers', async () => {
      const answer = await sandbox.call('GET', '/ers-api/STU3/v1/CodeSystem/SPECIALTY', { headers: [['Origin', 'http://localhost:5173']] });
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    });
  });
});
