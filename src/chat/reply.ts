/**
 * What the assistant answers with, independent of any chat platform: a reply is some text and
 * zero or more cards; adapters render it as Block Kit (Slack), Adaptive Cards (Teams) or HTML (the
 * local web chat). Every string here is plain user-visible text: adapters escape it for their markup.
 */

/** How strong a match is, in words rather than raw scores (scores are not comparable across queries). */
export type ScoreBand = 'strong' | 'good' | 'weak';

/**
 * The card buttons: a search result's three (`more` finds images like this one), and `name` on an
 * unknown face group's card (`faces`), which asks for a label and names the group with it.
 */
export type CardActionKind = 'confirm' | 'reject' | 'more' | 'name';

/** Buttons under a reply's text (not on a card): confirming or cancelling a `forget`. */
export type ReplyActionKind = 'forget' | 'cancel';

export interface CardAction {
  kind: CardActionKind;
  /** Button text: "That's it", "Not it", "More like this", "Name this person". */
  label: string;
  /**
   * Opaque, self-contained value the adapter sends back when the button is pressed (JSON text,
   * at most 2000 characters: Slack's button value limit). The assistant re-checks everything in it.
   */
  value: string;
}

/** A button under a reply's text; its value goes back to `Assistant.act` like a card button's. */
export interface ReplyAction {
  kind: ReplyActionKind;
  label: string;
  value: string;
  /** Destructive: adapters show it as such (Slack style "danger", Teams "destructive"). */
  danger?: boolean;
}

export interface Card {
  itemId: number;
  /** Content hash of the image: adapters fetch the thumbnail by it (never by a path). */
  mediaKey: string;
  /** The entity label, or the caption, or "Unlabelled image". */
  title: string;
  /** Collection the image belongs to. */
  collection: string;
  /** Search results only: how well it matched. Absent on cards that were not searched for (`show`). */
  band?: ScoreBand;
  /** One line: which component carried the hit and what matched. */
  why: string;
  /** How many more images of the same entity were folded into this card. */
  more: number;
  actions: CardAction[];
  /** Set once a verdict was given on this card: "Confirmed by alice", "Named Ana by alice". */
  verdict?: string;
}

export type ReplyKind = 'results' | 'info' | 'help' | 'error';

export interface Reply {
  kind: ReplyKind;
  /** Plain text, may span lines. For results: a one-line summary ("5 matches for …"). */
  text: string;
  cards: Card[];
  /** Demo encoder in use: the adapter shows a notice. */
  demoEncoder?: boolean;
  /** Buttons under the text (a confirmation). */
  actions?: ReplyAction[];
}
