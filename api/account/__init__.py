"""What a signed-in orchestrator manages about itself: its nodes' locations, what it
shares, and the erasure of its data."""
