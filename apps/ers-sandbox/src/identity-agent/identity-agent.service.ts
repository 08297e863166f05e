import { Injectable } from '@nestjs/common';
import { TEST_CARDS, type TestCard } from '../fixtures/cards';
import { ControlError } from '../control/control-errors';
import { ErsSessionRegistry } from '../state/ers-session-registry';

/** The simulated smartcard Identity Agent on the user's PC. */
@Injectable()
export class IdentityAgentService {
  constructor(private readonly sessions: ErsSessionRegistry) {}

  /** Hands over the card's SSO token; a removed card becomes usable again. */
  insert(selector: { label?: string; index?: number }): { label: string; token: string } {
    const card = pickCard(selector.label, selector.index, undefined);
    this.sessions.insertCard(card);
    return { label: card.label, token: card.token };
  }

  /** Card removal destroys the token at Spine: A001 refuses it and its e-RS sessions die silently. */
  remove(selector: { token?: string; label?: string }): { label: string; endedSessions: number } {
    const card = pickCard(selector.label, undefined, selector.token);
    return { label: card.label, endedSessions: this.sessions.removeCard(card) };
  }
}

function pickCard(label: string | undefined, index: number | undefined, token: string | undefined): TestCard {
  const given = [label, index, token].filter((value) => value !== undefined);
  if (given.length !== 1) throw ControlError.invalid('Name exactly one card: label, index or token');
  const card =
    label !== undefined
      ? TEST_CARDS.find((candidate) => candidate.label === label)
      : index !== undefined
        ? TEST_CARDS[index]
        : TEST_CARDS.find((candidate) => candidate.token === token);
  if (card === undefined) throw ControlError.notFound('No such test card');
  return card;
}
