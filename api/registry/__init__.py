"""The registry of orchestrators, as the Livepeer subgraph knows them."""
