/**
 * The words and colours of the tiny demo encoder. Colour words are tied to a canonical pixel;
 * every other word is a neutral token with a seeded-random vector outside the colour subspace.
 */

/** A colour the demo encoder "sees": its canonical sRGB pixel and the words that name it. */
export interface PaletteColour {
  name: string;
  rgb: readonly [number, number, number];
  words: readonly string[];
}

/**
 * Canonical pixels. Pure primaries are used where a colour has one, so a test that paints
 * (255, 0, 0) gets exactly the pixel "red" names.
 */
export const PALETTE: readonly PaletteColour[] = [
  { name: 'red', rgb: [255, 0, 0], words: ['red', 'scarlet', 'crimson'] },
  { name: 'maroon', rgb: [128, 0, 0], words: ['maroon', 'burgundy'] },
  { name: 'orange', rgb: [255, 140, 0], words: ['orange'] },
  { name: 'yellow', rgb: [255, 235, 0], words: ['yellow'] },
  { name: 'gold', rgb: [212, 175, 55], words: ['gold', 'golden'] },
  { name: 'olive', rgb: [128, 128, 0], words: ['olive'] },
  { name: 'beige', rgb: [215, 190, 140], words: ['beige', 'tan', 'khaki'] },
  { name: 'cream', rgb: [250, 240, 210], words: ['cream', 'ivory'] },
  { name: 'lime', rgb: [150, 255, 30], words: ['lime'] },
  { name: 'green', rgb: [0, 170, 0], words: ['green'] },
  { name: 'teal', rgb: [0, 128, 128], words: ['teal'] },
  { name: 'cyan', rgb: [0, 255, 255], words: ['cyan', 'turquoise', 'aqua'] },
  { name: 'blue', rgb: [0, 0, 255], words: ['blue'] },
  { name: 'navy', rgb: [0, 0, 128], words: ['navy'] },
  { name: 'purple', rgb: [128, 0, 160], words: ['purple', 'violet'] },
  { name: 'magenta', rgb: [255, 0, 255], words: ['magenta', 'fuchsia'] },
  { name: 'pink', rgb: [255, 150, 200], words: ['pink'] },
  { name: 'white', rgb: [255, 255, 255], words: ['white'] },
  { name: 'silver', rgb: [192, 192, 192], words: ['silver'] },
  { name: 'grey', rgb: [128, 128, 128], words: ['grey', 'gray'] },
  { name: 'black', rgb: [0, 0, 0], words: ['black'] },
  { name: 'brown', rgb: [139, 69, 19], words: ['brown'] },
];

const FUNCTION_WORDS = `a an the with and or of in on at to for from by his her their its this that these
is are has have no not one two three four five six half very some other left right top bottom front back side`;

const PART_WORDS = `bolt bolts nut nuts screw screws washer washers hex head socket cap caps flange fitting fittings
elbow tee coupling union reducer adapter nipple valve ball gate check pipe pipes tube hose clamp bracket hinge
spring bearing gear shaft pin rivet stud anchor thread threaded threads end ends inch inches mm metric m3 m4 m5
m6 m8 m10 m12 m16 part parts plate bar rod wire cable connector plug sleeve bushing seal gasket ring o lock
spacer collar key handle knob lever switch box cover lid tool wrench spanner drill bit blade filter pump motor
brass zinc steel stainless copper aluminium aluminum iron plastic nylon rubber chrome galvanized galvanised
bronze titanium wood wooden metal glass leather cotton denim wool fabric`;

const ATTRIBUTE_WORDS = `small large big long short round square flat thin thick tall new old worn rusty shiny
dark light bright pale striped plain patterned checked dotted male female inner outer double single pair set
straight curved angled 90 45 degree degrees heavy tiny wide narrow sized`;

const PEOPLE_WORDS = `woman man girl boy person people lady guy child adult young older hair blond blonde
jacket coat shirt t tshirt sweater hoodie dress skirt trousers pants jeans shorts shoes sneakers boots sandals
hat helmet glasses sunglasses bag backpack handbag umbrella scarf gloves vest uniform mask belt socks phone
bicycle bike walking standing carrying holding wearing riding sitting running talking`;

const PUNCTUATION = ['.', ',', '-', '/', ':', ';', '!', '?', "'", '"', '(', ')', '&', '+', '#', '%'];
const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Special tokens, CLIP's names; `<|unk|>` is ours because CLIP maps unknown text to BPE pieces instead. */
export const SPECIAL = { bos: '<|startoftext|>', eos: '<|endoftext|>', unk: '<|unk|>' } as const;

export type TokenKind = 'special' | 'unk' | 'colour' | 'word' | 'digit' | 'punctuation';

export interface VocabEntry {
  token: string;
  kind: TokenKind;
  /** Index into PALETTE for colour words. */
  colour?: number;
}

function words(block: string): string[] {
  return block.split(/\s+/).filter((w) => w.length > 0);
}

/** The whole vocabulary in id order, duplicates removed (first kind wins). */
export function buildVocabulary(): VocabEntry[] {
  const entries: VocabEntry[] = [
    { token: SPECIAL.unk, kind: 'unk' },
    { token: SPECIAL.bos, kind: 'special' },
    { token: SPECIAL.eos, kind: 'special' },
  ];
  const seen = new Set(entries.map((e) => e.token));
  const add = (entry: VocabEntry): void => {
    if (seen.has(entry.token)) return;
    seen.add(entry.token);
    entries.push(entry);
  };
  PALETTE.forEach((colour, index) => colour.words.forEach((token) => add({ token, kind: 'colour', colour: index })));
  for (const token of [FUNCTION_WORDS, PART_WORDS, ATTRIBUTE_WORDS, PEOPLE_WORDS].flatMap(words)) add({ token, kind: 'word' });
  DIGITS.forEach((token) => add({ token, kind: 'digit' }));
  PUNCTUATION.forEach((token) => add({ token, kind: 'punctuation' }));
  return entries;
}
