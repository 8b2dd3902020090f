// lpmetrics from the explorer: Apollo Client 3 over HTTP, graphql-ws for live updates,
// Sign-In with Ethereum through viem. Works on the API's own site (the session
// cookie) and across sites (the session token, held in memory, as a bearer).
import { ApolloClient, HttpLink, InMemoryCache, gql, split } from "@apollo/client/core";
import { setContext } from "@apollo/client/link/context";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";
import { createSiweMessage } from "viem/siwe";

export const REQUEST_NONCE = gql`
  mutation RequestNonce {
    requestNonce { nonce domain uri chainId issuedAt }
  }
`;
export const SIGN_IN = gql`
  mutation SignIn($message: String!, $signature: String!) {
    signIn(message: $message, signature: $signature) { token expiresAt viewer { role address } }
  }
`;
export const DASHBOARD = gql`
  query Dashboard {
    viewer { role address }
    network { asOf currentStreams capacity precision }
  }
`;
export const NETWORK_UPDATES = gql`
  subscription NetworkUpdates {
    networkUpdates { asOf currentStreams capacity precision }
  }
`;

// `extensions.code` of a GraphQL error (Apollo's error, or one from a socket).
export function errorCode(error) {
  const errors = error?.graphQLErrors ?? (Array.isArray(error) ? error : []);
  return errors[0]?.extensions?.code ?? error?.networkError?.result?.errors?.[0]?.extensions?.code;
}

// httpUrl: "https://metrics.example.org/graphql"; wsUrl: "wss://metrics.example.org/graphql".
export function createExplorerClient({ httpUrl, wsUrl }) {
  // The session token lives in memory only (not localStorage: any script on the page
  // could read it there). A reload signs out; the wallet signs in again.
  let token = null;

  // Same site as the API: the HttpOnly session cookie is sent (credentials: include).
  // Across sites browsers drop that cookie, so the token goes in Authorization.
  const http = setContext((_, { headers }) => ({
    headers: token ? { ...headers, authorization: `Bearer ${token}` } : headers,
  })).concat(new HttpLink({ uri: httpUrl, credentials: "include" }));

  // A WebSocket cannot carry Authorization, and across sites no cookie either: the
  // token goes in connection_init's payload. connectionParams is read at every
  // (re)connection, so the socket always opens with the current credential.
  const socket = createClient({
    url: wsUrl,
    connectionParams: () => (token ? { authorization: `Bearer ${token}` } : {}),
    // 4403: the credential was refused (ended, revoked). Retrying cannot help: the
    // subscription gets the close event and the page asks the user to sign in again.
    shouldRetry: (event) => event?.code !== 4403,
  });

  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: split(
      ({ query }) => {
        const definition = getMainDefinition(query);
        return definition.kind === "OperationDefinition" && definition.operation === "subscription";
      },
      new GraphQLWsLink(socket),
      http,
    ),
  });

  function useToken(next) {
    token = next;
    // Reconnect: running subscriptions resubscribe with the new credential.
    socket.terminate();
    return client.resetStore(); // cached answers were for the previous caller
  }

  // signer: anything with `address` and `signMessage({ message })`: a viem account
  // (privateKeyToAccount, toAccount) or wagmi's WalletClient bound to the user's account.
  async function signIn(signer) {
    const { data } = await client.mutate({ mutation: REQUEST_NONCE });
    const nonce = data.requestNonce;
    const message = createSiweMessage({
      domain: nonce.domain, // the service names them: LPM_SIWE_DOMAIN and LPM_SIWE_URI
      uri: nonce.uri,
      chainId: nonce.chainId,
      nonce: nonce.nonce,
      issuedAt: new Date(nonce.issuedAt),
      address: signer.address,
      statement: "Sign in to Livepeer community metrics.",
      version: "1",
    });
    const signature = await signer.signMessage({ message });
    const signed = await client.mutate({ mutation: SIGN_IN, variables: { message, signature } });
    await useToken(signed.data.signIn.token);
    return signed.data.signIn.viewer;
  }

  async function signOut() {
    await client.mutate({ mutation: gql`mutation SignOut { signOut }` });
    await useToken(null);
  }

  return { client, socket, signIn, signOut, useToken };
}
