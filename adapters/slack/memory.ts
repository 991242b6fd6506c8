/**
 * The blocks of messages Referent may have to edit later but cannot read back: Slack does not
 * include an ephemeral message's blocks when one of its buttons is pressed, and a dialog's
 * submission carries none at all. Channel history is never read, so the answer is kept here,
 * bounded, under the block ids of its cards' button rows (which the press does carry). After a
 * restart, or on another server, a verdict on such a message still counts; only the card is not
 * redrawn (the person is thanked instead).
 */
import { type Block, cardOfBlock, type SlackMessage } from './blocks.js';

export class MessageMemory {
  private readonly byKey = new Map<string, SlackMessage>();
  constructor(private readonly max = 2000) {}

  /** Remembers a message under each of its cards' button rows. */
  remember(message: SlackMessage): void {
    for (const key of cardRows(message.blocks)) {
      this.byKey.delete(key);
      this.byKey.set(key, message);
      if (this.byKey.size > this.max) this.byKey.delete(this.byKey.keys().next().value!);
    }
  }

  /** The message whose card row has this block id, if it is still remembered. */
  recall(blockId: unknown): SlackMessage | undefined {
    return typeof blockId === 'string' ? this.byKey.get(blockId) : undefined;
  }
}

const cardRows = (blocks: readonly Block[]) => blocks.filter((b) => b.type === 'actions' && cardOfBlock(b.block_id) !== null).map((b) => b.block_id!);
