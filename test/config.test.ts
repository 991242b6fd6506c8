import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configVariables, DEFAULT_MODEL, parseConfig } from '../src/config.js';
import { ErrorCode, ReferentError } from '../src/errors.js';

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    const c = parseConfig({ env: {}, cwd: '/srv/referent' });
    expect(c.dataDir).toBe('/srv/referent/index-data');
    expect(c.modelsDir).toBe('/srv/referent/models');
    expect(c.model).toBe(DEFAULT_MODEL);
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(3000);
    expect(c.offline).toBe(false);
    expect(c.hnsw).toEqual({ m: 16, efConstruction: 200, efSearch: 64 });
  });

  it('lets flags win over the environment, and the environment win over .env', () => {
    const c = parseConfig({
      env: { PORT: '8080', REFERENT_MODEL: 'env/model' },
      dotenv: 'PORT=9000\nHOST=0.0.0.0\nREFERENT_MODEL=file/model\n',
      overrides: { REFERENT_MODEL: './folder' },
      cwd: '/x',
    });
    expect(c.port).toBe(8080);
    expect(c.host).toBe('0.0.0.0');
    expect(c.model).toBe('./folder');
  });

  it('treats an empty variable as unset', () => {
    expect(parseConfig({ env: { PORT: '' } }).port).toBe(3000);
  });

  it('reports every bad variable at once', () => {
    let error: unknown;
    try {
      parseConfig({ env: { PORT: 'abc', REFERENT_OFFLINE: 'maybe', REFERENT_HUB_URL: 'not a url', REFERENT_BATCH_SIZE: '0' } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ReferentError);
    const e = error as ReferentError;
    expect(e.code).toBe(ErrorCode.ConfigInvalid);
    const problems = (e.details.problems as string[]).map((p) => p.split(':')[0]);
    expect(problems.sort()).toEqual(['PORT', 'REFERENT_BATCH_SIZE', 'REFERENT_HUB_URL', 'REFERENT_OFFLINE']);
  });

  it('resolves relative folders against cwd and keeps absolute ones', () => {
    const c = parseConfig({ env: { REFERENT_DATA_DIR: 'data', REFERENT_MODELS_DIR: '/opt/models' }, cwd: '/home/a' });
    expect(c.dataDir).toBe(path.resolve('/home/a/data'));
    expect(c.modelsDir).toBe('/opt/models');
  });

  it('documents every variable', () => {
    for (const [name, [, , description]] of Object.entries(configVariables)) {
      expect(description.length, name).toBeGreaterThan(10);
    }
  });

  it('turns Slack on with a bot token: HTTP mode with a signing secret, Socket Mode with an app token', () => {
    expect(parseConfig({ env: {} }).slack).toBeUndefined();
    const http = parseConfig({ env: { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'secret-123', SLACK_API_URL: 'http://127.0.0.1:9' } }).slack;
    expect(http).toEqual({ botToken: 'xoxb-1', signingSecret: 'secret-123', apiUrl: 'http://127.0.0.1:9/api/' });
    const socket = parseConfig({ env: { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' } }).slack;
    expect(socket).toEqual({ botToken: 'xoxb-1', appToken: 'xapp-1', apiUrl: 'https://slack.com/api/' });
  });

  it('reports Slack settings that do not go together with the other problems, and never echoes a secret', () => {
    const problemsOf = (env: Record<string, string>) => {
      try {
        parseConfig({ env });
      } catch (err) {
        return (err as ReferentError).details.problems as string[];
      }
      return [];
    };
    expect(problemsOf({ SLACK_BOT_TOKEN: 'xoxb-1' }).map((p) => p.split(':')[0])).toEqual(['SLACK_SIGNING_SECRET']);
    expect(problemsOf({ SLACK_SIGNING_SECRET: 'secret-123', PORT: 'x' }).map((p) => p.split(':')[0]).sort()).toEqual(['PORT', 'SLACK_SIGNING_SECRET']);
    const leaked = problemsOf({ SLACK_BOT_TOKEN: 'xoxp-very-secret-user-token', SLACK_SIGNING_SECRET: 'secret-123' });
    expect(leaked.map((p) => p.split(':')[0])).toEqual(['SLACK_BOT_TOKEN']);
    expect(leaked.join(' ')).not.toContain('very-secret');
  });

  it('runs Teams in local mode without an app id, and needs the credentials that go with an app type', () => {
    expect(parseConfig({ env: {} }).teams).toEqual({ appType: 'MultiTenant' });
    const single = parseConfig({ env: { MICROSOFT_APP_ID: 'app', MICROSOFT_APP_PASSWORD: 'pw', MICROSOFT_APP_TYPE: 'SingleTenant', MICROSOFT_APP_TENANT_ID: 't' } }).teams;
    expect(single).toEqual({ appId: 'app', appPassword: 'pw', appType: 'SingleTenant', tenantId: 't' });
    const problems = (env: Record<string, string>) => {
      try {
        parseConfig({ env });
        return [];
      } catch (err) {
        return ((err as ReferentError).details.problems as string[]).map((p) => p.split(':')[0]);
      }
    };
    expect(problems({ MICROSOFT_APP_ID: 'app' })).toEqual(['MICROSOFT_APP_PASSWORD']);
    expect(problems({ MICROSOFT_APP_ID: 'app', MICROSOFT_APP_TYPE: 'UserAssignedMSI' })).toEqual(['MICROSOFT_APP_TENANT_ID']);
    expect(problems({ MICROSOFT_APP_PASSWORD: 'pw' })).toEqual(['MICROSOFT_APP_PASSWORD']);
  });
});
