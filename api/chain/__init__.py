"""Chain data from the Livepeer subgraph and what is built on it (DESIGN §9): the sync
of winning tickets redeemed on chain, verification of each orchestrator's reports
against them, and whole-network estimates from on-chain fees."""
