// The auth module: who is calling. Static bearer tokens (kube-apiserver's --token-auth-file
// format), the admin token `margay up` writes into its kubeconfig, tokens the server issues
// (stored hashed, with expiry and revocation), client certificates, and the TLS material of `margay up`.
export { TokenAuthenticator, parseTokenFile, readTokenFile, bearerToken, type TokenEntry } from './token-file.js';
export { IssuedTokens, ISSUED_TOKEN_PREFIX, MAX_TOKEN_TTL_MS, isIssuedTokenFormat, type IssuedTokenRecord, type IssueRequest } from './issued-tokens.js';
export { tokenApi, tokenObject, parseTokenRequest, TOKEN_GROUP } from './token-api.js';
export { ensureServerTls, issueClientCertificate, serverNames, type TlsMaterial } from './pki.js';
