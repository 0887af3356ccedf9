// A real OpenID Provider for Curfew's end-to-end tests: the certified `oidc-provider`
// package (installed by `cargo xtask test` into target/oidc-provider/, see
// xtask/src/oidc_provider.rs) with one client, `curfew`, and three people. Nothing here
// speaks the protocol itself: discovery, the authorization code flow with PKCE, ID tokens,
// RP-initiated logout and back-channel logout are all the package's own; only the ID
// tokens a test asks to be spoiled (below) are made here.
//
// Its login page is this file's (one field: the account id; no password; Cancel answers
// the client `access_denied`), so a test types `maria` and is back at the client at once:
// consent is granted up front for `curfew`.
// Its pages load nothing from other hosts.
//
// Environment:
//   OIDC_PROVIDER_DIR             the folder whose node_modules holds oidc-provider
//   OIDC_PORT                     the port on 127.0.0.1 (0 or unset: any free one)
//   OIDC_CLIENT_SECRET            the `curfew` client's secret
//   OIDC_REDIRECT_URIS            comma-separated
//   OIDC_POST_LOGOUT_REDIRECT_URIS  comma-separated
//   OIDC_BACKCHANNEL_LOGOUT_URI   where logout tokens are posted
//
// The first line on standard output is `oidc-provider listening on http://127.0.0.1:PORT`
// (the issuer). Every later line is one event as JSON (a sign-in, each redirect back to
// the client with its code and state, a back-channel logout and its outcome).
//
// Besides the provider's own endpoints, two for the tests:
// - `POST /testing/end-session` with the form `account=ID` ends that person's sessions at
//   the provider as its own logout page would (a signed logout token to each client's
//   back-channel logout URI), and answers 200 with the number of sessions ended, or 502
//   if a client refused the logout token.
// - `POST /testing/spoil-next-id-token` with the form `how=MODE` makes the token
//   endpoint's next answer carry a bad ID token, as a broken or hostile provider would:
//   `tampered` (a claim changed after signing), `unsigned` (alg none), `audience` (signed
//   for another client), `expired`, `nonce` (not the one sent), `issuer` (another one).
//   The others are signed with the provider's real key.

import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) {
    console.error(`provider.mjs: set ${name}`);
    process.exit(2);
  }
  return value;
};
const list = (name) => env(name).split(',').map((s) => s.trim()).filter(Boolean);

const dir = env('OIDC_PROVIDER_DIR');
const load = async (name) => {
  const require = createRequire(join(dir, 'package.json'));
  return import(pathToFileURL(require.resolve(name)).href);
};
const { default: Provider } = await load('oidc-provider');
const jose = await load('jose');

// The people of the provider. `nobody` is not provisioned in Curfew.
const ACCOUNTS = {
  maria: {
    email: 'maria@example.org', email_verified: true, name: 'Maria Chen', groups: ['staff'],
  },
  olga: {
    email: 'olga@example.org', email_verified: true, name: 'Olga Berg', groups: ['curfew-admins'],
  },
  nobody: {
    email: 'nobody@example.org', email_verified: true, name: 'No Body', groups: [],
  },
};

