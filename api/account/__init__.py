"""What a signed-in orchestrator manages about itself: its nodes' locations and the erasure
of its data (what it shares is ``api.ingest.sharing``)."""
