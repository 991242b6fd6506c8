/**
 * Identifiers (part numbers, lots, thread sizes) in OCR output and in queries. Pure, no I/O.
 *
 * OCR adds and drops spaces unpredictably ('REF55-210', 'X9 -220B', 'HEXBOLTM8LOT4471-B'), so
 * identifiers are compared in a normalised form: letters and digits only, upper case
 * ('P-20417', 'p20417', 'P 20417' → 'P20417'). The rules were fitted on PP-OCRv4 output of
 * printed labels; most examples in test/ocr/identifiers.test.ts are lines it actually returned.
 */

/**
 * Undoes what a Chinese+Latin dictionary does to Latin labels: fullwidth forms and CJK
 * punctuation ('×' for x, '－' for '-', '。' for '.'), then upper case. Also repairs the keywords
 * LOT and ISO read with a zero ('L0T 1098-V': 6 of 181 identifiers in bench/ocr-bench.ts seed 3),
 * only where a number follows and no letter precedes, so identifiers themselves are never touched.
 */
export function cleanOcr(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/[×✕✗]/g, 'X')
    .replace(/[‐‑‒–—―−－]/g, '-')
    .replace(/[。·•]/g, '.')
    .replace(/[，、]/g, ',')
    .replace(/：/g, ':')
    .toUpperCase()
    .replace(/(?<![A-Z])(L0T|IS0)(?=[\s#:.-]*\d)/g, (k) => k.replace('0', 'O'));
}

/** Letters and digits only, upper case: the form identifiers are stored, compared and searched in. */
export function normalizeIdentifier(text: string): string {
  return cleanOcr(text).replace(/[^A-Z0-9]/g, '');
}

/**
 * A label as it is compared with what people type: letters (of any script) and digits only, upper
 * case ('P-20417', 'p20417', 'P 20417' → 'P20417'; 'Zoë Ng' → 'ZOËNG'). For identifiers it agrees
 * with normalizeIdentifier.
 */
export function labelKey(text: string): string {
  return cleanOcr(text).replace(/[^\p{L}\p{N}]/gu, '');
}

/** Words printed before a number that belong to it ('LOT 4471-B', 'SN 00A7-991'). */
const KEYWORDS = ['LOT', 'SN', 'S/N', 'PN', 'P/N', 'REF', 'SKU', 'BATCH', 'KIT', 'DIN', 'ISO', 'EXP', 'QTY', 'NO', 'ART', 'PART', 'MODEL', 'GRADE', 'ITEM', 'CAT'];
/** Units printed after a number that belong to it ('3/8-16 UNC', '25 PCS'). */
const SUFFIXES = ['UNC', 'UNF', 'NPT', 'BSP', 'MM', 'PCS'];
// Longest first, so 'PART4' is split as PART + 4, not P + ART + 4.
const keywordGluedToNumber = new RegExp(`(${[...KEYWORDS].sort((a, b) => b.length - a.length).map((k) => k.replace('/', '\\/')).join('|')})(?=[#:.]?\\d)`, 'g');

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Undoes separators OCR inserts: 'X9 -220B' → 'X9-220B', 'M10 × 40' → 'M10X40'. */
function tidy(text: string): string {
  return cleanOcr(text)
    .replace(/([A-Z0-9])\s+([-/])(?=[A-Z0-9])/g, '$1$2')
    .replace(/([A-Z0-9][-/])\s+(?=[A-Z0-9])/g, '$1')
    .replace(/(\d)\s*X\s*(\d)/g, '$1X$2');
}

/** Splits a run OCR glued together: 'HEXBOLTM8LOT4471-B' → HEXBOLTM8 LOT 4471-B; 'P-31552WASHER10MM' → P-31552 WASHER10MM. */
function splitRun(token: string): string[] {
  return token
    .replace(keywordGluedToNumber, ' $1 ')
    .replace(/(\d)(?=[A-Z]{3,})/g, '$1 ') // a number followed by a word of >= 3 letters
    .split(/\s+/)
    .filter(Boolean);
}

/**
 * Identifier-like tokens of a query or an OCR line, normalised, deduplicated, in order of
 * appearance: at least one digit and at least 2 characters ('M8' yes; '5', 'ZINC' no).
 *
 * - A word glued in front ('WASHER10MM', 'HEXBOLTM8'; >= 3 letters, no separator) is dropped:
 *   the numeric tail is kept when it has >= 2 digits ('10MM'), else the last letter too ('M8').
 *   A hyphenated prefix ('PCB-1001') is part of the identifier and stays.
 * - A keyword right before a number gives two identifiers: 'LOT 4471-B' → 'LOT4471B' and '4471B'.
 *   The prefix is often printed another way ('LOT:', 'LOT NO.') or not read, and a query says
 *   "lot 4471" as often as "4471", so search needs the bare value; the prefixed form is the one
 *   to display. Callers that count matches should count one per such pair.
 * - A unit after the number is attached: '3/8-16 UNC' → '3816UNC', '25 PCS' → '25PCS'.
 * - 'P 20417' (a single letter and a space) gives only '20417', which still matches 'P-20417'.
 *
 * "the zinc M8 from lot 4471" → ['M8', 'LOT4471', '4471'].
 */
export function identifiersIn(text: string): string[] {
  const out: string[] = [];
  const add = (id: string): void => {
    const n = normalizeIdentifier(id);
    if (n.length >= 2 && /\d/.test(n) && !out.includes(n)) out.push(n);
  };
  // Characters other than letters, digits and - . / end a token (spaces, commas, brackets, quotes).
  const parts = tidy(text)
    .split(/[^A-Z0-9\-./]+/)
    .flatMap(splitRun)
    .map((p) => p.replace(/^[-./]+|[-./]+$/g, ''))
    .filter(Boolean);
  parts.forEach((part, i) => {
    if (!/\d/.test(part) || KEYWORDS.includes(part)) return;
    let id = part;
    const glued = /^([A-Z]{3,})(\d.*)$/.exec(part);
    if (glued) {
      const [, word, tail] = glued as unknown as [string, string, string];
      id = (tail.match(/\d/g) ?? []).length >= 2 ? tail : word.slice(-1) + tail;
    }
    const prev = parts[i - 1];
    const next = parts[i + 1];
    if (next !== undefined && SUFFIXES.includes(next)) id += next;
    // Only before a number: in 'PART NO. P-20417' or 'MODEL RX-88' the keyword is just a caption.
    if (prev !== undefined && KEYWORDS.includes(prev) && isDigit(id[0])) add(prev + id);
    add(id);
  });
  return out;
}

/** Normalised text plus, per kept character, whether whitespace or punctuation other than - . / came before it. */
function scan(text: string): { chars: string; brokenBefore: boolean[] } {
  let chars = '';
  const brokenBefore: boolean[] = [];
  let broken = false;
  for (const ch of cleanOcr(text)) {
    if (/[A-Z0-9]/.test(ch)) {
      chars += ch;
      brokenBefore.push(broken);
      broken = false;
    } else if (!/[-./]/.test(ch)) {
      broken = true;
    }
  }
  return { chars, brokenBefore };
}

/**
 * Whether OCR text contains an identifier: a substring of the normalised text (so spaces OCR
 * added or dropped do not matter) that is not cut out of a longer number: a digit at either end
 * of the identifier may not touch another digit. 'M8' is in 'HEXBOLTM8LOT4471-B' but not in
 * 'M80'; '4471B' is not in '14471B'.
 *
 * "Touch" means adjacent or joined by - . / ('16' is not in '3/8-16'). Whitespace, line breaks
 * and other punctuation separate ('M8' is in 'HEX BOLT M8\n100 PCS'): ids.mjs judged this on the
 * fully normalised text, where the next line's digits would block it. Join lines with '\n'.
 */
export function containsIdentifier(normalizedId: string, ocrText: string): boolean {
  const id = normalizeIdentifier(normalizedId);
  if (id === '') return false;
  const { chars, brokenBefore } = scan(ocrText);
  const first = isDigit(id[0]);
  const last = isDigit(id[id.length - 1]);
  for (let i = chars.indexOf(id); i !== -1; i = chars.indexOf(id, i + 1)) {
    const end = i + id.length;
    const touchesBefore = first && i > 0 && isDigit(chars[i - 1]) && !brokenBefore[i];
    const touchesAfter = last && end < chars.length && isDigit(chars[end]) && !brokenBefore[end];
    if (!touchesBefore && !touchesAfter) return true;
  }
  return false;
}
