/** Help texts for the CLI; kept apart so the README's CLI reference can be checked against it. */
export const globalHelp = `referent — find a part or a person in your team's image gallery, on-premises.

Usage: referent <command> [options]

Commands:
  ingest <folder|manifest.jsonl|manifest.csv>   Add images (with captions and entity labels) to the catalogue
  search "<text>" [--image PATH]                Find images by description, by photo, or both (refined)
  add <label> --image PATH [--text "..."]       Add photos (and a description) of an entity
  describe <label> "<text>"                     Add a description of an entity
  show <label>                                  Show an entity: photos, descriptions, details
  forget <label>                                Forget an entity with its photos and descriptions
  review "<query>" <itemId> confirm|reject      Record a verdict on a search hit (review undo <id>)
  eval <dataset>                                Rank-1/5/10, mAP, mINP, plain and refined
  models pull <hub-id>                          Download a model into the models folder
  models list                                   Show the models in the models folder
  index status                                  Show catalogue, model and index figures
  index rebuild                                 Rebuild the image index from the catalogue
  index reembed                                 Re-embed every image with the configured model
  index ocr [--all]                             Read the labels on images not read yet (all with --all)
  index faces                                   Find the faces on images waiting for them (person collections with faces on)
  serve                                         Start the web chat and HTTP API (what \`npm start\` runs)
  collections [create <name> --kind K]          List collections (kind, on/off, grants), or create one
  grant <collection> <platform:workspace[/ch]>  Let a chat workspace or channel search a collection
  revoke <collection> <platform:workspace[/ch]> Take a grant back
  enable | disable <collection>                 Switch person search on or off for a collection
  audit [--limit N]                             Show the audit log of person queries
  faces [on|off <collection>]                   Switch face recognition on or off for a person collection, or list them
  faces unknown [<collection>] | name <g> <l>   Faces nobody has named, grouped by person; name a group
  slack-manifest [--url https://host]           Print the Slack app manifest (Socket Mode, or HTTP at that URL)
  teams-package --app-id ID [--out F.zip]       Write the Teams app package (manifest and icons) for a bot
  migrate --to postgres://… [--schema NAME]     Move the data folder's catalogue into PostgreSQL + pgvector

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
  referent migrate --to postgres://referent:secret@db.internal:5432/referent
`;

