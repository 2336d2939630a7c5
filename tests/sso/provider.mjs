// A real OpenID Provider for the LMS's single sign-on tests: panva's oidc-provider (OpenID
// Certified), run by tests/sso/conftest.py on loopback. Its development login and consent forms
// accept any login name, which becomes the `sub`. The test suite steers it through /__test/*:
//   POST /__test/people   {sub: {claims}}      claims the account of `sub` releases
//   POST /__test/tamper   {mode}               the next ID token is re-signed with the provider's
//                                              current key after a change: "aud", "expired", "iss",
//                                              "future" (iat an hour ahead), "nonce", "unknown-key" (signed with a key not published)
//   POST /__test/rotate                        a new signing key replaces the published one
//   GET  /__test/stats                         counters (token requests, errors, JWKS fetches)
import Provider from 'oidc-provider';
import { generateKeyPair, exportJWK, importJWK, CompactSign, decodeJwt, decodeProtectedHeader } from 'jose';

const env = process.env;
const people = {};
const stats = { jwks: 0, tokens: 0, token_errors: [], userinfo: 0, tampered: [] };
let tamper = null;

async function newKey(kid) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  return { jwk, signer: await importJWK(jwk, 'RS256') };
}
const publicPart = ({ kty, n, e, kid, alg, use }) => ({ kty, n, e, kid, alg, use });
let current = await newKey('test-key-1');
let generation = 1;

const provider = new Provider(env.SSO_ISSUER, {
  clients: [{
    client_id: env.SSO_CLIENT_ID, client_secret: env.SSO_CLIENT_SECRET,
    redirect_uris: JSON.parse(env.SSO_REDIRECT_URIS),
    grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [current.jwk] },
  cookies: { keys: ['lms-sso-test-cookies'] },
  claims: { openid: ['sub'], profile: ['name'], phone: ['phone_number', 'phone_number_verified'],
    email: ['email', 'email_verified'] },
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  async findAccount(ctx, sub) {
    return { accountId: sub, async claims() { return { sub, name: `Người dùng ${sub}`, ...(people[sub] || {}) }; } };
  },
});
provider.on('grant.success', () => { stats.tokens += 1; });
provider.on('grant.error', (ctx, err) => { stats.token_errors.push(err.error || err.name); });

async function body(ctx) {
  let raw = '';
  for await (const chunk of ctx.req) raw += chunk;
  return raw ? JSON.parse(raw) : {};
}

provider.use(async (ctx, next) => {
  if (ctx.path.startsWith('/__test/')) {
    ctx.type = 'json';
    if (ctx.path === '/__test/people') { Object.assign(people, await body(ctx)); ctx.body = { ok: true }; return; }
    if (ctx.path === '/__test/tamper') { tamper = (await body(ctx)).mode; ctx.body = { ok: true }; return; }
    if (ctx.path === '/__test/rotate') {
      generation += 1;
      current = await newKey(`test-key-${generation}`);
      ctx.body = { kid: current.jwk.kid };
      return;
    }
    if (ctx.path === '/__test/stats') { ctx.body = stats; return; }
  }
  if (ctx.path === '/jwks') {  // the keys this suite signs with, so that it can rotate them
    stats.jwks += 1;
    ctx.type = 'application/jwk-set+json';
    ctx.body = { keys: [publicPart(current.jwk)] };
    return;
  }
  if (ctx.path === '/me') stats.userinfo += 1;
  await next();
  if (ctx.path === '/token' && ctx.body && typeof ctx.body === 'object' && ctx.body.id_token) {
    const payload = decodeJwt(ctx.body.id_token);
    const header = { ...decodeProtectedHeader(ctx.body.id_token), kid: current.jwk.kid };
    let signer = current.signer;
    const mode = tamper;
    tamper = null;
    if (mode === 'aud') payload.aud = 'another-relying-party';
    if (mode === 'expired') { payload.iat -= 7200; payload.exp = payload.iat + 600; }
    if (mode === 'iss') payload.iss = 'https://idp.example.invalid';
    if (mode === 'future') { payload.iat += 3600; payload.exp += 3600; }
    if (mode === 'nonce') payload.nonce = 'not-the-nonce-the-site-sent';
    if (mode === 'unknown-key') { const stray = await newKey('stray-key'); signer = stray.signer; header.kid = 'stray-key'; }
    if (mode) stats.tampered.push(mode);
    ctx.body.id_token = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader(header).sign(signer);
  }
});

provider.listen(Number(env.SSO_PORT), '127.0.0.1', () => { console.log(`test provider ready at ${env.SSO_ISSUER}`); });
