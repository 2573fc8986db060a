"""The regulator's side of delivery: a read-only API for its intake systems, its tokens, and webhooks."""
