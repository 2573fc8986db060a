// A real OpenID provider for the tests, set up the way GOV.UK One Login is:
// private_key_jwt clients with an RSA key, ES256 id tokens, email only from /userinfo,
// PKCE required, `vtr` accepted, RP-initiated logout.
//
// Usage: node tests/oidc_provider.mjs <port, 0 for any free one>
// with OIDC_TEST_CONFIG='{"client_id": ..., "client_jwks": {"keys": [...]},
//                         "redirect_uris": [...], "post_logout_redirect_uris": [...]}'
// Prints "ready <issuer>" once it is listening. Plain http on 127.0.0.1 only: never for real use.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 0);
const config = JSON.parse(process.env.OIDC_TEST_CONFIG || '{}');

// One Login signs id tokens with ES256, so the provider holds an EC P-256 signing key.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'provider-es256', alg: 'ES256', use: 'sig' };

const server = createServer();

server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: config.client_id,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'RS256',
        jwks: config.client_jwks,
        redirect_uris: config.redirect_uris,
        post_logout_redirect_uris: config.post_logout_redirect_uris,
        id_token_signed_response_alg: 'ES256',
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [signingKey] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
    },
    // true is the default; said out loud because the portal relies on email coming from /userinfo only.
    conformIdTokenClaims: true,
    extraParams: ['vtr'],
    pkce: { required: () => true },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          // A login name starting "unverified" stands for a person whose email is not yet confirmed.
          return { sub: id, email: `${id}@example.test`, email_verified: !id.startsWith('unverified') };
        },
      };
    },
  });
  provider.on('server_error', (_ctx, error) => console.error('server_error', error));
  server.on('request', provider.callback());
  console.log(`ready ${issuer}`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
