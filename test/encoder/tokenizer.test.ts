import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isReferentError } from '../../src/errors.js';
import { ClipTokenizer } from '../../src/encoder/tokenizer.js';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'tiny-clip');

function row(ids: BigInt64Array, length: number, r: number): number[] {
  return Array.from(ids.subarray(r * length, (r + 1) * length), Number);
}

/**
 * A miniature of a real CLIP tokenizer.json (openai/clip-vit-base-patch16 as exported for
 * transformers.js): same normalizer, Split + ByteLevel pre-tokenizer, BPE with "</w>" word ends,
 * RobertaProcessing for the start/end tokens, AddedToken objects in tokenizer_config.json.
 */
function clipStyleTokenizer(): { tokenizerJson: unknown; tokenizerConfig: unknown } {
  const letters = 'abcdefghijklmnopqrstuvwxyz'.split('');
  const pieces = [...letters, ...letters.map((l) => `${l}</w>`), 're', 'red</w>', 'bo', 'bol', 'bolt</w>', 'he', 'hex</w>'];
  const vocab = Object.fromEntries(pieces.map((p, i) => [p, i]));
  const bos = pieces.length;
  const eos = pieces.length + 1;
  const added = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(bos, '<|startoftext|>'), added(eos, '<|endoftext|>')],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: 'RobertaProcessing', sep: ['<|endoftext|>', eos], cls: ['<|startoftext|>', bos], trim_offsets: false, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<|endoftext|>',
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: ['r e', 're d</w>', 'b o', 'bo l', 'bol t</w>', 'h e', 'he x</w>'],
    },
  };
  const token = (content: string) => ({ __type: 'AddedToken', content, lstrip: false, normalized: true, rstrip: false, single_word: false });
  const tokenizerConfig = {
    bos_token: token('<|startoftext|>'),
    eos_token: token('<|endoftext|>'),
    pad_token: token('<|endoftext|>'),
    unk_token: token('<|endoftext|>'),
    model_max_length: 77,
    do_lower_case: true,
  };
  return { tokenizerJson, tokenizerConfig };
}

describe('ClipTokenizer with the tiny demo model (WordLevel + TemplateProcessing)', () => {
  let tok: ClipTokenizer;
  let bos: number;
  let eos: number;
  beforeAll(async () => {
    tok = await ClipTokenizer.load(fixture);
    bos = tok.tokenId('<|startoftext|>')!;
    eos = tok.tokenId('<|endoftext|>')!;
  });

  it('lowercases, splits punctuation and wraps in start and end tokens', () => {
    expect(tok.ids('A Red, hex BOLT')).toEqual([bos, tok.tokenId('a'), tok.tokenId('red'), tok.tokenId(','), tok.tokenId('hex'), tok.tokenId('bolt'), eos]);
  });

  it('maps unknown words to the unknown token', () => {
    expect(tok.ids('zyxxyq')).toEqual([bos, tok.tokenId('<|unk|>'), eos]);
  });

  it('takes the context length from config.json and pads with the end token, as CLIP does', () => {
    expect(tok.contextLength).toBe(77);
    expect(tok.padId).toBe(eos);
  });

  it('truncates a long text to the context length and keeps the end token last', () => {
    const ids = tok.ids(Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? 'red' : 'bolt')).join(' '));
    expect(ids).toHaveLength(77);
    expect(ids[0]).toBe(bos);
    expect(ids[76]).toBe(eos);
    expect(ids.slice(1, 76).every((id) => id !== eos)).toBe(true);
  });

  it('pads a batch to its longest text, masking the padding', () => {
    const batch = tok.encode(['red', 'a red hex bolt']);
    expect(batch.batchSize).toBe(2);
    expect(batch.length).toBe(6);
    expect(row(batch.inputIds, 6, 0)).toEqual([bos, tok.tokenId('red'), eos, eos, eos, eos]);
    expect(row(batch.attentionMask, 6, 0)).toEqual([1, 1, 1, 0, 0, 0]);
    expect(row(batch.attentionMask, 6, 1)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('pads to a fixed length when the graph demands one', () => {
    const batch = tok.encode(['red'], { padTo: 16 });
    expect(batch.length).toBe(16);
    expect(row(batch.attentionMask, 16, 0).reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('encodes an empty batch to an empty one', () => {
    expect(tok.encode([])).toMatchObject({ batchSize: 0, length: 0 });
  });

  it('honours a shorter maximum length (a graph with a fixed sequence length)', async () => {
    const short = await ClipTokenizer.load(fixture, { maxLength: 5 });
    expect(short.contextLength).toBe(5);
    expect(short.ids('a red hex bolt with threads')).toEqual([bos, short.tokenId('a'), short.tokenId('red'), short.tokenId('hex'), eos]);
  });

  it('rejects an unreadable folder with MODEL_INVALID', async () => {
    await expect(ClipTokenizer.load(join(fixture, 'no-such-dir'))).rejects.toSatisfy((e) => isReferentError(e, 'MODEL_INVALID'));
  });
});

describe('ClipTokenizer with a CLIP-format tokenizer.json (BPE + RobertaProcessing)', () => {
  const { tokenizerJson, tokenizerConfig } = clipStyleTokenizer();

  it('applies merges with end-of-word suffixes and adds start/end tokens', () => {
    const tok = ClipTokenizer.fromJson(tokenizerJson, tokenizerConfig);
    const id = (t: string) => tok.tokenId(t)!;
    expect(tok.ids('Red  HEX bolt')).toEqual([id('<|startoftext|>'), id('red</w>'), id('hex</w>'), id('bolt</w>'), id('<|endoftext|>')]);
    expect(tok.padId).toBe(id('<|endoftext|>'));
  });

  it('truncates keeping the end token, and pads with the end token', () => {
    const tok = ClipTokenizer.fromJson(tokenizerJson, tokenizerConfig, { contextLength: 4 });
    const id = (t: string) => tok.tokenId(t)!;
    expect(tok.ids('red hex bolt red')).toEqual([id('<|startoftext|>'), id('red</w>'), id('hex</w>'), id('<|endoftext|>')]);
    const batch = tok.encode(['red', 'red hex bolt red']);
    expect(batch.length).toBe(4);
    expect(row(batch.inputIds, 4, 0)).toEqual([id('<|startoftext|>'), id('red</w>'), id('<|endoftext|>'), id('<|endoftext|>')]);
    expect(row(batch.attentionMask, 4, 0)).toEqual([1, 1, 1, 0]);
  });

  it('rejects a malformed tokenizer.json with MODEL_INVALID', () => {
    expect(() => ClipTokenizer.fromJson({ model: {} }, tokenizerConfig)).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
  });
});
