"""Coverage gaps: where demand comes from and no known orchestrator is near
(``coverageGaps``), and what the map page draws of them."""
