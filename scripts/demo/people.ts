/**
 * People for the demo gallery: a simple standing figure (cap or hair, shirt or jacket, trousers,
 * shoes, optional backpack) and the fixed list of who is drawn. Clothing colours are named with the
 * demo encoder's colour words, and each maps to that word's colour when the encoder looks at it.
 */
import { hex, shade, type Rgb } from './svg.js';

/** Clothing colours, keyed by the colour word the demo encoder knows for them. */
export const CLOTHES = {
  red: [220, 22, 30],
  navy: [24, 32, 104],
  khaki: [196, 176, 128],
  white: [244, 244, 244],
  yellow: [246, 216, 18],
  black: [28, 28, 30],
  pink: [244, 122, 182],
  blue: [28, 56, 214],
  purple: [122, 36, 152],
  orange: [244, 134, 16],
  teal: [18, 124, 124],
  grey: [122, 122, 128],
  brown: [122, 70, 28],
  green: [26, 158, 36],
  maroon: [124, 18, 28],
  olive: [112, 120, 38],
  cyan: [36, 204, 212],
  lime: [144, 224, 40],
  magenta: [226, 20, 226],
} as const satisfies Record<string, Rgb>;

export type Clothing = keyof typeof CLOTHES;

const SKIN: readonly Rgb[] = [
  [241, 196, 162],
  [226, 178, 140],
  [150, 96, 64],
];
const HAIR: Record<string, Rgb> = { dark: [48, 34, 24], blond: [224, 194, 112] };

export interface Look {
  cap?: Clothing;
  hair?: keyof typeof HAIR;
  top: Clothing;
  topKind: 'jacket' | 'shirt';
  trousers: Clothing;
  shoes: Clothing;
  backpack?: Clothing;
  /** Index into the skin tones. */
  skin: number;
}

/** SVG elements of a standing person, centred on the origin, about 240 units tall. */
export function drawPerson(look: Look): string {
  const skin = hex(SKIN[look.skin % SKIN.length]!);
  const col = (c: Clothing) => hex(CLOTHES[c]);
  const edge = (c: Clothing) => hex(c === 'black' ? [80, 80, 84] : shade(CLOTHES[c], 0.6));
  const part = (x: number, y: number, w: number, h: number, c: Clothing, rx = 6) =>
    `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="${rx}" fill="${col(c)}" stroke="${edge(c)}" stroke-width="2.5"/>`;
  const out: string[] = [];
  if (look.backpack) out.push(part(22, -80, 62, 104, look.backpack, 16));
  out.push(part(-44, 32, 42, 80, look.trousers), part(2, 32, 42, 80, look.trousers), part(-46, 26, 92, 20, look.trousers, 4));
  out.push(part(-50, 106, 46, 17, look.shoes, 8), part(4, 106, 46, 17, look.shoes, 8));
  out.push(`<rect x="-9" y="-70" width="18" height="14" fill="${skin}"/>`);
  out.push(part(-70, -58, 22, 82, look.top, 10), part(48, -58, 22, 82, look.top, 10));
  out.push(`<circle cx="-59" cy="32" r="10" fill="${skin}"/><circle cx="59" cy="32" r="10" fill="${skin}"/>`);
  out.push(part(-50, -62, 100, 96, look.top, 16));
  if (look.topKind === 'jacket') {
    out.push(`<line x1="0" y1="-60" x2="0" y2="32" stroke="${edge(look.top)}" stroke-width="3"/>`);
    out.push(`<polygon points="-22,-62 0,-40 22,-62" fill="${hex(shade(CLOTHES[look.top], 0.8))}"/>`);
  } else {
    out.push(`<polygon points="-14,-62 0,-44 14,-62" fill="${skin}"/>`);
  }
  if (look.backpack) {
    out.push(`<rect x="-34" y="-62" width="11" height="70" rx="4" fill="${col(look.backpack)}"/><rect x="23" y="-62" width="11" height="70" rx="4" fill="${col(look.backpack)}"/>`);
  }
  out.push(`<circle cx="0" cy="-92" r="26" fill="${skin}"/>`);
  if (look.cap) {
    out.push(`<path d="M -28 -94 A 28 28 0 0 1 28 -94 Z" fill="${col(look.cap)}" stroke="${edge(look.cap)}" stroke-width="2"/>`);
    out.push(`<rect x="-2" y="-99" width="50" height="9" rx="4" fill="${hex(shade(CLOTHES[look.cap], 0.85))}"/>`);
  } else {
    out.push(`<path d="M -27 -92 A 27 27 0 0 1 27 -92 Q 0 -104 -27 -92 Z" fill="${hex(HAIR[look.hair ?? 'dark']!)}"/>`);
  }
  return out.join('');
}