const SCOPE = 'openid email profile groups';
const log = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>${escape(title)}</title><style>
body{font-family:sans-serif;background:#eef1f5;margin:0;padding:48px}
main{max-width:340px;margin:auto;background:#fff;padding:24px 32px;border-radius:6px;box-shadow:0 1px 3px #0003}
h1{font-size:1.2em;font-weight:600}label,input,button{display:block;width:100%;box-sizing:border-box;margin:8px 0}
input{padding:8px}button{padding:10px;background:#5b3cc4;color:#fff;border:0;border-radius:4px;font-weight:600}
button.secondary{background:#888}.error{color:#b00020}
</style></head><body><main><p>Test IdP</p>${body}</main></body></html>`;

// A fresh signing key each run (RS256, as most providers sign).
const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await jose.exportJWK(privateKey)), kid: `test-${Date.now()}`, use: 'sig', alg: 'RS256' };

// Every live session at the provider, for /testing/end-session.
const sessions = new Map();

const server = createServer();
await new Promise((resolve) => {
  server.listen(Number(env('OIDC_PORT', '0')), '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'curfew',
    client_secret: env('OIDC_CLIENT_SECRET'),
    redirect_uris: list('OIDC_REDIRECT_URIS'),
    post_logout_redirect_uris: list('OIDC_POST_LOGOUT_REDIRECT_URIS'),
    backchannel_logout_uri: env('OIDC_BACKCHANNEL_LOGOUT_URI'),
    backchannel_logout_session_required: true,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [jose.base64url.encode(crypto.getRandomValues(new Uint8Array(32)))] },
  pkce: { methods: ['S256'], required: () => true },
  ttl: {
    AccessToken: 3600, AuthorizationCode: 60, Grant: 3600, IdToken: 3600, Interaction: 600, Session: 3600,
  },
  scopes: SCOPE.split(' '),
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // The scopes' claims in the ID token too (as Entra and Keycloak do), not only at
  // userinfo.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page('Sign out', `<h1>Sign out of Test IdP?</h1>${form}
<button id="op-logout-yes" type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button id="op-logout-no" class="secondary" type="submit" form="op.logoutForm">No, stay signed in</button>`);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('Signed out', '<h1 id="op-signed-out">You are signed out of Test IdP.</h1>');
      },
    },
  },
  findAccount: async (ctx, id) => {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return {
      accountId: id,
      claims: async () => ({ sub: id, preferred_username: id, ...account }),
    };
  },
  // Consent for the curfew client is given up front: sign in, then straight back.
  loadExistingGrant: async (ctx) => {
    const { client, session, result } = ctx.oidc;
    const grantId = result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (grantId) {
      const grant = await ctx.oidc.provider.Grant.find(grantId);
      if (grant) return grant;
    }
    if (client.clientId !== 'curfew') return undefined;
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope(SCOPE);
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Error', `<h1 id="op-error">${escape(out.error)}</h1><p>${escape(out.error_description ?? '')}</p>`);
  },
});

provider.on('session.saved', (session) => {
  if (session.accountId) sessions.set(session.jti, session.accountId);
});
provider.on('session.destroyed', (session) => sessions.delete(session.jti));
provider.on('authorization.success', (ctx) => log('authorization.success', { account: ctx.oidc.session?.accountId }));
provider.on('grant.success', (ctx) => log('grant.success', { client: ctx.oidc.client?.clientId }));
provider.on('end_session.success', () => log('end_session.success'));
provider.on('backchannel.success', (ctx, client, account, sid) => log('backchannel.success', { client: client.clientId, account, sid }));
provider.on('backchannel.error', (ctx, err, client, account, sid) => log('backchannel.error', {
  client: client.clientId, account, sid, error: err.message,
}));
for (const name of ['server_error', 'grant.error', 'authorization.error', 'end_session.error', 'userinfo.error']) {
  provider.on(name, (ctx, err) => log(name, { error: err.message, description: err.error_description }));
}

// How the next ID token is spoiled (once), if at all.
let spoil = null;
const SPOILERS = {
  tampered: async (token) => {
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(new TextDecoder().decode(jose.base64url.decode(payload)));
    const changed = jose.base64url.encode(JSON.stringify({ ...claims, sub: 'olga', email: 'olga@example.org' }));
    return `${header}.${changed}.${signature}`;
  },
  unsigned: async (token) => {
    const claims = jose.decodeJwt(token);
    return new jose.UnsecuredJWT(claims).encode();
  },
  audience: (token) => resign(token, { aud: 'another-client' }),
  expired: (token) => {
    const now = Math.floor(Date.now() / 1000);
    return resign(token, { iat: now - 7200, exp: now - 3600 });
  },
  nonce: (token) => resign(token, { nonce: 'not-the-nonce-sent' }),
  issuer: (token) => resign(token, { iss: 'http://127.0.0.1:9' }),
};
const resign = (token, changes) => new jose.SignJWT({ ...jose.decodeJwt(token), ...changes })
  .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid })
  .sign(privateKey);

provider.use(async (ctx, next) => {
  await next();
  if (spoil && ctx.path === '/token' && ctx.status === 200 && ctx.body?.id_token) {
    const how = spoil;
    spoil = null;
    ctx.body = { ...ctx.body, id_token: await SPOILERS[how](ctx.body.id_token) };
    log('spoiled', { how });
  }
});

// Every redirect back to the client, with its code and state: a test replays one.
provider.use(async (ctx, next) => {
  await next();
  const location = ctx.response.get('location');
  if (location && list('OIDC_REDIRECT_URIS').some((uri) => location.startsWith(`${uri}?`))) {
    log('redirect', { location });
  }
});

const readForm = async (req) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
};

const send = (res, status, html, headers = {}) => {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
  res.end(html);
};

// The login page: one field, the account id.
async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Error', '<h1>Wrong interaction</h1>'));
  const { prompt } = details;
  if (req.method === 'POST' && action === 'login') {
    const account = (await readForm(req)).get('login')?.trim() ?? '';
    if (!ACCOUNTS[account]) {
      return send(res, 200, loginPage(uid, `No account ${account} at Test IdP.`));
    }
    log('login', { account });
    return provider.interactionFinished(req, res, { login: { accountId: account } }, { mergeWithLastSubmission: false });
  }
  if (req.method === 'POST' && action === 'cancel') {
    log('cancel');
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'The person cancelled the sign-in.',
    }, { mergeWithLastSubmission: false });
  }
  if (prompt.name === 'login') return send(res, 200, loginPage(uid));
  // Consent is granted up front (loadExistingGrant); anything else is this file's bug.
  return send(res, 500, page('Error', `<h1 id="op-error">Unexpected prompt ${escape(prompt.name)}</h1>`));
}

function loginPage(uid, error) {
  return page('Sign in to Test IdP', `<h1>Sign in to Test IdP</h1>
${error ? `<p class="error" id="op-login-error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login" autocomplete="off">
<label for="op-login">Account</label><input id="op-login" name="login" autofocus required>
<button id="op-login-submit" type="submit">Sign in</button></form>
<form method="post" action="/interaction/${escape(uid)}/cancel">
<button id="op-login-cancel" class="secondary" type="submit">Cancel</button></form>`);
}

async function endSessions(req, res) {
  const account = (await readForm(req)).get('account');
  let ended = 0;
  const failed = [];
  for (const [jti, accountId] of sessions) {
    if (accountId !== account) continue;
    const session = await provider.Session.find(jti);
    if (!session) continue;
    for (const clientId of Object.keys(session.authorizations || {})) {
      const client = await provider.Client.find(clientId);
      if (!client?.backchannelLogoutUri) continue;
      const sid = session.sidFor(clientId);
      try {
        await client.backchannelLogout(accountId, sid);
        log('backchannel.success', { client: clientId, account, sid, via: 'testing' });
      } catch (err) {
        log('backchannel.error', { client: clientId, account, sid, error: err.message, via: 'testing' });
        failed.push(`${clientId}: ${err.message}`);
      }
    }
    await session.destroy();
    ended += 1;
  }
  res.writeHead(failed.length ? 502 : 200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ended, failed }));
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  const { pathname } = new URL(req.url, issuer);
  try {
    const match = pathname.match(/^\/interaction\/([^/]+)(?:\/(login|cancel))?$/);
    if (match) return await interaction(req, res, match[1], match[2]);
    if (pathname === '/testing/end-session' && req.method === 'POST') return await endSessions(req, res);
    if (pathname === '/testing/spoil-next-id-token' && req.method === 'POST') {
      const how = (await readForm(req)).get('how');
      if (!SPOILERS[how]) return send(res, 400, `spoil how? one of ${Object.keys(SPOILERS).join(', ')}`);
      spoil = how;
      res.writeHead(204);
      return res.end();
    }
    return callback(req, res);
  } catch (err) {
    log('error', { path: pathname, error: err.message });
    if (!res.headersSent) send(res, 500, page('Error', `<h1 id="op-error">${escape(err.message)}</h1>`));
  }
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(`oidc-provider listening on ${issuer}`);
