// The auth module: who is calling. Static bearer tokens (kube-apiserver's --token-auth-file
// format) and the admin token `margay up` writes into its kubeconfig.
export { TokenAuthenticator, parseTokenFile, readTokenFile, bearerToken, type TokenEntry } from './token-file.js';
