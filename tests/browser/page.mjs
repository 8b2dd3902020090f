// What the browser test runs in its page: the documented client (explorer-client.mjs)
// through each path the explorer takes. run.mjs calls these through window.lpm.
import { createClient } from "graphql-ws";
import { privateKeyToAccount } from "viem/accounts";

import {
  DASHBOARD,
  NETWORK_UPDATES,
  createExplorerClient,
  errorCode,
} from "./explorer-client.mjs";

const api = new URL(document.documentElement.dataset.api); // http://127.0.0.1:port
const httpUrl = new URL("/graphql", api).toString();
const wsUrl = httpUrl.replace(/^http/, "ws");

let explorer = createExplorerClient({ httpUrl, wsUrl });

async function dashboard() {
  const { data } = await explorer.client.query({ query: DASHBOARD, fetchPolicy: "no-cache" });
  return { role: data.viewer.role, precision: data.network.precision };
}

// The first networkUpdates event, through Apollo's GraphQLWsLink.
function firstUpdate() {
  return new Promise((resolve, reject) => {
    const subscription = explorer.client.subscribe({ query: NETWORK_UPDATES }).subscribe({
      next: ({ data }) => {
        subscription.unsubscribe();
        resolve(data.networkUpdates.precision);
      },
      error: (error) => reject(new Error(`subscription failed: ${error?.code ?? error}`)),
    });
  });
}

// What a graphql-ws client sees of one connection: ack'ed, or closed with which code.
function connect(connectionParams) {
  return new Promise((resolve) => {
    const socket = createClient({ url: wsUrl, connectionParams, retryAttempts: 0, lazy: false });
    socket.on("connected", () => {
      socket.dispose();
      resolve({ connected: true });
    });
    socket.on("closed", (event) => resolve({ connected: false, code: event.code }));
  });
}

window.lpm = {
  dashboard,
  firstUpdate,
  connect,
  async signIn(privateKey) {
    // The key is held by the page, as a wallet would hold it.
    return explorer.signIn(privateKeyToAccount(privateKey));
  },
  // Same site as the API: sign in, then forget the token; the cookie must do.
  async signInCookieOnly(privateKey) {
    const viewer = await explorer.signIn(privateKeyToAccount(privateKey));
    await explorer.useToken(null);
    return viewer;
  },
  async signOut() {
    await explorer.signOut();
  },
  async refusedBearer() {
    await explorer.useToken("lpm_this_is_not_a_token");
    try {
      await dashboard();
      return "answered";
    } catch (error) {
      return errorCode(error);
    } finally {
      explorer = createExplorerClient({ httpUrl, wsUrl });
    }
  },
  async plainFetch() {
    try {
      const response = await fetch(httpUrl, {
        method: "POST",
        credentials: "include",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ network { precision } }" }),
      });
      return `status ${response.status}`;
    } catch (error) {
      return `blocked: ${error.name}`;
    }
  },
};
window.lpmReady = true;
