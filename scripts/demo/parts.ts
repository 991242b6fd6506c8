/**
 * Parts for the demo gallery: materials, simple recognisable drawings (bolt, nut, washer, bracket,
 * elbow fitting, valve, gasket, hose) and the fixed catalogue of what is drawn.
 * Material colours are chosen so the demo encoder (which sees colours only) reads each as one of its
 * colour words: brass → gold, zinc → grey, and red, blue, green, black, orange, white as named.
 */
import { hex, shade, type Rgb } from './svg.js';

export const MATERIALS = {
  brass: { rgb: [204, 166, 56], words: 'brass (reads as gold)' },
  zinc: { rgb: [148, 150, 155], words: 'zinc (reads as grey)' },
  red: { rgb: [214, 28, 34], words: 'red' },
  blue: { rgb: [22, 52, 218], words: 'blue' },
  green: { rgb: [24, 156, 34], words: 'green' },
  black: { rgb: [30, 30, 33], words: 'black' },
  orange: { rgb: [242, 132, 18], words: 'orange' },
  white: { rgb: [246, 246, 244], words: 'white' },
} as const satisfies Record<string, { rgb: Rgb; words: string }>;

export type Material = keyof typeof MATERIALS;
export type Shape = 'hex-bolt' | 'bolt-washer' | 'nut' | 'washer' | 'bracket' | 'elbow' | 'valve' | 'gasket' | 'hose';

/** The thing's own base rotation (a bolt lies diagonally) and size, before a view's jitter. */
export const SHAPE_POSE: Record<Shape, { rotate: number; scale: number }> = {
  'hex-bolt': { rotate: -35, scale: 1.05 },
  'bolt-washer': { rotate: -35, scale: 1.05 },
  nut: { rotate: 0, scale: 1.05 },
  washer: { rotate: 0, scale: 1.05 },
  bracket: { rotate: 0, scale: 0.98 },
  elbow: { rotate: 0, scale: 0.95 },
  valve: { rotate: 0, scale: 1.0 },
  gasket: { rotate: 0, scale: 1.0 },
  hose: { rotate: 0, scale: 1.0 },
};

const rgbOf = (m: Material): Rgb => MATERIALS[m].rgb;