/** A person with a label: some photos labelled, the rest left for search to find. */
export interface PersonEntitySpec {
  label: string;
  look: Look;
  views: number;
  labelled: number;
  descriptions: string[];
}

export const PERSON_ENTITIES: readonly PersonEntitySpec[] = [
  {
    label: 'visitor-A',
    look: { cap: 'red', top: 'navy', topKind: 'jacket', trousers: 'khaki', shoes: 'white', skin: 0 },
    views: 3,
    labelled: 2,
    descriptions: ['red cap, navy jacket', 'man in a navy jacket and khaki trousers'],
  },
  {
    label: 'visitor-B',
    look: { hair: 'dark', top: 'yellow', topKind: 'jacket', trousers: 'black', shoes: 'black', skin: 2 },
    views: 3,
    labelled: 2,
    descriptions: ['yellow jacket, black trousers'],
  },
  {
    label: 'visitor-C',
    look: { hair: 'blond', top: 'pink', topKind: 'shirt', trousers: 'blue', shoes: 'white', backpack: 'purple', skin: 1 },
    views: 3,
    labelled: 2,
    descriptions: ['pink shirt, purple backpack', 'woman with blue jeans and a purple backpack'],
  },
  {
    label: 'visitor-D',
    look: { cap: 'orange', top: 'teal', topKind: 'jacket', trousers: 'grey', shoes: 'brown', backpack: 'black', skin: 0 },
    views: 3,
    labelled: 2,
    descriptions: ['teal jacket with a black backpack', 'orange cap, grey trousers'],
  },
];

/** Unlabelled people, one photo each; a few share a detail or two with a labelled one. */
export const OTHER_PEOPLE: ReadonlyArray<{ look: Look; caption?: string }> = [
  { look: { cap: 'red', top: 'black', topKind: 'jacket', trousers: 'blue', shoes: 'white', skin: 1 } },
  { look: { hair: 'dark', top: 'navy', topKind: 'jacket', trousers: 'grey', shoes: 'black', skin: 2 } },
  { look: { hair: 'blond', top: 'olive', topKind: 'shirt', trousers: 'blue', shoes: 'white', skin: 0 } },
  { look: { cap: 'white', top: 'green', topKind: 'jacket', trousers: 'khaki', shoes: 'brown', skin: 1 }, caption: 'man in a green jacket and a white cap' },
  { look: { hair: 'dark', top: 'brown', topKind: 'jacket', trousers: 'black', shoes: 'white', skin: 0 } },
  { look: { hair: 'dark', top: 'white', topKind: 'shirt', trousers: 'blue', shoes: 'black', backpack: 'red', skin: 2 } },
  { look: { cap: 'blue', top: 'grey', topKind: 'jacket', trousers: 'navy', shoes: 'black', skin: 0 } },
  { look: { hair: 'blond', top: 'maroon', topKind: 'jacket', trousers: 'black', shoes: 'brown', backpack: 'green', skin: 1 } },
  { look: { cap: 'black', top: 'orange', topKind: 'jacket', trousers: 'blue', shoes: 'black', skin: 2 }, caption: 'person in an orange jacket' },
  { look: { hair: 'dark', top: 'cyan', topKind: 'shirt', trousers: 'khaki', shoes: 'white', skin: 1 } },
  { look: { cap: 'green', top: 'white', topKind: 'shirt', trousers: 'olive', shoes: 'brown', skin: 0 } },
  { look: { hair: 'dark', top: 'red', topKind: 'jacket', trousers: 'black', shoes: 'white', backpack: 'navy', skin: 1 } },
  { look: { hair: 'blond', top: 'lime', topKind: 'shirt', trousers: 'grey', shoes: 'white', skin: 0 } },
  { look: { cap: 'navy', top: 'khaki', topKind: 'jacket', trousers: 'brown', shoes: 'black', skin: 2 } },
  { look: { hair: 'dark', top: 'black', topKind: 'jacket', trousers: 'black', shoes: 'black', backpack: 'yellow', skin: 0 } },
  { look: { hair: 'dark', top: 'maroon', topKind: 'shirt', trousers: 'blue', shoes: 'white', skin: 2 } },
  { look: { cap: 'yellow', top: 'blue', topKind: 'jacket', trousers: 'grey', shoes: 'black', skin: 1 } },
  { look: { hair: 'blond', top: 'magenta', topKind: 'jacket', trousers: 'white', shoes: 'pink', skin: 0 }, caption: 'woman in a magenta jacket' },
];
