/**
 * What the Teams adapter remembers of the messages it sent, so a button can redraw its message in
 * place: a results carousel (its text and cards), a question with buttons (forget), or a label card
 * (That's it on an unlabelled photo, asked as a message of its own). Bounded and in-process: a
 * message older than this memory is answered with a new message instead of an edit.
 *
 * Kept per conversation: the activity id a button names comes from the client, and a message sent
 * in another conversation (another scope) must never be redrawn here.
 */
import type { Card } from '../../src/chat/reply.js';

export type SentMessage =
  | { kind: 'answer'; text: string; cards: Card[] }
  | { kind: 'question' }
  /** `origin`: the carousel whose card asked, redrawn too once the label is given. */
  | { kind: 'label'; origin?: string };

/** What a label card needs to be drawn again (with an error under it). */
export interface LabelAsk {
  title: string;
  prompt: string;
  /** Its button's words, when not That's it's. */
  submit?: string;
}

const MEMORY = 500;

/** A Map that forgets its oldest entry past `max`. */
class Bounded<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
  get(key: string): V | undefined {
    return this.map.get(key);
  }
}

export class SentMemory {
  private readonly sent = new Bounded<SentMessage>(MEMORY);
  private readonly asks = new Bounded<LabelAsk>(MEMORY);

  remember(conversation: string, id: string, message: SentMessage): void {
    this.sent.set(`${conversation}\n${id}`, message);
  }

  get(conversation: string, id: string | undefined): SentMessage | undefined {
    return id ? this.sent.get(`${conversation}\n${id}`) : undefined;
  }

  /**
   * The label question asked in this conversation with this button value (the value comes back
   * with the label). Per conversation too: its title must never be shown to another scope.
   */
  rememberAsk(conversation: string, value: string, ask: LabelAsk): void {
    this.asks.set(`${conversation}\n${value}`, ask);
  }

  ask(conversation: string, value: unknown): LabelAsk | undefined {
    return typeof value === 'string' ? this.asks.get(`${conversation}\n${value}`) : undefined;
  }
}