export const commandHelp: Record<string, string> = {
  collections: `Usage: referent collections [--json]
       referent collections create <name> [--kind part|person|other]

Lists the collections: kind, whether they are on (person collections start off), image counts and
the chat scopes they are granted to. \`create\` makes an empty collection of a kind (ingest creates
"other" collections on the fly).
`,
  grant: `Usage: referent grant <collection> <platform>:<workspace>[/<channel>]

Lets a chat scope search and act on a collection: slack:T0123 is a whole Slack workspace,
slack:T0123/C0456 one channel; teams:<tenant>/<conversation> likewise. A message reaches only the
collections granted to its workspace or its channel. The local web chat uses REFERENT_WEB_COLLECTIONS.
`,
  revoke: `Usage: referent revoke <collection> <platform>:<workspace>[/<channel>]

Takes a grant back; the next message from that scope no longer sees the collection.
`,
  enable: `Usage: referent enable <collection>

Switches a collection on. Person collections start off: enabling one turns person search on there,
and every query that reaches it is written to the audit log.
`,
  disable: `Usage: referent disable <collection>

Switches a collection off: no chat message reaches it until it is enabled again.
`,
  'slack-manifest': `Usage: referent slack-manifest [--url https://referent.example.com]

Prints the Slack app manifest (JSON) to paste into api.slack.com/apps → Create New App → From an app
manifest. Without --url it is for Socket Mode (set SLACK_APP_TOKEN; no public address needed). With
--url it is for HTTP mode: events, buttons and /referent go to <url>/slack/events.
`,
  'teams-package': `Usage: referent teams-package --app-id ID [--out referent-teams.zip] [--url https://referent.example.com]

Writes the Teams app package: a zip of manifest.json, color.png and outline.png to upload in Teams →
Apps → Manage your apps → Upload an app (or in the Teams admin center). No configuration is read.

  --app-id ID   the Azure Bot's Microsoft App ID (Azure portal → your Azure Bot → Configuration);
                it becomes the app's id and its bot id
  --out FILE    where to write the zip (default referent-teams.zip in the current folder)
  --url URL     Referent's public https address: its host becomes the app's valid domain, and
                its start page the developer, privacy and terms links (placeholders without it)
`,
  audit: `Usage: referent audit [--limit N] [--json]

The audit log of person queries, newest first: when, who, where, which collection, what was asked.
`,
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
  search: `Usage: referent search "<text>" [--image PATH] [--collection NAME]... [--limit N] [--no-refine] [--json]

Ranks the catalogue's images for a description, a photo, or both together. Results are refined
against the entities' references (their photos, descriptions and details) and past verdicts, grouped
by entity (best photo plus how many more) and explained.

  --image PATH        a query photo (alone, or with the text)
  --collection NAME   search only this collection (repeatable)
  --limit N           how many hits (default 10, at most 1000)
  --no-refine         plain cosine similarity, no references
  --json              print {"hits":[{"itemId","score","caption","entity","media",
                      "components":{"initial","entity","feedback","final"},"why","more"}]}
`,
  add: `Usage: referent add <label> --image PATH [--image PATH]... [--text "description"] [--collection NAME]

Adds photos of an entity (a part number, a person label), created when new, with an optional
description that becomes part of its reference. Without --image, adds the description only. A photo
already in the collection is linked to the label when nobody labelled it yet; one that already
shows another entity stays there, and the output says whose it is.
Exit status: 0 taught, 3 some images failed, 4 nothing taught (every photo is another entity's).
  --collection NAME   where the entity lives (default: default)
`,
  describe: `Usage: referent describe <label> "<description>" [--collection NAME]

Adds a description to an entity. Its details ("white cap, pink shoes") are kept one by one, so a
detail only this description mentions still finds the entity.
`,
  show: `Usage: referent show <label> [--collection NAME] [--json]

Shows an entity's photos and descriptions with the weight each has in its fused reference, and its
details.
`,
  forget: `Usage: referent forget <label> [--collection NAME] [--yes]

Forgets an entity: its photos (catalogue, index and media files), descriptions, details and verdicts.
It says what goes and asks first; --yes (-y) forgets without asking (scripts). Exit status 1 when
nothing was forgotten.
`,
  review: `Usage: referent review "<query>" <itemId> confirm|reject [--as LABEL]
       referent review undo <verdictId>

confirm  the image is what the query asked for: links an unlabelled image to its entity (--as LABEL,
         or the entity the search attributed it to) and keeps the query as a description of it
reject   it is not: later queries like this one rank the image lower
undo     reverts a verdict
A verdict changes the very next search.
`,
  eval: `Usage: referent eval <embeddings.jsonl | annotations.json> [--no-refine] [--json]
                     [--split test] [--reference-share 0.5] [--images DIR]

Ranks the gallery for every query, plainly and refined, and prints Rank-1/5/10, mAP and mINP (as
IRRA's rank function defines them) side by side, overall and per query group.

  embeddings.jsonl  {"id","identity","kind":"image"|"text","role":"gallery"|"query"|"reference","vector":[...]}
                    per line, optional "details" (phrase vectors) and "group"; no encoder needed
  annotations.json  a CUHK-PEDES / RSTPReid style array of {"id","file_path"|"img_path","captions","split"},
                    run through the configured encoder; in --split, a seeded --reference-share of the
                    identities get references (their first image and its captions); the captions of
                    the other images are the queries. --images sets the image folder.
`,
  models: `Usage: referent models pull <hub-id> [--variant NAME]
       referent models list

pull  downloads a model (Hugging Face ONNX layout) into the models folder with a progress bar and
      verifies every file. On an air-gapped machine, copy a pulled folder to <models dir>/<owner>/<name>/.
list  shows the models present, their variants and whether they are complete.
`,
  index: `Usage: referent index status | rebuild | reembed | ocr [--all] | faces

status   catalogue, model, index, OCR and face figures
rebuild  rebuild the image index from the vectors in the catalogue (progress bar)
reembed  re-embed every image from its stored original with the configured model (--model),
         then switch the data folder to that model; resumable
ocr      read the text on every image not read yet (labels, part numbers: PaddleOCR, offline),
         with a progress bar; --all reads every image again. \`referent serve\` does the same in the
         background after images are added; this runs it now.
faces    find the faces on every image waiting for them, in person collections with faces on
         (\`referent faces on\`), with a progress bar. \`referent serve\` does the same in the background.
`,
  faces: `Usage: referent faces [--json]
       referent faces on <collection>
       referent faces off <collection> [--yes]
       referent faces unknown [<collection>] [--json]
       referent faces name <group> <label>

Face recognition, per person collection, off until switched on. \`on\` makes a running server find
the faces on the collection's photos in the background (\`referent index faces\` does it now): each
face's box, detection score and descriptor are stored in the catalogue. \`off\` deletes every face
record of the collection at once; it asks on the terminal first, and --yes skips the question.
Without arguments, lists the person collections with their face figures.
\`unknown\` lists the faces that match no labelled person, grouped by person (largest first, with a
sample image and box each); \`name\` links every photo of one group to a label. Both are audited.
`,
  migrate: `Usage: referent migrate --to postgres://user:password@host:5432/database [--schema NAME] [--batch N]

Copies the data folder's catalogue (REFERENT_DATA_DIR/catalog.sqlite: collections, grants, audit,
images, entities, descriptions, every vector, verdicts, OCR readings, the logs) into the PostgreSQL
schema, keeping every id, then reads both sides back and compares each table (rows and a checksum).
The data folder is not changed; the photos stay in its media folder, which PostgreSQL servers share.
Interrupted, it goes on where it stopped when run again. It refuses a schema that holds another
catalogue. Stop the servers that use the data folder first: what they write later is not copied.

  --to URL        the PostgreSQL database (pgvector 0.8 or later)
  --schema NAME   the schema to fill (default REFERENT_DATABASE_SCHEMA, or public)
  --batch N       rows per transaction (default 500)
Exit status: 0 copied and verified, 1 a table differs or the database failed, 2 usage,
130 interrupted (the first Ctrl-C stops after the current batch).

Example:
  referent migrate --to postgres://referent:secret@db.internal:5432/referent --data-dir /srv/referent
`,
  serve: `Usage: referent serve

Starts Referent's HTTP server on HOST:PORT (default 127.0.0.1:3000): the web chat at /, its API
(GET /api/session, POST /api/chat, POST /api/action), GET /api/health,
GET /api/search?q=TEXT[&limit=N&collection=NAME] (audited as web:api where it reaches a person
collection) and GET /media/<id>/thumbnail. With
REFERENT_WEB_TOKEN set, open /?token=<token> once (or send Authorization: Bearer <token>).
`,
};
