/** Help texts for the CLI; kept apart so the README's CLI reference can be checked against it. */
export const globalHelp = `referent — find a part or a person in your team's image gallery, on-premises.

Usage: referent <command> [options]

Commands:
  ingest <folder|manifest.jsonl|manifest.csv>   Add images (with captions and entity labels) to the catalogue
  search "<text>" [--image PATH]                Find images by description, by photo, or both
  models pull <hub-id>                          Download a model into the models folder
  models list                                   Show the models in the models folder
  index status                                  Show catalogue, model and index figures
  index rebuild                                 Rebuild the image index from the catalogue
  index reembed                                 Re-embed every image with the configured model
  serve                                         Start the HTTP server (what \`npm start\` runs)

Options for every command:
  --data-dir DIR     Data folder (REFERENT_DATA_DIR, default ./index-data)
  --model ID|DIR     Hub id or model folder (REFERENT_MODEL, default Xenova/clip-vit-base-patch16)
  --variant NAME     ONNX variant: fp32, quantized, fp16 … (REFERENT_MODEL_VARIANT, default fp32)
  --offline          Never download anything (REFERENT_OFFLINE=1)
  -h, --help         Help for a command: referent <command> --help
  --version          Print the version

Examples:
  referent ingest ./photos --collection parts
  referent search "brass elbow fitting" --limit 5
  referent search "red" --json --model test/fixtures/tiny-clip
`;

export const commandHelp: Record<string, string> = {
  ingest: `Usage: referent ingest <folder | manifest.jsonl | manifest.csv> [--collection NAME] [--events]

Adds images to the catalogue: deduplicates by content hash, encodes in batches, shows a progress bar,
and ends with a summary (added, skipped, failed with reasons). Interrupt with Ctrl-C at any time:
what was added stays, and running the same command again skips it.

  folder          every image below it (jpg, png, webp, gif, tiff, avif)
  manifest.jsonl  one JSON object a line: {"image": "path", "caption"?: "...", "entity"?: "label", "collection"?: "name"}
  manifest.csv    a header row with the columns image, caption, entity, collection
                  (paths are relative to the manifest's folder)

  --collection NAME   collection for images that name none (default: default)
  --events            print one JSON line per image to stdout as it is committed
Exit status: 0 all done, 3 some images failed, 130 interrupted.
`,
  search: `Usage: referent search "<text>" [--image PATH] [--collection NAME]... [--limit N] [--json]

Ranks the catalogue's images by similarity to a description, a photo, or both together.

  --image PATH        a query photo (alone, or with the text)
  --collection NAME   search only this collection (repeatable)
  --limit N           how many hits (default 10, at most 1000)
  --json              print {"hits":[{"itemId","score","caption","entity":{"label"}|null,"media"}]}
`,
  models: `Usage: referent models pull <hub-id> [--variant NAME]
       referent models list

pull  downloads a model (Hugging Face ONNX layout) into the models folder with a progress bar and
      verifies every file. On an air-gapped machine, copy a pulled folder to <models dir>/<owner>/<name>/.
list  shows the models present, their variants and whether they are complete.
`,
  index: `Usage: referent index status | rebuild | reembed

status   catalogue, model and index figures
rebuild  rebuild the image index from the vectors in the catalogue (progress bar)
reembed  re-embed every image from its stored original with the configured model (--model),
         then switch the data folder to that model; resumable
`,
  serve: `Usage: referent serve

Starts Referent's HTTP server on HOST:PORT (default 127.0.0.1:3000): GET /api/health,
GET /api/search?q=TEXT[&limit=N&collection=NAME], GET /media/<id>/thumbnail.
`,
};