/** SVG elements of one part, centred on the origin, about ±110 units wide. */
export function drawPart(shape: Shape, material: Material, accent: Material | undefined, background: Rgb): string {
  const c = rgbOf(material);
  const fill = hex(c);
  const line = hex(material === 'black' ? [90, 90, 95] : shade(c, 0.62));
  const hi = hex(shade(c, 1.28));
  const bg = hex(background);
  const s = `stroke="${line}" stroke-width="3"`;
  const hole = (x: number, y: number, r: number) => `<circle cx="${x}" cy="${y}" r="${r}" fill="${bg}" ${s}/>`;
  switch (shape) {
    case 'hex-bolt':
    case 'bolt-washer': {
      const threads = Array.from({ length: 12 }, (_, i) => `<line x1="${i * 9}" y1="-30" x2="${i * 9 + 8}" y2="30" stroke="${line}" stroke-width="2.5"/>`).join('');
      const washer = shape === 'bolt-washer' ? `<rect x="-44" y="-72" width="16" height="144" rx="3" fill="${fill}" ${s}/>` : '';
      return (
        `<rect x="-32" y="-30" width="137" height="60" rx="5" fill="${fill}" ${s}/>${threads}${washer}` +
        `<rect x="-108" y="-62" width="64" height="124" rx="5" fill="${fill}" ${s}/>` +
        `<rect x="-104" y="-58" width="56" height="32" fill="${hi}"/>` +
        `<line x1="-108" y1="-22" x2="-44" y2="-22" stroke="${line}" stroke-width="3"/><line x1="-108" y1="22" x2="-44" y2="22" stroke="${line}" stroke-width="3"/>`
      );
    }
    case 'nut': {
      const pts = Array.from({ length: 6 }, (_, i) => `${(96 * Math.cos((i * Math.PI) / 3)).toFixed(1)},${(96 * Math.sin((i * Math.PI) / 3)).toFixed(1)}`).join(' ');
      return `<polygon points="${pts}" fill="${fill}" ${s}/><circle r="80" fill="none" stroke="${line}" stroke-width="2"/><circle r="52" fill="${hi}"/>${hole(0, 0, 38)}`;
    }
    case 'washer':
      return `<circle r="94" fill="${fill}" ${s}/><circle r="68" fill="none" stroke="${hi}" stroke-width="8"/>${hole(0, 0, 40)}`;
    case 'gasket': {
      const holes = Array.from({ length: 6 }, (_, i) => hole(Math.round(82 * Math.cos((i * Math.PI) / 3 + 0.5)), Math.round(82 * Math.sin((i * Math.PI) / 3 + 0.5)), 8)).join('');
      return `<circle r="104" fill="${fill}" ${s}/>${hole(0, 0, 60)}${holes}`;
    }
    case 'bracket':
      return (
        `<path d="M -84 -104 H -22 V 38 H 104 V 100 H -84 Z" fill="${fill}" ${s}/>` +
        `<polygon points="-22,38 -22,-4 20,38" fill="${hex(shade(c, 0.85))}" ${s}/>` +
        `<line x1="-84" y1="-104" x2="-22" y2="-104" stroke="${hi}" stroke-width="6"/>` +
        `${hole(-53, -70, 11)}${hole(-53, -20, 11)}${hole(30, 69, 11)}${hole(75, 69, 11)}`
      );
    case 'elbow': {
      const d = 'M -70 96 V 0 A 70 70 0 0 1 0 -70 H 96';
      const collar = (x: number, y: number, w: number, h: number) => `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="4" fill="${hex(shade(c, 0.9))}" ${s}/>`;
      return (
        `<path d="${d}" fill="none" stroke="${line}" stroke-width="68"/><path d="${d}" fill="none" stroke="${fill}" stroke-width="62"/>` +
        `<path d="M -82 96 V 0 A 82 82 0 0 1 0 -82 H 96" fill="none" stroke="${hi}" stroke-width="9"/>` +
        `${collar(-112, 84, 84, 28)}${collar(84, -112, 28, 84)}`
      );
    }
    case 'valve': {
      const wheel = hex(rgbOf(accent ?? material));
      const spokes = [-60, 0, 60].map((x) => `<line x1="0" y1="-84" x2="${x}" y2="${x === 0 ? -100 : -80}" stroke="${wheel}" stroke-width="9"/>`).join('');
      return (
        `<rect x="-104" y="8" width="208" height="54" fill="${fill}" ${s}/>` +
        `<rect x="-112" y="-8" width="20" height="86" rx="3" fill="${fill}" ${s}/><rect x="92" y="-8" width="20" height="86" rx="3" fill="${fill}" ${s}/>` +
        `<ellipse cx="0" cy="36" rx="58" ry="52" fill="${fill}" ${s}/><ellipse cx="-14" cy="22" rx="22" ry="16" fill="${hi}"/>` +
        `<rect x="-24" y="-44" width="48" height="40" fill="${fill}" ${s}/><rect x="-6" y="-84" width="12" height="42" fill="${line}"/>` +
        `<ellipse cx="0" cy="-86" rx="72" ry="20" fill="none" stroke="${wheel}" stroke-width="14"/>${spokes}<circle cx="0" cy="-86" r="10" fill="${wheel}"/>`
      );
    }
    case 'hose': {
      const d = 'M -86 64 C -40 124 -10 -20 28 6 S 76 -30 86 -70';
      const end = hex(rgbOf(accent ?? 'zinc'));
      const endLine = hex(shade(rgbOf(accent ?? 'zinc'), 0.62));
      const fitting = (x: number, y: number, angle: number) =>
        `<g transform="translate(${x} ${y}) rotate(${angle})"><rect x="-2" y="-28" width="30" height="56" rx="4" fill="${end}" stroke="${endLine}" stroke-width="3"/>` +
        `<rect x="26" y="-33" width="20" height="66" rx="3" fill="${end}" stroke="${endLine}" stroke-width="3"/></g>`;
      return (
        `<path d="${d}" fill="none" stroke="${line}" stroke-width="58"/><path d="${d}" fill="none" stroke="${fill}" stroke-width="52"/>` +
        `<path d="${d}" fill="none" stroke="${hi}" stroke-width="7" transform="translate(-6 -8)"/>` +
        `${fitting(-86, 64, 180 + 52.5)}${fitting(86, -70, -69.4)}`
      );
    }
  }
}

