// The lpmetrics playground: GraphiQL (vendored, see api/assets) on this service's own
// /graphql, HTTP for queries and mutations, graphql-transport-ws for subscriptions.
// Signed in (the sign-in tab), the session cookie counts here: the page is on the
// service's own origin. A bearer token goes in the Headers tab; it is sent on the
// WebSocket's connection_init too.
(function () {
  "use strict";
  var url = new URL("/graphql", window.location.href);
  var socketUrl = new URL(url);
  socketUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";

  var fetcher = GraphiQL.createFetcher({
    url: url.toString(),
    subscriptionUrl: socketUrl.toString(),
  });

  var examples = JSON.parse(document.getElementById("lpm-examples").textContent);

  function Playground() {
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultTabs: examples,
      defaultEditorToolsVisibility: true,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(Playground),
  );
})();
