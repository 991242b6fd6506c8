import { describe, expect, it } from 'vitest';
import { cleanOcr, containsIdentifier, identifiersIn, normalizeIdentifier } from '../../src/ocr/identifiers.js';

describe('cleanOcr', () => {
  it('turns fullwidth forms and CJK punctuation into ASCII, upper case', () => {
    expect(cleanOcr('ＰＮ ７７３１－０４')).toBe('PN 7731-04');
    expect(cleanOcr('M10 × 40')).toBe('M10 X 40');
    expect(cleanOcr('ref 7。3·12 – a')).toBe('REF 7.3.12 - A');
  });

  it('repairs LOT and ISO read with a zero, only before a number', () => {
    expect(cleanOcr('L0T 1098-V')).toBe('LOT 1098-V');
    expect(cleanOcr('M8L0T4471-B')).toBe('M8LOT4471-B');
    expect(cleanOcr('IS0 4017')).toBe('ISO 4017');
    expect(cleanOcr('L0T')).toBe('L0T');
    expect(cleanOcr('AL0T 5')).toBe('AL0T 5');
    expect(containsIdentifier(normalizeIdentifier('LOT 1098-V'), 'L0T 1098-V')).toBe(true);
  });
});

describe('normalizeIdentifier', () => {
  it('keeps letters and digits only, upper case', () => {
    for (const s of ['P-20417', 'p20417', 'P 20417', 'Ｐ－２０４１７']) expect(normalizeIdentifier(s)).toBe('P20417');
    expect(normalizeIdentifier('LOT 4471-B')).toBe('LOT4471B');
    expect(normalizeIdentifier('3/8-16 UNC')).toBe('3816UNC');
    expect(normalizeIdentifier('M10 × 40')).toBe('M10X40');
  });
});

describe('identifiersIn', () => {
  it('finds the identifiers of a query, keyword form and bare value', () => {
    expect(identifiersIn('the zinc M8 from lot 4471')).toEqual(['M8', 'LOT4471', '4471']);
    expect(identifiersIn('P-20417')).toEqual(['P20417']);
    expect(identifiersIn('LOT 4471-B')).toEqual(['LOT4471B', '4471B']);
    expect(identifiersIn('LOT: 4471-B')).toEqual(['LOT4471B', '4471B']);
  });

  it('splits runs OCR glued together (real PP-OCRv4 output)', () => {
    expect(identifiersIn('P-31552WASHER10MM')).toEqual(['P31552', '10MM']);
    expect(identifiersIn('HEXBOLTM8LOT4471-B')).toEqual(['M8', 'LOT4471B', '4471B']);
    expect(identifiersIn('P-20417 HEXBOLTM8LOT4471-B')).toEqual(['P20417', 'M8', 'LOT4471B', '4471B']);
    expect(identifiersIn('ZINC LOT 4471-B SN 00A7-991 3/8-16UNC QTY 100')).toEqual(['LOT4471B', '4471B', 'SN00A7991', '00A7991', '3816UNC', 'QTY100', '100']);
  });

  it('undoes separators OCR inserts and attaches units', () => {
    expect(identifiersIn('X9 -220B')).toEqual(['X9220B']);
    expect(identifiersIn('M10 × 40')).toEqual(['M10X40']);
    expect(identifiersIn('GRADE8.8')).toEqual(['GRADE88', '88']);
    expect(identifiersIn('LOT 4471-B ZINC 25 PCS')).toEqual(['LOT4471B', '4471B', '25PCS']);
    expect(identifiersIn('3/8-16 UNC')).toEqual(['3816UNC']);
  });

  it('keeps a hyphenated prefix and ignores a keyword used as a caption', () => {
    expect(identifiersIn('PCB-1001, M8.')).toEqual(['PCB1001', 'M8']);
    expect(identifiersIn('Part no. p-20417')).toEqual(['P20417']);
    expect(identifiersIn('MODEL RX-88')).toEqual(['RX88']);
  });

  it('ignores words, single characters and texture junk', () => {
    expect(identifiersIn('HEX BOLT ZINC')).toEqual([]);
    for (const junk of ['.? ?', '0', "o' a", '6 O.', '']) expect(identifiersIn(junk)).toEqual([]);
    expect(identifiersIn('show me 2 bolts')).toEqual([]);
  });

  it('keeps a single letter only when glued: "P 20417" gives the number, which still matches', () => {
    expect(identifiersIn('P 20417')).toEqual(['20417']);
    expect(containsIdentifier('20417', 'P-20417')).toBe(true);
  });
});

describe('containsIdentifier', () => {
  it('matches whatever spaces OCR added or dropped', () => {
    expect(containsIdentifier('M8', 'HEXBOLTM8LOT4471-B')).toBe(true);
    expect(containsIdentifier('LOT4471B', 'HEXBOLTM8LOT4471-B')).toBe(true);
    expect(containsIdentifier('REF55210', 'REF55-210')).toBe(true);
    expect(containsIdentifier('X9220B', 'X9 -220B')).toBe(true);
    expect(containsIdentifier('P20417', 'Part no. p-20417')).toBe(true);
    expect(containsIdentifier('M10X40', 'M10 × 40')).toBe(true);
  });

  it('does not cut an identifier out of a longer number', () => {
    expect(containsIdentifier('M8', 'M80')).toBe(false);
    expect(containsIdentifier('M8', 'HEX BOLT M80')).toBe(false);
    expect(containsIdentifier('4471B', '14471B')).toBe(false);
    expect(containsIdentifier('4471', 'LOT 44710')).toBe(false);
    expect(containsIdentifier('16', '3/8-16 UNC')).toBe(false); // '-' joins: 16 is part of 3/8-16
    expect(containsIdentifier('P2041', 'P-20417')).toBe(false);
  });

  it('treats whitespace and line breaks as separators', () => {
    expect(containsIdentifier('M8', 'HEX BOLT M8\n100 PCS')).toBe(true);
    expect(containsIdentifier('M8', 'M8 100')).toBe(true);
    expect(containsIdentifier('4471B', 'LOT 4471-B')).toBe(true);
    expect(containsIdentifier('4471', '1 4471')).toBe(true);
  });

  it('checks every occurrence, and never matches an empty identifier', () => {
    expect(containsIdentifier('M8', 'M80 M8')).toBe(true);
    expect(containsIdentifier('', 'anything')).toBe(false);
    expect(containsIdentifier('--', 'anything')).toBe(false);
  });

  it('does not fold look-alikes: SN 8O1-77 read as SN 801-77 is a miss', () => {
    expect(containsIdentifier(normalizeIdentifier('SN 8O1-77'), 'SN 801-77')).toBe(false);
  });
});
