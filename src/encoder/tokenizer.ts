/**
 * Text → token id batches for a CLIP-style text tower, from the model's own tokenizer.json and
 * tokenizer_config.json (@huggingface/tokenizers: BPE as in CLIP, WordLevel, WordPiece, Unigram).
 * Rules: special tokens come from the tokenizer's post-processor; a text longer than the context
 * is cut in its middle part so the start and end tokens survive (CLIP pools at the end token);
 * a batch is padded with the pad token to its longest sequence, or to the graph's fixed length.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ErrorCode, ReferentError } from '../errors.js';

/** Token ids and attention mask, row-major [batchSize × length]; mask is 1 on real tokens, 0 on padding. */
export interface TokenBatch {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  batchSize: number;
  length: number;
}

export interface TokenizerOptions {
  /** Context length (the text tower's max_position_embeddings); default: model_max_length, else 77. */
  contextLength?: number;
}

/** Any tokenizer_config value above this is "no limit" (transformers writes 1e30 for unset). */
const UNSET_MAX_LENGTH = 1_000_000;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Special tokens appear as "<tok>" or, in older configs, as {"content": "<tok>", ...}. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value.content === 'string') return value.content;
  return undefined;
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value < UNSET_MAX_LENGTH ? value : undefined;
}

function startsAt(haystack: readonly number[], needle: readonly number[], at: number): boolean {
  return needle.every((id, i) => haystack[at + i] === id);
}

/** A loaded tokenizer bound to one model's context length and pad token. */
export class ClipTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    /** Longest sequence the text tower accepts, special tokens included. */
    readonly contextLength: number,
    /** Id written into padded positions. */
    readonly padId: number,
  ) {}

  /**
   * Builds a tokenizer from parsed tokenizer.json and tokenizer_config.json. The pad token is the
   * config's pad_token, else its eos_token (CLIP pads with its end token), else id 0.
   * Invalid JSON structure → MODEL_INVALID.
   */
  static fromJson(tokenizerJson: unknown, tokenizerConfig: unknown, options: TokenizerOptions = {}): ClipTokenizer {
    const config = isObject(tokenizerConfig) ? tokenizerConfig : {};
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerJson as object, config);
    } catch (err) {
      throw new ReferentError(ErrorCode.ModelInvalid, `tokenizer.json could not be loaded: ${(err as Error).message}`, { cause: err });
    }
    const contextLength = options.contextLength ?? positiveInt(config.model_max_length) ?? 77;
    const padToken = tokenText(config.pad_token) ?? tokenText(config.eos_token);
    const padId = padToken === undefined ? 0 : (tokenizer.token_to_id(padToken) ?? 0);
    return new ClipTokenizer(tokenizer, contextLength, padId);
  }

  /**
   * Reads tokenizer.json, tokenizer_config.json and (for the context length) config.json from a
   * model folder. The context length is the smallest of text_config.max_position_embeddings and
   * model_max_length that is set, and of `maxLength` (a text graph with a fixed sequence length).
   * Unreadable files → MODEL_INVALID.
   */
  static async load(modelDir: string, options: { maxLength?: number } = {}): Promise<ClipTokenizer> {
    const [tokenizerJson, tokenizerConfig, config] = await Promise.all(
      ['tokenizer.json', 'tokenizer_config.json', 'config.json'].map((name) => readJson(join(modelDir, name))),
    );
    const textConfig = isObject(config) && isObject(config.text_config) ? config.text_config : {};
    const limits = [
      positiveInt(textConfig.max_position_embeddings),
      isObject(tokenizerConfig) ? positiveInt(tokenizerConfig.model_max_length) : undefined,
      positiveInt(options.maxLength),
    ];
    const known = limits.filter((n): n is number => n !== undefined);
    const contextLength = known.length > 0 ? Math.min(...known) : undefined;
    return ClipTokenizer.fromJson(tokenizerJson, tokenizerConfig, contextLength === undefined ? {} : { contextLength });
  }

  /**
   * Token ids of one text with its special tokens, cut to the context length: when too long, the
   * leading specials, the first content tokens that fit, and the trailing specials are kept.
   */
  ids(text: string): number[] {
    const full = this.tokenizer.encode(text).ids;
    if (full.length <= this.contextLength) return full;
    const content = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    // Where the content sits inside the full encoding tells how many specials the template adds on each side.
    let lead = 0;
    while (lead + content.length <= full.length && !startsAt(full, content, lead)) lead++;
    if (lead + content.length > full.length) return full.slice(0, this.contextLength);
    const prefix = full.slice(0, lead);
    const suffix = full.slice(lead + content.length);
    const room = this.contextLength - prefix.length - suffix.length;
    if (room < 0) return full.slice(0, this.contextLength);
    return [...prefix, ...content.slice(0, room), ...suffix];
  }

  /**
   * Encodes a batch. Rows are padded with `padId` to the longest row, or to `padTo` when the model's
   * graph has a fixed sequence length (never shorter than the longest row after truncation).
   */
  encode(texts: readonly string[], options: { padTo?: number } = {}): TokenBatch {
    const rows = texts.map((t) => this.ids(t));
    const longest = rows.reduce((m, r) => Math.max(m, r.length), 0);
    const length = Math.max(longest, options.padTo ?? 0);
    const inputIds = new BigInt64Array(rows.length * length).fill(BigInt(this.padId));
    const attentionMask = new BigInt64Array(rows.length * length);
    rows.forEach((row, r) => {
      row.forEach((id, i) => {
        inputIds[r * length + i] = BigInt(id);
        attentionMask[r * length + i] = 1n;
      });
    });
    return { inputIds, attentionMask, batchSize: rows.length, length };
  }

  /** The id of a token string, if the vocabulary has it (for tests and diagnostics). */
  tokenId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (err) {
    throw new ReferentError(ErrorCode.ModelInvalid, `${path} could not be read as JSON: ${(err as Error).message}`, {
      cause: err,
      details: { path },
    });
  }
}
