// A real OpenID provider for the tests, set up the way GOV.UK One Login is:
// private_key_jwt clients with an RSA key, ES256 id tokens, email only from /userinfo,
// PKCE required, `vtr` accepted and `vot` in the id token, RP-initiated and back-channel logout.
//
// Usage: node tests/oidc_provider.mjs <port, 0 for any free one>
// with OIDC_TEST_CONFIG='{"client_id": ..., "client_jwks": {"keys": [...]},
//                         "redirect_uris": [...], "post_logout_redirect_uris": [...],
//                         "backchannel_logout_uri": "..." (where it posts logout tokens),
//                         "issuer_suffix": "/" or "" (One Login publishes its issuer with a trailing "/"),
//                         "signing_jwk": {...} (optional: the tests sign logout tokens with it)}'
// Optional, for a second instance standing for the regulator's own directory (tests/test_staff_sign_in.py):
//   "client_secret": a client_secret_basic client instead of private_key_jwt;
//   "conform_id_token_claims": false puts the scopes' claims in the id token, as Entra ID does;
//   "claims_file": a JSON file {login name: {claim: value}}, read at every sign-in, so a test can change
//                  someone's groups between two sign-ins.
// Prints "ready <issuer>" once it is listening. Plain http on 127.0.0.1 only: never for real use.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 0);
const config = JSON.parse(process.env.OIDC_TEST_CONFIG || '{}');

// One Login signs id tokens with ES256, so the provider holds an EC P-256 signing key.
const signingKey = config.signing_jwk || {
  ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
  kid: 'provider-es256',
  alg: 'ES256',
  use: 'sig',
};

const server = createServer();

server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}${config.issuer_suffix || ''}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: config.client_id,
        ...(config.client_secret
          ? { client_secret: config.client_secret, token_endpoint_auth_method: 'client_secret_basic' }
          : { token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'RS256', jwks: config.client_jwks }),
        redirect_uris: config.redirect_uris,
        post_logout_redirect_uris: config.post_logout_redirect_uris,
        backchannel_logout_uri: config.backchannel_logout_uri,
        id_token_signed_response_alg: 'ES256',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [signingKey] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    // true is the default; said out loud because the portal relies on email coming from /userinfo only.
    conformIdTokenClaims: config.conform_id_token_claims ?? true,
    extraParams: ['vtr'],
    pkce: { required: () => true },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      backchannelLogout: { enabled: true },
    },
    // The provider refuses to post to special-use addresses (SSRF protection); the test portal is on
    // 127.0.0.1, so its back-channel logout posts go out without that check. Tests only.
    fetch(url, options) {
      const { dispatcher, ...rest } = options;
      return fetch(url, rest);
    },
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          // A login name starting "unverified" stands for a person whose email is not yet confirmed.
          const extra = config.claims_file ? JSON.parse(readFileSync(config.claims_file, 'utf8'))[id] || {} : {};
          return { sub: id, email: `${id}@example.test`, email_verified: !id.startsWith('unverified'), ...extra };
        },
      };
    },
  });
  // One Login names the level of authentication it achieved in the id token's `vot`. A login name starting
  // "low-" stands for a person who signed in with a password alone ("Cl"); everyone else used a second
  // factor too ("Cl.Cm").
  const issue = provider.IdToken.prototype.issue;
  provider.IdToken.prototype.issue = function issueWithVot(options = {}) {
    if (options.use === 'idtoken') this.set('vot', String(this.available.sub).startsWith('low-') ? 'Cl' : 'Cl.Cm');
    return issue.call(this, options);
  };
  provider.on('server_error', (_ctx, error) => console.error('server_error', error));
  provider.on('backchannel.error', (_ctx, error) => console.error('backchannel.error', error));
  server.on('request', provider.callback());
  console.log(`ready ${issuer}`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