/** A part with a part number: some views labelled, the rest left for search to find. */
export interface PartEntitySpec {
  label: string;
  name: string;
  shape: Shape;
  material: Material;
  accent?: Material;
  views: number;
  labelled: number;
  descriptions: string[];
}

export const PART_ENTITIES: readonly PartEntitySpec[] = [
  { label: 'P-20417', name: 'hex bolt M8 with washer, zinc', shape: 'bolt-washer', material: 'zinc', views: 4, labelled: 3, descriptions: ['hex bolt, zinc, M8', 'grey bolt with a washer'] },
  { label: 'P-31552', name: 'elbow fitting 90°, brass', shape: 'elbow', material: 'brass', views: 4, labelled: 2, descriptions: ['brass elbow fitting, 90 degree', 'golden elbow with threaded ends'] },
  { label: 'P-40981', name: 'gate valve, red', shape: 'valve', material: 'red', views: 4, labelled: 3, descriptions: ['gate valve with a red handwheel', 'red valve, 1 inch'] },
  { label: 'P-12007', name: 'rubber hose, blue, zinc ends', shape: 'hose', material: 'blue', accent: 'zinc', views: 4, labelled: 2, descriptions: ['blue rubber hose with metal ends'] },
  { label: 'P-55210', name: 'angle bracket, green', shape: 'bracket', material: 'green', views: 4, labelled: 3, descriptions: ['green angle bracket', 'steel bracket with four holes'] },
  { label: 'P-60330', name: 'flange gasket, black rubber', shape: 'gasket', material: 'black', views: 4, labelled: 2, descriptions: ['black rubber gasket for a flange', 'round seal with bolt holes'] },
  { label: 'P-70112', name: 'nylon washer M6, white', shape: 'washer', material: 'white', views: 4, labelled: 3, descriptions: ['white nylon washer, M6', 'plastic flat washer'] },
  { label: 'P-88450', name: 'hex nut M10, orange', shape: 'nut', material: 'orange', views: 4, labelled: 2, descriptions: ['hex nut, M10, orange'] },
];

/** Unlabelled parts (two views each); some look like an entity in another material. */
export interface PartSpec {
  name: string;
  shape: Shape;
  material: Material;
  accent?: Material;
  views: number;
  caption?: string;
}

export const OTHER_PARTS: readonly PartSpec[] = [
  { name: 'hex bolt, black', shape: 'hex-bolt', material: 'black', views: 2 },
  { name: 'hex bolt, brass', shape: 'hex-bolt', material: 'brass', views: 2 },
  { name: 'hex bolt, zinc, no washer', shape: 'hex-bolt', material: 'zinc', views: 2, caption: 'zinc bolt, M8, no washer' },
  { name: 'hex nut, zinc', shape: 'nut', material: 'zinc', views: 2 },
  { name: 'hex nut, brass', shape: 'nut', material: 'brass', views: 2 },
  { name: 'flat washer, zinc', shape: 'washer', material: 'zinc', views: 2 },
  { name: 'flat washer, black', shape: 'washer', material: 'black', views: 2 },
  { name: 'angle bracket, zinc', shape: 'bracket', material: 'zinc', views: 2 },
  { name: 'angle bracket, blue', shape: 'bracket', material: 'blue', views: 2 },
  { name: 'elbow fitting, black', shape: 'elbow', material: 'black', views: 2 },
  { name: 'elbow fitting, white PVC', shape: 'elbow', material: 'white', views: 2, caption: 'white plastic elbow' },
  { name: 'gate valve, brass, blue handwheel', shape: 'valve', material: 'brass', accent: 'blue', views: 2 },
  { name: 'flange gasket, red', shape: 'gasket', material: 'red', views: 2 },
  { name: 'rubber hose, green, brass ends', shape: 'hose', material: 'green', accent: 'brass', views: 2 },
];
