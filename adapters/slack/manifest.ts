/**
 * The Slack app manifest: what a workspace admin pastes into "Create New App → From an app
 * manifest". `adapters/slack/manifest.json` is this function's Socket Mode output (a test keeps
 * them equal); `referent slack-manifest --url https://…` prints the HTTP-mode variant.
 */
import manifestJson from './manifest.json' with { type: 'json' };
import { SLACK_EVENTS_PATH } from './slack-adapter.js';

export type SlackManifest = typeof manifestJson;

/** Socket Mode without a URL; HTTP mode with Referent's public base URL (events, buttons and /referent all go to /slack/events). */
export function slackManifest(publicUrl?: string): SlackManifest {
  const manifest = structuredClone(manifestJson);
  if (!publicUrl) return manifest;
  const url = `${publicUrl.replace(/\/+$/, '')}${SLACK_EVENTS_PATH}`;
  return {
    ...manifest,
    features: { ...manifest.features, slash_commands: manifest.features.slash_commands.map((c) => ({ ...c, url })) },
    settings: {
      ...manifest.settings,
      event_subscriptions: { ...manifest.settings.event_subscriptions, request_url: url },
      interactivity: { ...manifest.settings.interactivity, request_url: url },
      socket_mode_enabled: false,
    },
  } as SlackManifest;
}
